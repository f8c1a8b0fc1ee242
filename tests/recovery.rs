//! Binder stops between writing an order to the journal and hearing back from the broker;
//! after a restart every such order is resolved exactly once by its orderRef and ids.

mod auth_common;
mod sim_support;
mod support;

use std::time::Duration;

use app::domain::BrokerState;
use app::domain::order::{Pricing, Side, TimeInForce};
use binder::journal::orders::NewOrder;
use serde_json::Value;
use sim_support::Sim;
use support::TestApp;

fn new_order(client_order_id: &str, symbol: &str) -> NewOrder {
    NewOrder {
        client_order_id: client_order_id.to_owned(),
        account: "DU1234567".to_owned(),
        symbol: symbol.to_owned(),
        con_id: None,
        side: Side::Buy,
        qty: rust_decimal::Decimal::from(2),
        pricing: Pricing::Market,
        time_in_force: TimeInForce::Day,
        outside_rth: false,
        broker_client_id: 1,
        order_class: "simple",
        oca_group: None,
    }
}

async fn start(database: &str, sim: &Sim) -> (TestApp, String) {
    let port = sim.addr.port().to_string();
    let flags = [
        "--broker",
        "gateway",
        "--ib-gateway-host",
        "127.0.0.1",
        "--ib-gateway-port",
        port.as_str(),
        "--ib-client-id",
        "1",
        "--admin-password",
        auth_common::ADMIN_PASSWORD,
        "--jwt-secret",
        auth_common::JWT_SECRET,
    ];
    let app = TestApp::start_on(database, &flags).await;
    let mut watch = app.running_state.desk.watch_broker();
    tokio::time::timeout(
        Duration::from_secs(15),
        watch.wait_for(|s| *s == BrokerState::Ready),
    )
    .await
    .expect("ready after reconciling")
    .expect("alive");
    let token = auth_common::admin_token(&app).await;
    (app, token)
}

#[tokio::test]
async fn orders_caught_between_journal_and_broker_are_resolved_exactly_once() {
    let database = support::fresh_database_url();
    let sim = Sim::start().await;
    let pool = binder::journal::open(&database).await.expect("journal");
    // Crash before sending: journaled, never reached the broker.
    let unsent = binder::journal::orders::insert_new(&pool, &new_order("unsent-1", "AAPL"))
        .await
        .expect("journaled");
    // Crash after sending: the broker has it (and fills it) but Binder never heard back.
    let sent = binder::journal::orders::insert_new(&pool, &new_order("sent-1", "MSFT"))
        .await
        .expect("journaled");
    pool.close().await;
    {
        let client = sim.connect(1).await;
        let contract = ibapi::contracts::Contract::stock("MSFT").build();
        let order = ibapi::orders::Order {
            action: ibapi::orders::Action::Buy,
            total_quantity: 2.0,
            order_type: "MKT".to_owned(),
            order_ref: "sent-1".to_owned(),
            transmit: true,
            ..ibapi::orders::Order::default()
        };
        client
            .submit_order(sent.broker_order_id, &contract, &order)
            .await
            .expect("sent");
        tokio::time::sleep(Duration::from_millis(300)).await;
        client.disconnect().await;
    }

    for round in 0..2 {
        let (app, token) = start(&database, &sim).await;
        let get = |path: String| {
            let (app, token) = (&app, &token);
            async move {
                let res = auth_common::get(app, &path, Some(token)).await;
                assert_eq!(res.status(), 200, "{path}");
                res.json::<Value>().await.expect("json")
            }
        };
        let unsent_now = get(format!("/api/v1/orders/{}", unsent.id)).await;
        assert_eq!(
            unsent_now["status"], "rejected",
            "round {round}: {unsent_now}"
        );
        assert!(
            unsent_now["reject_reason"]
                .as_str()
                .is_some_and(|r| r.contains("never reached the broker"))
        );
        let sent_now = get(format!("/api/v1/orders/{}", sent.id)).await;
        assert_eq!(sent_now["status"], "filled", "round {round}: {sent_now}");
        assert_eq!(sent_now["filled_qty"], "2");
        let fills = get(format!("/api/v1/fills?order_id={}", sent.id)).await;
        assert_eq!(
            fills.as_array().map(Vec::len),
            Some(1),
            "exactly once, round {round}: {fills}"
        );
        let all = get("/api/v1/orders?status=all".to_owned()).await;
        assert_eq!(
            all.as_array().map(Vec::len),
            Some(2),
            "no duplicate rows, round {round}: {all}"
        );
        app.stop().await;
    }
    sim.stop().await;
    support::drop_database(&database).await;
}

//! The broker link against the simulator over TCP: reconnects, reconciliation, connectivity
//! notices, pacing, the maintenance window, and order ids that survive restarts.

mod auth_common;
mod rig;
mod sim_support;
mod support;

use std::time::{Duration, Instant};

use app::domain::BrokerState;
use rig::{QuoteStream, Rig, bid};
use serde_json::{Value, json};
use sim_support::Sim;
use support::TestApp;

#[tokio::test]
async fn dropped_connections_reconnect_reconcile_and_become_ready() {
    let sim = Sim::start().await;
    let rig = Rig::start(&sim, &[]).await;
    rig.wait("ready", 15, |s| s == BrokerState::Ready).await;

    let mut states = rig.app.running_state.desk.watch_broker();
    sim.post("/drop", json!({})).await;
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            states.changed().await.expect("link alive");
            let s = *states.borrow_and_update();
            seen.push(s);
            if s == BrokerState::Ready {
                break;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("never ready again; saw {seen:?}"));
    assert!(seen.contains(&BrokerState::Disconnected), "{seen:?}");
    assert!(
        seen.contains(&BrokerState::Reconciling),
        "reconciles before ready: {seen:?}"
    );
    assert!(rig.metric("ib_reconnects_total").await >= 1.0);
    let health: Value = auth_common::get(&rig.app, "/health", Some(&rig.trader))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(health["broker_state"], "ready", "{health}");
    rig.app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn a_daily_restart_is_survived_with_backoff() {
    let sim = Sim::start().await;
    let rig = Rig::start(&sim, &[]).await;
    rig.wait("ready", 15, |s| s == BrokerState::Ready).await;
    sim.post("/restart", json!({ "seconds": 3 })).await;
    rig.wait("disconnected", 10, |s| s != BrokerState::Ready)
        .await;
    let (status, body) = rig
        .place(json!({"symbol": "AAPL", "side": "buy", "qty": "1", "type": "market"}))
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error_code"], "BROKER_NOT_READY");
    let took = rig
        .wait("ready again", 40, |s| s == BrokerState::Ready)
        .await;
    assert!(
        took >= Duration::from_millis(2500),
        "not before the gateway is back: {took:?}"
    );
    rig.app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn connectivity_notices_move_the_state_and_health() {
    let sim = Sim::start().await;
    let rig = Rig::start(&sim, &[]).await;
    rig.wait("ready", 15, |s| s == BrokerState::Ready).await;
    for restore in [1101, 1102] {
        let mut states = rig.app.running_state.desk.watch_broker();
        let request = sim.post(
            "/connectivity",
            json!({ "restore": restore, "after_ms": 1500 }),
        );
        let observe = async {
            tokio::time::timeout(
                Duration::from_secs(5),
                states.wait_for(|s| *s == BrokerState::Degraded),
            )
            .await
            .expect("1100 degrades the link")
            .expect("alive");
            let health: Value = auth_common::get(&rig.app, "/health", Some(&rig.trader))
                .await
                .json()
                .await
                .expect("json");
            assert_eq!(health["broker_state"], "degraded", "{health}");
            assert_eq!(health["status"], "degraded");
        };
        tokio::join!(request, observe);
        rig.wait("ready after the restore notice", 5, |s| {
            s == BrokerState::Ready
        })
        .await;
    }
    rig.app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn a_fill_while_disconnected_is_recorded_exactly_once() {
    let sim = Sim::start().await;
    let rig = Rig::start(&sim, &[]).await;
    rig.wait("ready", 15, |s| s == BrokerState::Ready).await;
    let limit = bid(&sim, "MSFT").await - rust_decimal::Decimal::from(5);
    let (status, order) = rig
        .place(json!({"symbol": "MSFT", "side": "buy", "qty": "7", "type": "limit", "limit_price": limit.to_string(), "time_in_force": "gtc"}))
        .await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "accepted");
    let id = order["id"].as_str().expect("id").to_owned();

    // The gateway restarts; the order fills while Binder cannot hear it.
    sim.post("/restart", json!({ "seconds": 2 })).await;
    rig.wait("disconnected", 10, |s| s == BrokerState::Disconnected)
        .await;
    sim.set_price("MSFT", &(limit - rust_decimal::Decimal::ONE).to_string())
        .await;
    rig.wait("ready again", 40, |s| s == BrokerState::Ready)
        .await;

    let order = rig.get(&format!("/api/v1/orders/{id}")).await;
    let all_fills = rig.get("/api/v1/fills").await;
    assert_eq!(order["status"], "filled", "{order}");
    assert_eq!(order["filled_qty"], "7", "{order} {all_fills}");
    let fills = rig.get(&format!("/api/v1/fills?order_id={id}")).await;
    assert_eq!(fills.as_array().map(Vec::len), Some(1), "{fills}");

    // Another reconnect replays the same execution: still one fill.
    sim.post("/drop", json!({})).await;
    rig.wait("disconnected", 10, |s| s != BrokerState::Ready)
        .await;
    rig.wait("ready again", 20, |s| s == BrokerState::Ready)
        .await;
    let fills = rig.get(&format!("/api/v1/fills?order_id={id}")).await;
    assert_eq!(
        fills.as_array().map(Vec::len),
        Some(1),
        "exactly once: {fills}"
    );
    assert!(
        fills[0]["commission"].is_string(),
        "commission recorded: {fills}"
    );

    let positions = rig.get("/api/v1/positions").await;
    let msft = positions
        .as_array()
        .expect("array")
        .iter()
        .find(|p| p["symbol"] == "MSFT")
        .cloned();
    assert_eq!(
        msft.map(|p| p["qty"].clone()),
        Some(json!("7")),
        "{positions}"
    );
    rig.app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn orders_placed_by_another_client_are_adopted() {
    let sim = Sim::start().await;
    let rig = Rig::start(&sim, &[]).await;
    rig.wait("ready", 15, |s| s == BrokerState::Ready).await;

    let other = sim.connect(77).await;
    let contract = ibapi::contracts::Contract::stock("AAPL").build();
    let price = (bid(&sim, "AAPL").await - rust_decimal::Decimal::from(10)).to_string();
    let order = ibapi::orders::Order {
        action: ibapi::orders::Action::Buy,
        total_quantity: 3.0,
        order_type: "LMT".to_owned(),
        limit_price: Some(price.parse().expect("price")),
        tif: ibapi::orders::TimeInForce::GoodTillCanceled,
        transmit: true,
        ..ibapi::orders::Order::default()
    };
    let id = other.next_order_id();
    other
        .submit_order(id, &contract, &order)
        .await
        .expect("placed by another client");
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Reconciliation after a reconnect asks for the open orders of every client.
    sim.post("/drop", json!({})).await;
    rig.wait("disconnected", 10, |s| s != BrokerState::Ready)
        .await;
    rig.wait("ready again", 20, |s| s == BrokerState::Ready)
        .await;
    let orders = rig.get("/api/v1/orders?status=open").await;
    let adopted: Vec<&Value> = orders
        .as_array()
        .expect("array")
        .iter()
        .filter(|o| o["external"] == true)
        .collect();
    assert_eq!(adopted.len(), 1, "{orders}");
    assert_eq!(adopted[0]["symbol"], "AAPL");
    assert_eq!(adopted[0]["qty"], "3");
    assert_eq!(adopted[0]["status"], "accepted");
    rig.app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn a_burst_is_paced_below_ibs_limit_and_overflow_gets_429() {
    let sim = Sim::start().await;
    let rig = Rig::start(&sim, &["--ib-pacing-queue", "60"]).await;
    rig.wait("ready", 15, |s| s == BrokerState::Ready).await;
    let started = Instant::now();
    let requests = (0..500).map(|_| auth_common::get(&rig.app, "/api/v1/clock", Some(&rig.trader)));
    let responses = futures::future::join_all(requests).await;
    let took = started.elapsed();
    let mut ok = 0;
    let mut limited = 0;
    for res in responses {
        match res.status().as_u16() {
            200 => ok += 1,
            429 => {
                assert!(res.headers().contains_key("retry-after"));
                let body: Value = res.json().await.expect("json");
                assert_eq!(body["error_code"], "PACING_LIMIT");
                limited += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(ok + limited, 500);
    assert!(ok >= 60 && limited > 0, "ok {ok}, limited {limited}");
    // 45 per second: the admitted requests cannot all have gone out in the first second.
    assert!(
        took >= Duration::from_millis(900),
        "{ok} requests in {took:?}"
    );
    // The simulator answers error 100 above 50 messages in a second; Binder never saw one.
    assert_eq!(
        rig.metric(r#"ib_gateway_errors_total{code="IB_PACING_VIOLATION"}"#)
            .await,
        0.0
    );
    assert_eq!(
        rig.app.running_state.desk.broker_state(),
        BrokerState::Ready
    );
    rig.app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn orders_are_refused_in_the_maintenance_window() {
    let sim = Sim::start().await;
    let now = chrono::Utc::now();
    let window = format!(
        "{}-{}",
        (now - chrono::Duration::minutes(1)).format("%H:%M:%S"),
        (now + chrono::Duration::minutes(2)).format("%H:%M:%S")
    );
    let rig = Rig::start(
        &sim,
        &[
            "--ib-maintenance-window",
            &window,
            "--ib-gateway-timezone",
            "UTC",
        ],
    )
    .await;
    rig.wait("ready", 15, |s| s == BrokerState::Ready).await;
    let (status, body) = rig
        .place(json!({"symbol": "AAPL", "side": "buy", "qty": "1", "type": "market"}))
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error_code"], "MAINTENANCE_WINDOW");
    let orders = rig.get("/api/v1/orders").await;
    assert_eq!(orders, json!([]), "nothing journaled");
    let clock = rig.get("/api/v1/clock").await;
    assert_eq!(clock["maintenance_window"]["active"], true, "{clock}");
    rig.app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn order_ids_stay_unique_across_a_restart_of_binder_and_the_gateway() {
    let database = support::fresh_database_url();
    let mut ids = Vec::new();
    for round in 0..2 {
        // A fresh simulator each time: its NextValidId starts over, Binder's must not.
        let sim = Sim::start().await;
        let port = sim.addr.port().to_string();
        let flags = [
            "--broker",
            "gateway",
            "--ib-gateway-host",
            "127.0.0.1",
            "--ib-gateway-port",
            port.as_str(),
            "--admin-password",
            auth_common::ADMIN_PASSWORD,
            "--jwt-secret",
            auth_common::JWT_SECRET,
        ];
        let app = TestApp::start_on(&database, &flags).await;
        let admin = auth_common::admin_token(&app).await;
        let token = if round == 0 {
            auth_common::user_token(&app, &admin, "trader1", "trader").await
        } else {
            admin.clone()
        };
        let mut watch = app.running_state.desk.watch_broker();
        tokio::time::timeout(
            Duration::from_secs(15),
            watch.wait_for(|s| *s == BrokerState::Ready),
        )
        .await
        .expect("ready")
        .expect("alive");
        for _ in 0..2 {
            let res = auth_common::post(
                &app,
                "/api/v1/orders",
                Some(&token),
                json!({"symbol": "SPY", "side": "buy", "qty": "1", "type": "market"}),
            )
            .await;
            let body: Value = res.json().await.expect("json");
            ids.push(
                body["broker_order_id"]
                    .as_i64()
                    .unwrap_or_else(|| panic!("{body}")),
            );
        }
        app.stop().await;
        sim.stop().await;
    }
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    assert!(ids[2] > ids[1], "ids keep growing after a restart: {ids:?}");
    support::drop_database(&database).await;
}

#[tokio::test]
async fn market_data_lines_are_shared_limited_and_refused_before_the_gateway() {
    let sim = Sim::start().await;
    let rig = Rig::start(&sim, &["--ib-market-data-lines", "2"]).await;
    rig.wait("ready", 15, |s| s == BrokerState::Ready).await;
    let mut aapl = QuoteStream::open(&rig, "AAPL").await.expect("first line");
    let mut aapl_again = QuoteStream::open(&rig, "aapl")
        .await
        .expect("shares the AAPL line");
    let mut msft = QuoteStream::open(&rig, "MSFT").await.expect("second line");
    assert!(aapl.until(|q| q["bid"].is_string()).await["symbol"] == "AAPL");
    aapl_again.until(|q| q["bid"].is_string()).await;
    msft.until(|q| q["bid"].is_string()).await;
    assert_eq!(rig.metric("ib_market_data_subscriptions").await, 2.0);

    let sent = rig.metric("ib_messages_sent_total").await;
    let (status, body) = QuoteStream::open(&rig, "SPY")
        .await
        .err()
        .expect("third line refused");
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error_code"], "MARKET_DATA_LINE_LIMIT");
    let res = auth_common::get(&rig.app, "/api/v1/quotes/SPY", Some(&rig.trader)).await;
    assert_eq!(res.status(), 409, "a snapshot needs a line too");
    assert_eq!(
        rig.metric("ib_messages_sent_total").await,
        sent,
        "nothing reached the gateway"
    );

    drop(msft);
    let spy = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match QuoteStream::open(&rig, "SPY").await {
                Ok(stream) => break stream,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    })
    .await
    .expect("the closed line is free again");
    drop(spy);
    let res = auth_common::get(&rig.app, "/api/v1/quotes/AAPL", Some(&rig.trader)).await;
    assert_eq!(res.status(), 200);
    let quote: Value = res.json().await.expect("json");
    assert!(quote["ask"].is_string(), "{quote}");
    assert!(rig.metric("ib_last_tick_age_seconds").await < 60.0);
    rig.app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn market_data_resumes_after_1101_and_continues_through_1102() {
    let sim = Sim::start().await;
    let rig = Rig::start(&sim, &[]).await;
    rig.wait("ready", 15, |s| s == BrokerState::Ready).await;
    let mut stream = QuoteStream::open(&rig, "QQQ").await.expect("line");
    let first = stream.until(|q| q["bid"].is_string()).await;
    let start: rust_decimal::Decimal = first["bid"]
        .as_str()
        .expect("bid")
        .parse()
        .expect("decimal");

    for (round, restore) in [1101, 1102].into_iter().enumerate() {
        sim.post(
            "/connectivity",
            json!({ "restore": restore, "after_ms": 300 }),
        )
        .await;
        rig.wait("ready after the restore notice", 5, |s| {
            s == BrokerState::Ready
        })
        .await;
        let target = start + rust_decimal::Decimal::from(u32::try_from(round + 1).expect("small"));
        // Keep moving the price until the stream shows it: the line must be live again.
        let seen = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                sim.set_price("QQQ", &target.to_string()).await;
                let quote = stream.next().await;
                if quote["bid"]
                    .as_str()
                    .and_then(|b| b.parse::<rust_decimal::Decimal>().ok())
                    == Some(target)
                {
                    break quote;
                }
            }
        })
        .await;
        assert!(seen.is_ok(), "no quotes after {restore}");
    }
    rig.app.stop().await;
    sim.stop().await;
}

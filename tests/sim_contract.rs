//! Contract tests of the gateway simulator, driven over TCP by the real `ibapi` client.

mod sim_support;

use std::time::Duration;

use sim_support::{RawClient, Sim};

#[tokio::test]
async fn handshake_gives_accounts_next_id_and_server_time() {
    let sim = Sim::start().await;
    let client = sim.connect(1).await;
    assert!(
        client.server_version() >= 213,
        "protobuf protocol negotiated"
    );
    assert_eq!(
        client.handshake_managed_accounts(),
        ["DU1234567".to_string()]
    );
    assert!(client.next_order_id() >= 1);

    let time = client
        .server_time()
        .await
        .expect("server time")
        .unix_timestamp();
    let now = chrono::Utc::now().timestamp();
    assert!((now - time).abs() < 5, "server time {time} is now ({now})");

    let accounts = client.managed_accounts().await.expect("managed accounts");
    assert_eq!(accounts, ["DU1234567".to_string()]);
    let next = client.next_valid_order_id().await.expect("next valid id");
    assert!(next >= 1);
}

#[tokio::test]
async fn duplicate_client_id_is_refused_with_326() {
    let sim = Sim::start().await;
    let _first = sim.connect(7).await;
    let second = ibapi::Client::connect(&sim.addr.to_string(), 7).await;
    match second {
        Err(ibapi::Error::ClientIdInUse { client_id }) => assert_eq!(client_id, 7),
        Err(other) => panic!("expected ClientIdInUse, got {other:?}"),
        Ok(_) => panic!("a second connection with client id 7 was accepted"),
    }
    // Another id still connects, and the first connection is unaffected.
    let third = sim.connect(8).await;
    assert!(third.server_time().await.is_ok());
    assert!(_first.server_time().await.is_ok());
}

#[tokio::test]
async fn client_id_is_free_again_after_disconnect() {
    let sim = Sim::start().await;
    let first = sim.connect(9).await;
    first.disconnect().await;
    drop(first);
    let mut again = None;
    for _ in 0..50 {
        if let Ok(client) = ibapi::Client::connect(&sim.addr.to_string(), 9).await {
            again = Some(client);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(again.is_some(), "client id 9 was never released");
}

#[tokio::test]
async fn unknown_message_gets_an_error_and_the_connection_stays_up() {
    let sim = Sim::start().await;
    let mut raw = RawClient::connect(sim.addr, 213, 226, 3).await;
    assert_eq!(raw.version, 222);
    raw.send_protobuf(4242, &[]).await;
    let error = raw.expect_error(|code| code == 321).await;
    assert!(
        error.1.contains("4242"),
        "names the message id: {}",
        error.1
    );
    raw.send_protobuf(49, &[]).await;
    raw.expect_message(49).await;
}

#[tokio::test]
async fn text_clients_get_version_178_and_bad_ranges_are_closed() {
    let sim = Sim::start().await;
    let text = RawClient::handshake_only(sim.addr, "v157..178").await;
    assert_eq!(text.expect("text range is served").0, 178);
    let old = RawClient::handshake_only(sim.addr, "v100..190").await;
    assert_eq!(old.expect("v100..190 is served as text").0, 178);
    assert!(
        RawClient::handshake_only(sim.addr, "v201..210")
            .await
            .is_none(),
        "201..212 refused"
    );
    assert!(
        RawClient::handshake_only(sim.addr, "v100..150")
            .await
            .is_none(),
        "too old refused"
    );
}

// ----- priority 2: contracts, orders, account -------------------------------------------

use ibapi::orders::{Action, ExecutionFilter, OrderStatusKind, order_builder};
use ibapi::prelude::StreamExt;
use sim_support::{Ev, finished, place, stock};

fn notices(events: &[Ev]) -> Vec<i32> {
    events
        .iter()
        .filter_map(|e| match e {
            Ev::Notice(code, _) => Some(*code),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn contract_details_by_symbol_and_con_id_and_unknown_is_200() {
    let sim = Sim::start().await;
    let client = sim.connect(1).await;
    let details = client
        .contract_details(&stock("AAPL"))
        .await
        .expect("AAPL details");
    assert_eq!(details.len(), 1);
    let aapl = &details[0];
    assert_eq!(aapl.contract.contract_id, 265598);
    assert_eq!(aapl.contract.primary_exchange.to_string(), "NASDAQ");
    assert_eq!(aapl.min_tick, 0.01);

    let by_id = ibapi::contracts::Contract {
        contract_id: 265598,
        ..Default::default()
    };
    let again = client
        .contract_details(&by_id)
        .await
        .expect("details by conId");
    assert_eq!(again[0].contract.symbol.to_string(), "AAPL");

    match client.contract_details(&stock("NOPE")).await {
        Err(ibapi::Error::Notice(n)) => assert_eq!(n.code, 200),
        other => panic!("expected error 200, got {other:?}"),
    }
}

#[tokio::test]
async fn market_order_fills_in_ib_message_order_with_client_id_and_order_ref() {
    let sim = Sim::start().await;
    sim.set_price("AAPL", "190.00").await;
    let client = sim.connect(5).await;
    let id = client.next_order_id();
    let mut order = order_builder::market_order(Action::Buy, 100.0);
    order.order_ref = "binder-123".to_string();
    let mut sub = client
        .place_order(id, &stock("AAPL"), &order)
        .await
        .expect("placed");
    let events = crate::events!(sub, place, finished);
    let tags: Vec<String> = events.iter().map(Ev::tag).collect();
    assert_eq!(
        tags,
        [
            "open:Submitted",
            "status:Submitted",
            "exec",
            "open:Filled",
            "status:Filled",
            "commission"
        ],
        "{events:#?}"
    );
    for event in &events {
        match event {
            Ev::Open(o) => {
                assert_eq!(o.order.client_id, 5);
                assert_eq!(o.order.order_ref, "binder-123");
                assert_eq!(o.order_id, id);
            }
            Ev::Status(s) => assert_eq!(s.client_id, 5),
            Ev::Exec(e) => {
                assert_eq!(e.execution.client_id, 5);
                assert_eq!(e.execution.order_reference, "binder-123");
                assert_eq!(e.execution.price, 190.01, "buys at the ask");
                assert_eq!(e.execution.shares, 100.0);
                assert_eq!(e.execution.side.to_string(), "BOT");
            }
            Ev::Comm(c) => assert_eq!(c.commission, 1.0, "100 × 0.005 is below the 1.00 minimum"),
            Ev::Notice(..) => {}
        }
    }
}

#[tokio::test]
async fn limit_order_rests_then_modify_with_same_id_fills() {
    let sim = Sim::start().await;
    sim.set_price("MSFT", "420.00").await;
    let client = sim.connect(1).await;
    let id = client.next_order_id();
    let order = order_builder::limit_order(Action::Buy, 10.0, 400.0);
    let mut sub = client
        .place_order(id, &stock("MSFT"), &order)
        .await
        .expect("placed");
    let first = crate::events!(sub, place, |e: &[Ev]| e.len() >= 2);
    assert_eq!(
        first.iter().map(Ev::tag).collect::<Vec<_>>(),
        ["open:Submitted", "status:Submitted"]
    );

    let mut open = client.open_orders().await.expect("open orders");
    let mut listed = Vec::new();
    while let Ok(Some(Ok(item))) = tokio::time::timeout(Duration::from_secs(5), open.next()).await {
        match item.into_data() {
            Some(ibapi::orders::Orders::OrderData(o)) => listed.push(o.order_id),
            Some(ibapi::orders::Orders::OrderStatus(_)) | None => {}
        }
        if listed.contains(&id) {
            break;
        }
    }
    assert!(listed.contains(&id), "resting order listed");

    let modified = order_builder::limit_order(Action::Buy, 10.0, 421.0);
    let mut sub = client
        .place_order(id, &stock("MSFT"), &modified)
        .await
        .expect("modified");
    let events = crate::events!(sub, place, finished);
    let exec = events
        .iter()
        .find_map(|e| match e {
            Ev::Exec(x) => Some(x.execution.price),
            _ => None,
        })
        .expect("modified order filled");
    assert_eq!(exec, 420.01);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Ev::Open(o) if o.order.limit_price == Some(421.0)))
    );
}

#[tokio::test]
async fn cancel_sends_cancelled_status_and_202() {
    let sim = Sim::start().await;
    sim.set_price("KO", "62.00").await;
    let client = sim.connect(1).await;
    let mut updates = client.order_update_stream().await.expect("update stream");
    let id = client.next_order_id();
    let order = order_builder::limit_order(Action::Buy, 10.0, 50.0);
    let _placed = client
        .place_order(id, &stock("KO"), &order)
        .await
        .expect("placed");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut cancel = client.cancel_order(id, "").await.expect("cancel sent");
    let cancelled = crate::events!(
        cancel,
        |c: ibapi::orders::CancelOrder| match c {
            ibapi::orders::CancelOrder::OrderStatus(s) => Some(Ev::Status(s)),
        },
        |e: &[Ev]| e
            .iter()
            .any(|e| matches!(e, Ev::Status(s) if s.status == OrderStatusKind::Cancelled))
            && e.iter().any(|e| matches!(e, Ev::Notice(202, _)))
    );
    let status = cancelled.iter().any(|e| matches!(e, Ev::Status(s) if s.status == OrderStatusKind::Cancelled && s.order_id == id));
    let mut saw_202 = cancelled.iter().any(|e| matches!(e, Ev::Notice(202, _)));
    if !saw_202 {
        // ibapi may route the 202 notice to the order update stream instead.
        let stream = crate::events!(
            updates,
            |u: ibapi::orders::OrderUpdate| match u {
                ibapi::orders::OrderUpdate::OrderStatus(s) => Some(Ev::Status(s)),
                _ => None,
            },
            |e: &[Ev]| e.iter().any(|e| matches!(e, Ev::Notice(202, _)))
        );
        saw_202 = stream.iter().any(|e| matches!(e, Ev::Notice(202, _)));
    }
    assert!(status, "Cancelled status: {cancelled:?}");
    assert!(saw_202, "notice 202");
}

#[tokio::test]
async fn rejects_use_ib_codes() {
    let sim = Sim::start().await;
    sim.set_price("AAPL", "190.00").await;
    let client = sim.connect(1).await;

    async fn reject_code(
        client: &ibapi::Client,
        id: i32,
        symbol: &str,
        order: &ibapi::orders::Order,
    ) -> Vec<i32> {
        let mut sub = client
            .place_order(id, &stock(symbol), order)
            .await
            .expect("sent");
        let events = crate::events!(sub, place, finished);
        notices(&events)
    }

    let base = client.next_order_id();
    let off_tick = order_builder::limit_order(Action::Buy, 10.0, 189.005);
    assert_eq!(reject_code(&client, base, "AAPL", &off_tick).await, [110]);
    let unknown = order_builder::market_order(Action::Buy, 10.0);
    assert_eq!(
        reject_code(&client, base + 1, "NOPE", &unknown).await,
        [200]
    );
    let too_big = order_builder::market_order(Action::Buy, 1_000_000.0);
    assert_eq!(
        reject_code(&client, base + 2, "AAPL", &too_big).await,
        [201]
    );
    let mut wrong_account = order_builder::market_order(Action::Buy, 1.0);
    wrong_account.account = "DU999".to_string();
    assert_eq!(
        reject_code(&client, base + 3, "AAPL", &wrong_account).await,
        [201]
    );

    let filled = order_builder::market_order(Action::Buy, 1.0);
    let mut sub = client
        .place_order(base + 4, &stock("AAPL"), &filled)
        .await
        .expect("sent");
    let events = crate::events!(sub, place, finished);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Ev::Status(s) if s.status == OrderStatusKind::Filled))
    );
    assert_eq!(
        reject_code(&client, base + 4, "AAPL", &filled).await,
        [103],
        "reusing a filled order's id"
    );
}

#[tokio::test]
async fn positions_summary_executions_and_realized_pnl() {
    let sim = Sim::start().await;
    sim.set_price("NVDA", "120.00").await;
    let client = sim.connect(1).await;
    let id = client.next_order_id();
    let buy = order_builder::market_order(Action::Buy, 300.0);
    let mut sub = client
        .place_order(id, &stock("NVDA"), &buy)
        .await
        .expect("buy");
    crate::events!(sub, place, finished);
    // ibapi routes executions to a live subscription of the same order id first.
    drop(sub);

    let mut positions = client.positions().await.expect("positions");
    let mut found = None;
    while let Ok(Some(Ok(item))) =
        tokio::time::timeout(Duration::from_secs(5), positions.next()).await
    {
        match item.into_data() {
            Some(ibapi::accounts::PositionUpdate::Position(p)) => found = Some(p),
            Some(ibapi::accounts::PositionUpdate::PositionEnd) => break,
            None => {}
        }
    }
    let position = found.expect("a position");
    assert_eq!(position.contract.symbol.to_string(), "NVDA");
    assert_eq!(position.position, 300.0);
    // 300 × 120.01 + 1.50 commission, per share.
    assert!(
        (position.average_cost - 120.015).abs() < 1e-9,
        "avg cost {}",
        position.average_cost
    );
    drop(positions);

    sim.set_price("NVDA", "125.00").await;
    let sell = order_builder::market_order(Action::Sell, 300.0);
    let mut sub = client
        .place_order(id + 1, &stock("NVDA"), &sell)
        .await
        .expect("sell");
    let events = crate::events!(sub, place, finished);
    let realized = events
        .iter()
        .find_map(|e| match e {
            Ev::Comm(c) => c.realized_pnl,
            _ => None,
        })
        .expect("closing fill realizes PnL");
    // (125.00 − 120.015) × 300 − 1.50.
    assert!((realized - 1494.0).abs() < 1e-6, "realized {realized}");
    drop(sub);

    let tags = [
        "NetLiquidation",
        "TotalCashValue",
        "BuyingPower",
        "AvailableFunds",
        "GrossPositionValue",
        "MaintMarginReq",
        "ExcessLiquidity",
    ];
    let mut summary = client
        .account_summary(&ibapi::accounts::types::AccountGroup("All".into()), &tags)
        .await
        .expect("summary");
    let mut values = std::collections::HashMap::new();
    while let Ok(Some(Ok(item))) =
        tokio::time::timeout(Duration::from_secs(5), summary.next()).await
    {
        match item.into_data() {
            Some(ibapi::accounts::AccountSummaryResult::Summary(s)) => {
                values.insert(s.tag.clone(), s.value.clone());
            }
            Some(ibapi::accounts::AccountSummaryResult::End) => break,
            None => {}
        }
    }
    for tag in tags {
        assert!(values.contains_key(tag), "{tag} missing from {values:?}");
    }
    // 1,000,000 + realized 1494.00 (commissions already inside it and the average cost).
    assert_eq!(values["TotalCashValue"], "1001494.00");
    assert_eq!(values["NetLiquidation"], "1001494.00");
    assert_eq!(values["GrossPositionValue"], "0.00");

    let mut all = client
        .executions(ExecutionFilter::default())
        .await
        .expect("executions");
    let mut rows = Vec::new();
    while let Ok(Some(Ok(item))) = tokio::time::timeout(Duration::from_secs(5), all.next()).await {
        match item.into_data() {
            Some(ibapi::orders::Executions::ExecutionData(e)) => {
                rows.push(e.execution.side.to_string())
            }
            Some(ibapi::orders::Executions::CommissionReport(_)) | None => {}
        }
    }
    assert_eq!(rows, ["BOT", "SLD"]);
    let filter = ExecutionFilter {
        side: Some(ibapi::orders::ExecutionFilterSide::Sell),
        ..ExecutionFilter::default()
    };
    let mut sells = client.executions(filter).await.expect("executions");
    let mut count = 0;
    while let Ok(Some(Ok(item))) = tokio::time::timeout(Duration::from_secs(5), sells.next()).await
    {
        match item.into_data() {
            Some(ibapi::orders::Executions::ExecutionData(_)) => count += 1,
            Some(ibapi::orders::Executions::CommissionReport(_)) | None => {}
        }
    }
    assert_eq!(count, 1, "side filter");

    let mut completed = client.completed_orders(true).await.expect("completed");
    let mut done = 0;
    while let Ok(Some(Ok(item))) =
        tokio::time::timeout(Duration::from_secs(5), completed.next()).await
    {
        match item.into_data() {
            Some(ibapi::orders::Orders::OrderData(o)) => {
                assert_eq!(o.order_state.status, OrderStatusKind::Filled);
                done += 1;
            }
            Some(ibapi::orders::Orders::OrderStatus(_)) | None => {}
        }
        if done == 2 {
            break;
        }
    }
    assert_eq!(done, 2);
}

#[tokio::test]
async fn global_cancel_cancels_every_open_order() {
    let sim = Sim::start().await;
    sim.set_price("XOM", "115.00").await;
    let client = sim.connect(1).await;
    let id = client.next_order_id();
    let mut subs = Vec::new();
    for i in 0..3 {
        let order = order_builder::limit_order(Action::Buy, 1.0, 100.0 + f64::from(i));
        subs.push(
            client
                .place_order(id + i, &stock("XOM"), &order)
                .await
                .expect("placed"),
        );
    }
    for sub in &mut subs {
        crate::events!(sub, place, |e: &[Ev]| e.len() >= 2);
    }
    client.global_cancel().await.expect("global cancel");
    for sub in &mut subs {
        let events = crate::events!(sub, place, |e: &[Ev]| e
            .iter()
            .any(|e| matches!(e, Ev::Status(s) if s.status == OrderStatusKind::Cancelled)));
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Ev::Status(s) if s.status == OrderStatusKind::Cancelled)),
            "{events:?}"
        );
    }
}

// ----- priority 3: order types, TIF, brackets, OCA, partial fills ------------------------

use ibapi::orders::TimeInForce;

fn fills(events: &[Ev]) -> Vec<(f64, f64)> {
    events
        .iter()
        .filter_map(|e| match e {
            Ev::Exec(x) => Some((x.execution.shares, x.execution.price)),
            _ => None,
        })
        .collect()
}

fn has_status(events: &[Ev], status: OrderStatusKind) -> bool {
    events
        .iter()
        .any(|e| matches!(e, Ev::Status(s) if s.status == status))
}

/// Reads what arrives within `wait` (for "nothing happens" checks).
macro_rules! quiet_for {
    ($sub:expr, $wait:expr) => {{
        let mut got = Vec::new();
        while let Ok(Some(Ok(item))) = tokio::time::timeout($wait, $sub.next()).await {
            if let Some(ev) = item.into_data().and_then(place) {
                got.push(ev);
            }
        }
        got
    }};
}

#[tokio::test]
async fn stop_and_stop_limit_trigger_on_price_moves() {
    let sim = Sim::start().await;
    sim.set_price("AAPL", "190.00").await;
    let client = sim.connect(1).await;
    let id = client.next_order_id();

    let stop = order_builder::stop(Action::Sell, 10.0, 185.0);
    let mut stop_sub = client
        .place_order(id, &stock("AAPL"), &stop)
        .await
        .expect("stop");
    let acked = crate::events!(stop_sub, place, |e: &[Ev]| e.len() >= 2);
    assert!(fills(&acked).is_empty());
    sim.set_price("AAPL", "185.50").await;
    assert!(
        fills(&quiet_for!(stop_sub, Duration::from_millis(200))).is_empty(),
        "not triggered above the stop"
    );
    sim.set_price("AAPL", "184.99").await;
    let events = crate::events!(stop_sub, place, finished);
    assert_eq!(
        fills(&events),
        [(10.0, 184.99)],
        "stop sells at the bid once triggered"
    );

    let mut stop_limit = order_builder::limit_order(Action::Buy, 5.0, 195.5);
    stop_limit.order_type = "STP LMT".to_string();
    stop_limit.aux_price = Some(195.0);
    let mut sl_sub = client
        .place_order(id + 1, &stock("AAPL"), &stop_limit)
        .await
        .expect("stop limit");
    crate::events!(sl_sub, place, |e: &[Ev]| e.len() >= 2);
    sim.set_price("AAPL", "196.00").await;
    assert!(
        fills(&quiet_for!(sl_sub, Duration::from_millis(200))).is_empty(),
        "triggered, but the ask 196.01 is above the limit"
    );
    sim.set_price("AAPL", "195.20").await;
    let events = crate::events!(sl_sub, place, finished);
    assert_eq!(fills(&events), [(5.0, 195.21)]);
}

#[tokio::test]
async fn trailing_stops_by_amount_and_percent() {
    let sim = Sim::start().await;
    sim.set_price("JPM", "200.00").await;
    let client = sim.connect(1).await;
    let id = client.next_order_id();

    let mut by_amount = order_builder::market_order(Action::Sell, 10.0);
    by_amount.order_type = "TRAIL".to_string();
    by_amount.aux_price = Some(2.0);
    let mut sub = client
        .place_order(id, &stock("JPM"), &by_amount)
        .await
        .expect("trail");
    crate::events!(sub, place, |e: &[Ev]| e.len() >= 2);
    sim.set_price("JPM", "205.00").await; // stop trails up to 203.00
    sim.set_price("JPM", "203.50").await;
    assert!(fills(&quiet_for!(sub, Duration::from_millis(200))).is_empty());
    sim.set_price("JPM", "202.99").await;
    let events = crate::events!(sub, place, finished);
    assert_eq!(fills(&events), [(10.0, 202.99)]);

    sim.set_price("WMT", "100.00").await;
    let mut by_percent = order_builder::market_order(Action::Buy, 10.0);
    by_percent.order_type = "TRAIL".to_string();
    by_percent.trailing_percent = Some(1.0);
    let mut sub = client
        .place_order(id + 1, &stock("WMT"), &by_percent)
        .await
        .expect("trail %");
    crate::events!(sub, place, |e: &[Ev]| e.len() >= 2);
    sim.set_price("WMT", "95.00").await; // ask 95.01, stop 95.01 + 0.95 = 95.96
    assert!(fills(&quiet_for!(sub, Duration::from_millis(200))).is_empty());
    sim.set_price("WMT", "96.00").await; // ask 96.01 ≥ 95.96
    let events = crate::events!(sub, place, finished);
    assert_eq!(fills(&events), [(10.0, 96.01)]);
}

#[tokio::test]
async fn ioc_and_fok_do_not_rest() {
    let sim = Sim::start().await;
    sim.set_price("KO", "62.00").await;
    let client = sim.connect(1).await;
    let id = client.next_order_id();

    let mut ioc = order_builder::limit_order(Action::Buy, 10.0, 61.0);
    ioc.tif = TimeInForce::ImmediateOrCancel;
    let mut sub = client
        .place_order(id, &stock("KO"), &ioc)
        .await
        .expect("ioc");
    let events = crate::events!(sub, place, finished);
    assert!(
        has_status(&events, OrderStatusKind::Cancelled) && fills(&events).is_empty(),
        "{events:?}"
    );

    let mut fok = order_builder::limit_order(Action::Buy, 10.0, 61.0);
    fok.tif = TimeInForce::FillOrKill;
    let mut sub = client
        .place_order(id + 1, &stock("KO"), &fok)
        .await
        .expect("fok");
    let events = crate::events!(sub, place, finished);
    assert!(has_status(&events, OrderStatusKind::Cancelled) && fills(&events).is_empty());

    let mut fok_fill = order_builder::limit_order(Action::Buy, 10.0, 62.01);
    fok_fill.tif = TimeInForce::FillOrKill;
    let mut sub = client
        .place_order(id + 2, &stock("KO"), &fok_fill)
        .await
        .expect("fok");
    let events = crate::events!(sub, place, finished);
    assert_eq!(fills(&events), [(10.0, 62.01)]);

    let mut gtc = order_builder::limit_order(Action::Buy, 10.0, 61.0);
    gtc.tif = TimeInForce::GoodTillCanceled;
    let mut sub = client
        .place_order(id + 3, &stock("KO"), &gtc)
        .await
        .expect("gtc");
    let events = crate::events!(sub, place, |e: &[Ev]| e.len() >= 2);
    assert!(has_status(&events, OrderStatusKind::Submitted), "GTC rests");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Ev::Open(o) if o.order.tif == TimeInForce::GoodTillCanceled))
    );
}

#[tokio::test]
async fn partial_fills_when_configured() {
    let sim = Sim::with(|c| c.partial_fill_qty = rust_decimal::Decimal::from(100)).await;
    sim.set_price("INTC", "31.00").await;
    let client = sim.connect(1).await;
    let id = client.next_order_id();
    let order = order_builder::market_order(Action::Buy, 250.0);
    let mut sub = client
        .place_order(id, &stock("INTC"), &order)
        .await
        .expect("placed");
    let events = crate::events!(sub, place, finished);
    assert_eq!(
        fills(&events),
        [(100.0, 31.01), (100.0, 31.01), (50.0, 31.01)]
    );
    let progress: Vec<(f64, f64)> = events
        .iter()
        .filter_map(|e| match e {
            Ev::Status(s) if s.filled > 0.0 => Some((s.filled, s.remaining)),
            _ => None,
        })
        .collect();
    assert_eq!(progress, [(100.0, 150.0), (200.0, 50.0), (250.0, 0.0)]);

    let mut ioc = order_builder::market_order(Action::Sell, 250.0);
    ioc.tif = TimeInForce::ImmediateOrCancel;
    let mut sub = client
        .place_order(id + 1, &stock("INTC"), &ioc)
        .await
        .expect("ioc");
    let events = crate::events!(sub, place, finished);
    assert_eq!(
        fills(&events),
        [(100.0, 31.0)],
        "IOC keeps the first partial fill only"
    );
    assert!(has_status(&events, OrderStatusKind::Cancelled));
}

#[tokio::test]
async fn bracket_is_held_until_the_last_child_then_children_work_as_oca() {
    let sim = Sim::start().await;
    sim.set_price("AMD", "160.00").await;
    let client = sim.connect(1).await;
    let id = client.next_order_id();
    let prices = ibapi::orders::builder::BracketPrices {
        entry: 160.01,
        take_profit: 165.0,
        stop_loss: 155.0,
    };
    let orders = order_builder::bracket_order(id, Action::Buy, 100.0, prices).expect("bracket");
    let mut parent = client
        .place_order(orders[0].order_id, &stock("AMD"), &orders[0])
        .await
        .expect("parent");
    assert!(
        quiet_for!(parent, Duration::from_millis(200)).is_empty(),
        "a transmit=false parent is held, although marketable"
    );
    let mut profit = client
        .place_order(orders[1].order_id, &stock("AMD"), &orders[1])
        .await
        .expect("tp");
    let mut loss = client
        .place_order(orders[2].order_id, &stock("AMD"), &orders[2])
        .await
        .expect("sl");

    let events = crate::events!(parent, place, finished);
    assert_eq!(
        fills(&events),
        [(100.0, 160.01)],
        "released with the last child, then filled"
    );
    let tp = crate::events!(profit, place, |e: &[Ev]| has_status(
        e,
        OrderStatusKind::Submitted
    ));
    assert!(
        has_status(&tp, OrderStatusKind::PreSubmitted),
        "waits for the parent: {tp:?}"
    );
    assert!(
        has_status(&tp, OrderStatusKind::Submitted),
        "live once the parent filled"
    );
    crate::events!(loss, place, |e: &[Ev]| has_status(
        e,
        OrderStatusKind::Submitted
    ));

    sim.set_price("AMD", "165.00").await;
    let tp = crate::events!(profit, place, finished);
    assert_eq!(fills(&tp), [(100.0, 165.0)]);
    let sl = crate::events!(loss, place, |e: &[Ev]| has_status(
        e,
        OrderStatusKind::Cancelled
    ));
    assert!(
        has_status(&sl, OrderStatusKind::Cancelled),
        "the sibling is cancelled: {sl:?}"
    );
    assert!(fills(&sl).is_empty());
}

#[tokio::test]
async fn oca_group_fill_cancels_the_others() {
    let sim = Sim::start().await;
    sim.set_price("BAC", "39.00").await;
    let client = sim.connect(1).await;
    let id = client.next_order_id();
    let mut low = order_builder::limit_order(Action::Buy, 10.0, 38.0);
    low.oca_group = "dip".to_string();
    let mut lower = order_builder::limit_order(Action::Buy, 10.0, 37.0);
    lower.oca_group = "dip".to_string();
    let mut a = client
        .place_order(id, &stock("BAC"), &low)
        .await
        .expect("a");
    let mut b = client
        .place_order(id + 1, &stock("BAC"), &lower)
        .await
        .expect("b");
    crate::events!(a, place, |e: &[Ev]| e.len() >= 2);
    crate::events!(b, place, |e: &[Ev]| e.len() >= 2);
    sim.set_price("BAC", "37.99").await;
    let filled = crate::events!(a, place, finished);
    assert_eq!(fills(&filled), [(10.0, 38.0)]);
    let other = crate::events!(b, place, |e: &[Ev]| has_status(
        e,
        OrderStatusKind::Cancelled
    ));
    assert!(has_status(&other, OrderStatusKind::Cancelled));
}

// ----- priority 4: market data, bars, PnL, account updates --------------------------------

use ibapi::accounts::types::{AccountId, ContractId};
use ibapi::accounts::{AccountUpdate, PnL, PnLSingle};
use ibapi::contracts::tick_types::TickType;
use ibapi::market_data::historical::{BarSize, Duration as IbDuration};
use ibapi::market_data::realtime::TickTypes;

fn price_types(ticks: &[TickTypes]) -> Vec<TickType> {
    ticks
        .iter()
        .filter_map(|t| match t {
            TickTypes::Price(p) => Some(p.tick_type),
            TickTypes::PriceSize(p) => Some(p.price_tick_type),
            _ => None,
        })
        .collect()
}

fn size_types(ticks: &[TickTypes]) -> Vec<TickType> {
    ticks
        .iter()
        .filter_map(|t| match t {
            TickTypes::Size(s) => Some(s.tick_type),
            TickTypes::PriceSize(p) => Some(p.size_tick_type),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn market_data_snapshot_has_bid_ask_last_sizes_volume_close() {
    let sim = Sim::start().await;
    sim.set_price("SPY", "520.00").await;
    let client = sim.connect(1).await;
    let mut snapshot = client
        .market_data(&stock("SPY"))
        .snapshot()
        .subscribe()
        .await
        .expect("snapshot");
    let ticks = snapshot.collect_for(Duration::from_secs(5)).await;
    let prices = price_types(&ticks);
    for wanted in [
        TickType::Bid,
        TickType::Ask,
        TickType::Last,
        TickType::Close,
    ] {
        assert!(
            prices.contains(&wanted),
            "{wanted:?} missing from {ticks:?}"
        );
    }
    let sizes = size_types(&ticks);
    for wanted in [
        TickType::BidSize,
        TickType::AskSize,
        TickType::LastSize,
        TickType::Volume,
    ] {
        assert!(sizes.contains(&wanted), "{wanted:?} missing");
    }
    let bid = ticks.iter().find_map(|t| match t {
        TickTypes::Price(p) if p.tick_type == TickType::Bid => Some(p.price),
        TickTypes::PriceSize(p) if p.price_tick_type == TickType::Bid => Some(p.price),
        _ => None,
    });
    assert_eq!(bid, Some(520.0));
}

#[tokio::test]
async fn market_data_streams_updates_and_honours_market_data_type() {
    let sim = Sim::with(|c| c.tick_ms = 20).await;
    let client = sim.connect(1).await;
    client
        .switch_market_data_type(ibapi::market_data::MarketDataType::Delayed)
        .await
        .expect("market data type");
    let mut stream = client
        .market_data(&stock("QQQ"))
        .subscribe()
        .await
        .expect("stream");
    let ticks = stream
        .collect_until(Duration::from_secs(5), |t| {
            price_types(t)
                .iter()
                .filter(|k| **k == TickType::Bid)
                .count()
                >= 5
        })
        .await;
    let bids: Vec<f64> = ticks
        .iter()
        .filter_map(|t| match t {
            TickTypes::PriceSize(p) if p.price_tick_type == TickType::Bid => Some(p.price),
            TickTypes::Price(p) if p.tick_type == TickType::Bid => Some(p.price),
            _ => None,
        })
        .collect();
    assert!(bids.len() >= 5, "streaming bids: {bids:?}");
    assert!(
        bids.windows(2).any(|w| w[0] != w[1]),
        "the random walk moves: {bids:?}"
    );
    assert!(
        ticks.iter().any(|t| matches!(
            t,
            TickTypes::MarketDataType(ibapi::market_data::MarketDataType::Delayed)
        )),
        "market data type echoed"
    );
    // Dropping the subscription sends its cancel, which the simulator accepts quietly.
    drop(stream);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(client.server_time().await.is_ok());
}

#[tokio::test]
async fn unknown_symbol_market_data_is_200() {
    let sim = Sim::start().await;
    let client = sim.connect(1).await;
    let mut sub = client
        .market_data(&stock("NOPE"))
        .snapshot()
        .subscribe()
        .await
        .expect("sent");
    let next = tokio::time::timeout(Duration::from_secs(5), sub.next())
        .await
        .expect("answer");
    match next {
        Some(Err(ibapi::Error::Notice(n))) => assert_eq!(n.code, 200),
        other => panic!("expected error 200, got {other:?}"),
    }
}

#[tokio::test]
async fn real_time_bars_arrive_every_five_seconds() {
    let sim = Sim::with(|c| c.tick_ms = 50).await;
    let client = sim.connect(1).await;
    let mut bars = client
        .realtime_bars(&stock("IWM"))
        .subscribe()
        .await
        .expect("bars");
    let got = bars
        .collect_until(Duration::from_secs(12), |b| !b.is_empty())
        .await;
    let bar = got.first().expect("a 5-second bar within 12 s");
    assert_eq!(
        bar.date.unix_timestamp() % 5,
        0,
        "bars start on 5-second boundaries"
    );
    assert!(
        bar.low <= bar.open
            && bar.open <= bar.high
            && bar.low <= bar.close
            && bar.close <= bar.high
    );
}

#[tokio::test]
async fn historical_bars_and_pacing() {
    let sim = Sim::start().await;
    let client = sim.connect(1).await;
    let intraday = client
        .historical_data(&stock("AAPL"), BarSize::Min5)
        .duration(IbDuration::days(1))
        .fetch()
        .await
        .expect("5-minute bars");
    assert_eq!(intraday.bars.len(), 288);
    let at = |i: usize| match intraday.bars[i].date {
        ibapi::market_data::historical::BarTimestamp::DateTime(t) => t.unix_timestamp(),
        ibapi::market_data::historical::BarTimestamp::Date(_) => {
            panic!("intraday bars carry times")
        }
    };
    assert_eq!(at(1) - at(0), 300);
    assert!(
        intraday
            .bars
            .iter()
            .all(|b| b.low <= b.high && b.volume > 0.0)
    );

    let daily = client
        .historical_data(&stock("MSFT"), BarSize::Day)
        .duration(IbDuration::days(30))
        .fetch()
        .await
        .expect("daily bars");
    assert_eq!(daily.bars.len(), 30);
    assert!(daily.bars[0].date.is_date(), "daily bars carry dates");

    let again = client
        .historical_data(&stock("MSFT"), BarSize::Day)
        .duration(IbDuration::days(30))
        .fetch()
        .await;
    match again {
        Err(ibapi::Error::Notice(n)) => assert_eq!(n.code, 162, "identical request within 15 s"),
        other => panic!("expected pacing violation 162, got {other:?}"),
    }
}

#[tokio::test]
async fn pnl_pnl_single_and_account_updates_follow_fills_and_marks() {
    let sim = Sim::start().await;
    sim.set_price("TSLA", "250.00").await;
    let client = sim.connect(1).await;
    let account = AccountId("DU1234567".to_string());
    let id = client.next_order_id();
    let mut sub = client
        .place_order(
            id,
            &stock("TSLA"),
            &order_builder::market_order(Action::Buy, 100.0),
        )
        .await
        .expect("buy");
    crate::events!(sub, place, finished);

    let mut pnl = client.pnl(&account, None).await.expect("pnl");
    let first: PnL = pnl
        .collect_until(Duration::from_secs(5), |p| !p.is_empty())
        .await
        .remove(0);
    // Bought at 250.01 + 1.00 commission; marked at the mid 250.005.
    let unrealized = first.unrealized_pnl.expect("unrealized");
    assert!(
        (unrealized - (-1.5)).abs() < 0.011,
        "unrealized {unrealized}"
    );

    sim.set_price("TSLA", "260.00").await;
    let moved: PnL = pnl
        .collect_until(Duration::from_secs(5), |p| {
            p.iter()
                .any(|x| x.unrealized_pnl.unwrap_or_default() > 900.0)
        })
        .await
        .pop()
        .expect("an update after the move");
    assert!((moved.unrealized_pnl.expect("unrealized") - 998.5).abs() < 0.011);

    let mut single = client
        .pnl_single(&account, ContractId(76792991), None)
        .await
        .expect("pnl single");
    let row: PnLSingle = single
        .collect_until(Duration::from_secs(5), |p| !p.is_empty())
        .await
        .remove(0);
    assert_eq!(row.position, 100.0);
    assert!((row.value - 26_000.5).abs() < 0.011, "value {}", row.value);

    let mut updates = client
        .account_updates(&account)
        .await
        .expect("account updates");
    let mut keys = Vec::new();
    let mut portfolio = Vec::new();
    while let Ok(Some(Ok(item))) =
        tokio::time::timeout(Duration::from_secs(5), updates.next()).await
    {
        match item.into_data() {
            Some(AccountUpdate::AccountValue(v)) => keys.push(v.key),
            Some(AccountUpdate::PortfolioValue(p)) => {
                portfolio.push((p.contract.symbol.to_string(), p.position))
            }
            Some(AccountUpdate::End) => break,
            Some(AccountUpdate::UpdateTime(_)) | None => {}
        }
    }
    for key in [
        "NetLiquidation",
        "TotalCashValue",
        "BuyingPower",
        "AccountCode",
    ] {
        assert!(keys.iter().any(|k| k == key), "{key} missing from {keys:?}");
    }
    assert_eq!(portfolio, [("TSLA".to_string(), 100.0)]);
}

// ----- priority 5: IB's limits ------------------------------------------------------------

#[tokio::test]
async fn more_than_50_messages_per_second_is_error_100_then_disconnect() {
    let sim = Sim::start().await;
    let mut raw = RawClient::connect(sim.addr, 213, 226, 11).await;
    // 120 at once: even split across two one-second windows, one of them holds over 50.
    for _ in 0..120 {
        raw.send_protobuf(49, &[]).await;
    }
    let (code, text) = raw.expect_error(|code| code == 100).await;
    assert_eq!(code, 100);
    assert!(text.contains("max=50"), "{text}");

    // Keep flooding for several seconds: the simulator hangs up.
    let mut refused = false;
    for _ in 0..10 {
        for _ in 0..60 {
            if !raw.try_send_protobuf(49, &[]).await {
                refused = true;
                break;
            }
        }
        if refused {
            break;
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    assert!(
        refused || raw.closed().await,
        "sustained flooding disconnects the client"
    );
}

#[tokio::test]
async fn paced_clients_are_not_limited() {
    let sim = Sim::start().await;
    let mut raw = RawClient::connect(sim.addr, 213, 226, 12).await;
    for _ in 0..3 {
        for _ in 0..40 {
            raw.send_protobuf(49, &[]).await;
        }
        tokio::time::sleep(Duration::from_millis(1050)).await;
    }
    raw.send_protobuf(4242, &[]).await;
    let (code, _) = raw.expect_error(|code| code == 100 || code == 321).await;
    assert_eq!(code, 321, "no error 100 before the marker");
}

#[tokio::test]
async fn more_than_100_market_data_lines_is_101() {
    use prost::Message;
    let sim = Sim::start().await;
    let mut raw = RawClient::connect(sim.addr, 213, 226, 13).await;
    let request = |req_id: i32| binder::simulator::codec::proto::MarketDataRequest {
        req_id: Some(req_id),
        contract: Some(binder::simulator::codec::proto::Contract {
            symbol: Some("AAPL".into()),
            sec_type: Some("STK".into()),
            exchange: Some("SMART".into()),
            currency: Some("USD".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    for req_id in 1..=101 {
        raw.send_protobuf(1, &request(req_id).encode_to_vec()).await;
        if req_id % 40 == 0 {
            // Stay under the 50 messages per second limit.
            tokio::time::sleep(Duration::from_millis(1050)).await;
        }
    }
    let (code, text) = raw.expect_error(|code| code == 101 || code == 100).await;
    assert_eq!(code, 101, "{text}");
}

#[tokio::test]
async fn more_than_20_active_orders_per_contract_and_side_is_rejected() {
    let sim = Sim::start().await;
    sim.set_price("GLD", "215.00").await;
    let client = sim.connect(1).await;
    let id = client.next_order_id();
    let mut subs = Vec::new();
    for i in 0..20 {
        let order = order_builder::limit_order(Action::Buy, 1.0, 200.0);
        subs.push(
            client
                .place_order(id + i, &stock("GLD"), &order)
                .await
                .expect("placed"),
        );
    }
    for sub in &mut subs {
        let events = crate::events!(sub, place, |e: &[Ev]| e.len() >= 2);
        assert!(has_status(&events, OrderStatusKind::Submitted));
    }
    let one_more = order_builder::limit_order(Action::Buy, 1.0, 200.0);
    let mut sub = client
        .place_order(id + 20, &stock("GLD"), &one_more)
        .await
        .expect("sent");
    let events = crate::events!(sub, place, finished);
    assert_eq!(notices(&events), [201]);
    let other_side = order_builder::limit_order(Action::Sell, 1.0, 230.0);
    let mut sub = client
        .place_order(id + 21, &stock("GLD"), &other_side)
        .await
        .expect("sent");
    let events = crate::events!(sub, place, |e: &[Ev]| e.len() >= 2);
    assert!(
        has_status(&events, OrderStatusKind::Submitted),
        "the other side is unaffected"
    );
}

// ----- priority 6: fault injection through the control API ---------------------------------

#[tokio::test]
async fn control_drop_closes_every_connection() {
    let sim = Sim::start().await;
    let mut a = RawClient::connect(sim.addr, 213, 226, 21).await;
    let mut b = RawClient::connect(sim.addr, 213, 226, 22).await;
    let answer = sim.post("/drop", serde_json::json!({})).await;
    assert_eq!(answer["dropped"], 2);
    assert!(a.closed().await && b.closed().await);
    // The ids are free again and new connections work.
    RawClient::connect(sim.addr, 213, 226, 21).await;
}

#[tokio::test]
async fn control_restart_refuses_connections_for_a_while() {
    let sim = Sim::start().await;
    let mut raw = RawClient::connect(sim.addr, 213, 226, 23).await;
    sim.post("/restart", serde_json::json!({ "seconds": 2 }))
        .await;
    assert!(raw.closed().await);
    assert!(
        RawClient::handshake_only(sim.addr, "v213..226")
            .await
            .is_none(),
        "refused during the restart"
    );
    assert_eq!(sim.get("/state").await["refusing_connections"], true);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let client = sim.connect(23).await;
    assert!(
        client.server_time().await.is_ok(),
        "accepted again after the restart"
    );
}

#[tokio::test]
async fn control_connectivity_sends_1100_then_1101_or_1102() {
    let sim = Sim::start().await;
    let client = sim.connect(24).await;
    let mut notices = client.notice_stream().expect("notice stream");
    let mut raw = RawClient::connect(sim.addr, 213, 226, 25).await;
    sim.post(
        "/connectivity",
        serde_json::json!({ "restore": 1101, "after_ms": 100 }),
    )
    .await;
    assert_eq!(
        raw.expect_error(|c| (1100..=1102).contains(&c)).await.0,
        1100
    );
    assert_eq!(
        raw.expect_error(|c| (1100..=1102).contains(&c)).await.0,
        1101
    );

    let mut codes = Vec::new();
    while codes.len() < 2 {
        let notice = tokio::time::timeout(Duration::from_secs(5), notices.next())
            .await
            .expect("notices in time")
            .expect("notice stream open");
        if (1100..=1102).contains(&notice.code) {
            codes.push(notice.code);
        }
    }
    assert_eq!(codes, [1100, 1101], "ibapi sees the outage and the restore");

    sim.post(
        "/connectivity",
        serde_json::json!({ "restore": 1102, "after_ms": 0 }),
    )
    .await;
    assert_eq!(
        raw.expect_error(|c| (1100..=1102).contains(&c)).await.0,
        1100
    );
    assert_eq!(
        raw.expect_error(|c| (1100..=1102).contains(&c)).await.0,
        1102
    );
}

#[tokio::test]
async fn control_reject_next_orders_with_a_code() {
    let sim = Sim::start().await;
    sim.set_price("DIA", "390.00").await;
    let client = sim.connect(1).await;
    sim.post("/reject", serde_json::json!({ "count": 1, "code": 201 }))
        .await;
    let id = client.next_order_id();
    let order = order_builder::market_order(Action::Buy, 1.0);
    let mut sub = client
        .place_order(id, &stock("DIA"), &order)
        .await
        .expect("sent");
    assert_eq!(notices(&crate::events!(sub, place, finished)), [201]);
    let mut sub = client
        .place_order(id + 1, &stock("DIA"), &order)
        .await
        .expect("sent");
    let events = crate::events!(sub, place, finished);
    assert!(
        has_status(&events, OrderStatusKind::Filled),
        "only the next order is rejected"
    );
}

#[tokio::test]
async fn control_delay_holds_acknowledgements() {
    let sim = Sim::start().await;
    sim.set_price("TLT", "92.00").await;
    let client = sim.connect(1).await;
    sim.post("/delay", serde_json::json!({ "ms": 300 })).await;
    let id = client.next_order_id();
    let started = std::time::Instant::now();
    let order = order_builder::market_order(Action::Buy, 1.0);
    let mut sub = client
        .place_order(id, &stock("TLT"), &order)
        .await
        .expect("sent");
    crate::events!(sub, place, |e: &[Ev]| !e.is_empty());
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "acknowledged after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn control_freeze_stops_quotes_and_price_moves_them() {
    let sim = Sim::with(|c| c.tick_ms = 10).await;
    sim.post("/freeze", serde_json::json!({ "frozen": true }))
        .await;
    let before = sim.get("/quote/AAPL").await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(sim.get("/quote/AAPL").await, before, "frozen");
    sim.post("/freeze", serde_json::json!({ "frozen": false }))
        .await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_ne!(sim.get("/quote/AAPL").await, before, "moving again");

    sim.post("/freeze", serde_json::json!({ "frozen": true }))
        .await;
    sim.set_price("AAPL", "150.00").await;
    let quote = sim.get("/quote/AAPL").await;
    assert_eq!(quote["bid"], "150.00");
    assert_eq!(quote["ask"], "150.01");
    let unknown = reqwest::Client::new()
        .post(format!("http://{}/price", sim.control))
        .json(&serde_json::json!({ "symbol": "NOPE", "price": "1" }))
        .send()
        .await
        .expect("answer");
    assert_eq!(unknown.status(), 404);
}

// ----- priority 8: state across restarts, and a property over random flows -----------------

fn temp_state_file(name: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    std::env::temp_dir().join(format!(
        "binder-sim-{name}-{}-{nanos}.json",
        std::process::id()
    ))
}

#[tokio::test]
async fn state_file_keeps_orders_positions_executions_and_ids_across_a_restart() {
    let path = temp_state_file("restart");
    let first = Sim::with(|c| c.state_file = Some(path.clone())).await;
    first.set_price("META", "500.00").await;
    let client = first.connect(3).await;
    let id = client.next_order_id();
    let mut buy = client
        .place_order(
            id,
            &stock("META"),
            &order_builder::market_order(Action::Buy, 20.0),
        )
        .await
        .expect("buy");
    crate::events!(buy, place, finished);
    let mut rest = client
        .place_order(
            id + 1,
            &stock("META"),
            &order_builder::limit_order(Action::Buy, 5.0, 400.0),
        )
        .await
        .expect("resting");
    crate::events!(rest, place, |e: &[Ev]| e.len() >= 2);
    drop((buy, rest));
    client.disconnect().await;
    first.stop().await;
    assert!(path.exists(), "state written at shutdown");

    let second = Sim::with(|c| c.state_file = Some(path.clone())).await;
    let client = second.connect(3).await;
    assert!(client.next_order_id() > id + 1, "the id counter survives");

    let mut open = client.open_orders().await.expect("open orders");
    let mut resting = Vec::new();
    while let Ok(Some(Ok(item))) = tokio::time::timeout(Duration::from_secs(5), open.next()).await {
        if let Some(ibapi::orders::Orders::OrderData(o)) = item.into_data() {
            resting.push((
                o.order_id,
                o.contract.symbol.to_string(),
                o.order.limit_price,
            ));
        }
    }
    assert_eq!(resting, [(id + 1, "META".to_string(), Some(400.0))]);

    let mut positions = client.positions().await.expect("positions");
    let mut held = Vec::new();
    while let Ok(Some(Ok(item))) =
        tokio::time::timeout(Duration::from_secs(5), positions.next()).await
    {
        match item.into_data() {
            Some(ibapi::accounts::PositionUpdate::Position(p)) => {
                held.push((p.contract.symbol.to_string(), p.position))
            }
            Some(ibapi::accounts::PositionUpdate::PositionEnd) => break,
            None => {}
        }
    }
    assert_eq!(held, [("META".to_string(), 20.0)]);
    drop(positions);

    let mut executions = client
        .executions(ExecutionFilter::default())
        .await
        .expect("executions");
    let mut fills = 0;
    while let Ok(Some(Ok(item))) =
        tokio::time::timeout(Duration::from_secs(5), executions.next()).await
    {
        if let Some(ibapi::orders::Executions::ExecutionData(e)) = item.into_data() {
            assert_eq!(e.contract.symbol.to_string(), "META");
            fills += 1;
        }
    }
    assert_eq!(fills, 1);
    second.stop().await;
    let _ = std::fs::remove_file(&path);
}

/// For seeded random order flows: each position equals the signed sum of its fills, and cash
/// moves by exactly the fills' value minus their commissions.
#[tokio::test]
async fn property_positions_and_cash_follow_fills_for_random_flows() {
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};
    use rust_decimal::Decimal;

    const SYMBOLS: [&str; 3] = ["AAPL", "MSFT", "KO"];
    for seed in [1u64, 2, 3] {
        let sim = Sim::with(|c| c.partial_fill_qty = Decimal::from(150)).await;
        let mut rng = SmallRng::seed_from_u64(seed);
        for symbol in SYMBOLS {
            sim.set_price(symbol, "100.00").await;
        }
        let client = sim.connect(1).await;
        let id = client.next_order_id();
        for n in 0..25 {
            let symbol = SYMBOLS[rng.random_range(0..SYMBOLS.len())];
            let price = Decimal::new(rng.random_range(9_500..=10_500), 2);
            sim.set_price(symbol, &price.to_string()).await;
            let action = if rng.random_bool(0.5) {
                Action::Buy
            } else {
                Action::Sell
            };
            let quantity = f64::from(rng.random_range(1..=400));
            let order = if rng.random_bool(0.5) {
                order_builder::market_order(action, quantity)
            } else {
                let offset = f64::from(rng.random_range(-30..=30)) / 100.0;
                let limit = ((price.to_string().parse::<f64>().expect("price") + offset) * 100.0)
                    .round()
                    / 100.0;
                order_builder::limit_order(action, quantity, limit)
            };
            let mut sub = client
                .place_order(id + n, &stock(symbol), &order)
                .await
                .expect("placed");
            crate::events!(sub, place, |e: &[Ev]| finished(e)
                || has_status(e, OrderStatusKind::Submitted));
        }
        client.global_cancel().await.expect("global cancel");
        tokio::time::sleep(Duration::from_millis(200)).await;

        let mut executions = client
            .executions(ExecutionFilter::default())
            .await
            .expect("executions");
        let mut expected_positions: std::collections::BTreeMap<String, Decimal> =
            Default::default();
        let mut cash_flow = Decimal::ZERO;
        let mut commissions = Decimal::ZERO;
        let mut fills = 0;
        while let Ok(Some(Ok(item))) =
            tokio::time::timeout(Duration::from_secs(5), executions.next()).await
        {
            match item.into_data() {
                Some(ibapi::orders::Executions::ExecutionData(e)) => {
                    let shares = Decimal::try_from(e.execution.shares).expect("shares");
                    let price = Decimal::try_from(e.execution.price)
                        .expect("price")
                        .round_dp(2);
                    let signed = if e.execution.side.to_string() == "BOT" {
                        shares
                    } else {
                        -shares
                    };
                    *expected_positions
                        .entry(e.contract.symbol.to_string())
                        .or_default() += signed;
                    cash_flow -= signed * price;
                    fills += 1;
                }
                Some(ibapi::orders::Executions::CommissionReport(c)) => {
                    commissions += Decimal::try_from(c.commission)
                        .expect("commission")
                        .round_dp(4);
                }
                None => {}
            }
        }
        assert!(fills > 0, "seed {seed}: the flow produced fills");

        let mut positions = client.positions().await.expect("positions");
        let mut actual: std::collections::BTreeMap<String, Decimal> = Default::default();
        while let Ok(Some(Ok(item))) =
            tokio::time::timeout(Duration::from_secs(5), positions.next()).await
        {
            match item.into_data() {
                Some(ibapi::accounts::PositionUpdate::Position(p)) => {
                    actual.insert(
                        p.contract.symbol.to_string(),
                        Decimal::try_from(p.position).expect("position"),
                    );
                }
                Some(ibapi::accounts::PositionUpdate::PositionEnd) => break,
                None => {}
            }
        }
        expected_positions.retain(|_, q| !q.is_zero());
        actual.retain(|_, q| !q.is_zero());
        assert_eq!(
            actual, expected_positions,
            "seed {seed}: positions = sum of fills"
        );

        let mut summary = client
            .account_summary(
                &ibapi::accounts::types::AccountGroup("All".into()),
                &["TotalCashValue"],
            )
            .await
            .expect("summary");
        let mut cash = None;
        while let Ok(Some(Ok(item))) =
            tokio::time::timeout(Duration::from_secs(5), summary.next()).await
        {
            match item.into_data() {
                Some(ibapi::accounts::AccountSummaryResult::Summary(s)) => {
                    cash = Some(s.value.parse::<Decimal>().expect("cash"))
                }
                Some(ibapi::accounts::AccountSummaryResult::End) => break,
                None => {}
            }
        }
        let expected_cash = (Decimal::from(1_000_000) + cash_flow - commissions).round_dp(2);
        assert_eq!(
            cash,
            Some(expected_cash),
            "seed {seed}: cash = start + fills − commissions"
        );
    }
}

#[tokio::test]
async fn control_end_of_day_expires_day_orders_and_keeps_gtc() {
    let sim = Sim::start().await;
    sim.set_price("V", "275.00").await;
    let client = sim.connect(1).await;
    let id = client.next_order_id();
    let day = order_builder::limit_order(Action::Buy, 1.0, 250.0);
    let mut gtc = order_builder::limit_order(Action::Buy, 1.0, 251.0);
    gtc.tif = TimeInForce::GoodTillCanceled;
    let mut day_sub = client
        .place_order(id, &stock("V"), &day)
        .await
        .expect("day");
    let mut gtc_sub = client
        .place_order(id + 1, &stock("V"), &gtc)
        .await
        .expect("gtc");
    crate::events!(day_sub, place, |e: &[Ev]| e.len() >= 2);
    crate::events!(gtc_sub, place, |e: &[Ev]| e.len() >= 2);
    let answer = sim.post("/end-of-day", serde_json::json!({})).await;
    assert_eq!(answer["expired"], 1);
    let events = crate::events!(day_sub, place, |e: &[Ev]| has_status(
        e,
        OrderStatusKind::Cancelled
    ));
    assert!(
        has_status(&events, OrderStatusKind::Cancelled),
        "{events:?}"
    );
    assert!(
        quiet_for!(gtc_sub, Duration::from_millis(200)).is_empty(),
        "GTC stays working"
    );
}

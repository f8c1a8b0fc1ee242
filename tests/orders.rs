//! The order path over HTTP against the simulator: place, fill, rest, cancel, reject, late
//! acknowledgements, validation, duplicates, roles, and the event stream with replay.

mod auth_common;
mod rig;
mod sim_support;
mod support;

use std::time::Duration;

use app::domain::BrokerState;
use rig::{EventReader, Rig, bid};
use serde_json::{Value, json};
use sim_support::Sim;

async fn ready(sim: &Sim, extra: &[&str]) -> Rig {
    let rig = Rig::start(sim, extra).await;
    rig.wait("ready", 15, |s| s == BrokerState::Ready).await;
    rig
}

/// Polls an order until `pred` holds (the broker answers asynchronously).
async fn order_until(rig: &Rig, id: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let path = format!("/api/v1/orders/{id}");
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let order = rig.get(&path).await;
            if pred(&order) {
                return order;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the order reached the expected state")
}

#[tokio::test]
async fn a_market_order_fills_and_shows_in_orders_fills_and_positions() {
    let sim = Sim::start().await;
    let rig = ready(&sim, &[]).await;
    let (status, order) = rig
        .place(json!({"symbol": "NVDA", "side": "buy", "qty": "12", "type": "market", "client_order_id": "bot-1"}))
        .await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["client_order_id"], "bot-1");
    assert_eq!(order["type"], "market");
    assert_eq!(order["qty"], "12");
    for field in [
        "id",
        "account",
        "symbol",
        "side",
        "time_in_force",
        "status",
        "filled_qty",
        "created_at",
        "updated_at",
        "broker_order_id",
        "legs",
    ] {
        assert!(order.get(field).is_some(), "{field} missing in {order}");
    }
    let id = order["id"].as_str().expect("id").to_owned();
    let filled = order_until(&rig, &id, |o| o["status"] == "filled").await;
    assert_eq!(filled["filled_qty"], "12");
    assert!(
        filled["filled_avg_price"].is_string() && filled["filled_at"].is_string(),
        "{filled}"
    );
    assert!(filled["perm_id"].is_i64());
    assert!(
        filled["con_id"].as_i64().is_some_and(|c| c > 0),
        "the broker's contract id is learned: {filled}"
    );

    let by_client_id = rig.get("/api/v1/orders?status=closed&symbol=nvda").await;
    assert_eq!(
        by_client_id.as_array().map(Vec::len),
        Some(1),
        "{by_client_id}"
    );
    let fills = rig.get(&format!("/api/v1/fills?order_id={id}")).await;
    assert_eq!(fills[0]["qty"], "12", "{fills}");
    let positions = rig.get("/api/v1/positions").await;
    assert!(
        positions
            .as_array()
            .expect("array")
            .iter()
            .any(|p| p["symbol"] == "NVDA" && p["qty"] == "12"),
        "{positions}"
    );
    rig.app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn a_limit_order_rests_and_is_canceled_and_the_stream_shows_every_step() {
    let sim = Sim::start().await;
    let rig = ready(&sim, &[]).await;
    let mut events = EventReader::open(&rig, None).await;
    let limit = bid(&sim, "AMZN").await - rust_decimal::Decimal::from(20);
    let (status, order) = rig
        .place(json!({"symbol": "AMZN", "side": "buy", "qty": "4", "type": "limit", "limit_price": limit.to_string()}))
        .await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "accepted");
    assert_eq!(order["limit_price"], limit.normalize().to_string());
    let id = order["id"].as_str().expect("id").to_owned();

    let res = rig
        .app
        .http
        .delete(rig.app.url(&format!("/api/v1/orders/{id}")))
        .bearer_auth(&rig.trader)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 202);
    let canceled = order_until(&rig, &id, |o| o["status"] == "canceled").await;
    assert!(canceled["canceled_at"].is_string());

    let seen = events
        .until(|e| e.event == "order" && e.data["order"]["status"] == "canceled")
        .await;
    let statuses: Vec<&str> = seen
        .iter()
        .filter(|e| e.event == "order" && e.data["order"]["id"] == id.as_str())
        .map(|e| e.data["order"]["status"].as_str().expect("status"))
        .collect();
    assert_eq!(
        statuses,
        ["pending_new", "accepted", "pending_cancel", "canceled"],
        "{seen:?}"
    );
    let ids: Vec<i64> = seen.iter().filter_map(|e| e.id).collect();
    assert!(
        ids.windows(2).all(|w| w[1] == w[0] + 1),
        "gap-free sequence: {ids:?}"
    );

    // Canceling again is refused with the order's state.
    let res = rig
        .app
        .http
        .delete(rig.app.url(&format!("/api/v1/orders/{id}")))
        .bearer_auth(&rig.trader)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error_code"], "ORDER_NOT_CANCELABLE");
    rig.app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn a_client_that_reconnects_to_the_stream_misses_nothing() {
    let sim = Sim::start().await;
    let rig = ready(&sim, &[]).await;
    let mut events = EventReader::open(&rig, None).await;
    rig.place(json!({"symbol": "SPY", "side": "buy", "qty": "1", "type": "market"}))
        .await;
    let first = events.until(|e| e.event == "fill").await;
    let last_seen = first.iter().filter_map(|e| e.id).max().expect("ids");
    drop(events);

    // While the client is away: another order fills.
    let (_, order) = rig
        .place(json!({"symbol": "QQQ", "side": "sell", "qty": "2", "type": "market"}))
        .await;
    let id = order["id"].as_str().expect("id").to_owned();
    order_until(&rig, &id, |o| o["status"] == "filled").await;

    let mut resumed = EventReader::open(&rig, Some(last_seen)).await;
    let replayed = resumed
        .until(|e| {
            e.event == "order"
                && e.data["order"]["id"] == id.as_str()
                && e.data["order"]["status"] == "filled"
        })
        .await;
    let ids: Vec<i64> = replayed.iter().filter_map(|e| e.id).collect();
    assert_eq!(
        ids.first(),
        Some(&(last_seen + 1)),
        "resumes right after the last seen event: {ids:?}"
    );
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
    let fill = replayed
        .iter()
        .find(|e| e.event == "fill")
        .expect("the missed fill is replayed");
    assert_eq!(fill.data["order"]["symbol"], "QQQ");
    assert_eq!(fill.data["qty"], "2");
    rig.app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn the_stream_reports_the_connection_state() {
    let sim = Sim::start().await;
    let rig = ready(&sim, &[]).await;
    let mut events = EventReader::open(&rig, None).await;
    let first = events.next().await;
    assert_eq!(first.event, "connection");
    assert_eq!(first.data["broker_state"], "ready");
    sim.post("/drop", json!({})).await;
    events
        .until(|e| e.event == "connection" && e.data["broker_state"] == "disconnected")
        .await;
    events
        .until(|e| e.event == "connection" && e.data["broker_state"] == "ready")
        .await;
    rig.app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn rejections_late_acknowledgements_and_bad_input_get_their_codes() {
    let sim = Sim::start().await;
    let rig = ready(&sim, &["--order-ack-timeout-ms", "300"]).await;

    sim.post("/reject", json!({"count": 1, "code": 201})).await;
    let (status, body) = rig
        .place(json!({"symbol": "AAPL", "side": "buy", "qty": "1", "type": "market"}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error_code"], "ORDER_REJECTED");
    let rejected = rig
        .get(&format!(
            "/api/v1/orders/{}",
            body["details"]["order_id"].as_str().expect("order id")
        ))
        .await;
    assert_eq!(rejected["status"], "rejected");
    assert!(
        rejected["reject_reason"]
            .as_str()
            .is_some_and(|r| r.contains("201")),
        "{rejected}"
    );

    sim.post("/delay", json!({"ms": 1500})).await;
    let (status, late) = rig
        .place(json!({"symbol": "AAPL", "side": "buy", "qty": "1", "type": "market"}))
        .await;
    assert_eq!(status, 202, "{late}");
    assert_eq!(late["status"], "pending_new");
    sim.post("/delay", json!({"ms": 0})).await;
    order_until(&rig, late["id"].as_str().expect("id"), |o| {
        o["status"] != "pending_new"
    })
    .await;

    let (status, body) = rig
        .place(json!({"symbol": "AAPL", "side": "hold", "qty": "0", "type": "limit"}))
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error_code"], "INVALID_ORDER");
    let mut fields: Vec<&str> = body["details"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["field"].as_str().expect("field"))
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["limit_price", "qty", "side"], "{body}");

    let (status, _) = rig.place(json!({"symbol": "AAPL", "side": "buy", "qty": "1", "type": "market", "client_order_id": "dup-1"})).await;
    assert_eq!(status, 201);
    let (status, body) = rig.place(json!({"symbol": "AAPL", "side": "buy", "qty": "1", "type": "market", "client_order_id": "dup-1"})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error_code"], "DUPLICATE_CLIENT_ORDER_ID");
    assert!(body["details"]["existing_order_id"].is_string());

    let (status, body) = rig
        .place(json!({"symbol": "NOPE", "side": "buy", "qty": "1", "type": "market"}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error_code"], "ORDER_REJECTED");
    assert!(
        body["details"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("200")),
        "{body}"
    );
    rig.app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn cancel_all_reports_each_order_and_viewers_cannot_trade() {
    let sim = Sim::start().await;
    let rig = ready(&sim, &[]).await;
    let below = bid(&sim, "IWM").await - rust_decimal::Decimal::from(10);
    for _ in 0..3 {
        let (status, _) = rig.place(json!({"symbol": "IWM", "side": "buy", "qty": "1", "type": "limit", "limit_price": below.to_string()})).await;
        assert_eq!(status, 201);
    }
    let res = rig
        .app
        .http
        .delete(rig.app.url("/api/v1/orders"))
        .bearer_auth(&rig.trader)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let outcomes: Value = res.json().await.expect("json");
    assert_eq!(outcomes.as_array().map(Vec::len), Some(3), "{outcomes}");
    assert!(
        outcomes
            .as_array()
            .expect("array")
            .iter()
            .all(|o| o["status"] == 200)
    );
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if rig.get("/api/v1/orders?status=open").await == json!([]) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("all canceled");

    let admin = auth_common::admin_token(&rig.app).await;
    let viewer = auth_common::user_token(&rig.app, &admin, "watcher", "viewer").await;
    let res = auth_common::post(
        &rig.app,
        "/api/v1/orders",
        Some(&viewer),
        json!({"symbol": "IWM", "side": "buy", "qty": "1", "type": "market"}),
    )
    .await;
    assert_eq!(res.status(), 403);
    let res = auth_common::get(&rig.app, "/api/v1/orders", Some(&viewer)).await;
    assert_eq!(res.status(), 200, "viewers read");
    let res = auth_common::post(
        &rig.app,
        "/api/v1/orders",
        None,
        json!({"symbol": "IWM", "side": "buy", "qty": "1", "type": "market"}),
    )
    .await;
    assert_eq!(res.status(), 401);
    rig.app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn a_working_order_is_modified_and_fills_at_its_new_price() {
    let sim = Sim::start().await;
    let rig = ready(&sim, &[]).await;
    let far = bid(&sim, "JPM").await - rust_decimal::Decimal::from(5);
    let (status, order) = rig
        .place(json!({"symbol": "JPM", "side": "buy", "qty": "10", "type": "limit", "limit_price": far.to_string(), "client_order_id": "mod-1"}))
        .await;
    assert_eq!(status, 201, "{order}");
    let id = order["id"].as_str().expect("id").to_owned();
    let closer = far + rust_decimal::Decimal::from(2);
    let res = rig
        .app
        .http
        .patch(rig.app.url(&format!("/api/v1/orders/{id}")))
        .bearer_auth(&rig.trader)
        .json(&json!({"qty": "15", "limit_price": closer.to_string()}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let modified: Value = res.json().await.expect("json");
    assert_eq!(
        modified["broker_order_id"], order["broker_order_id"],
        "same broker order"
    );
    let modified = order_until(&rig, &id, |o| o["status"] == "accepted" && o["qty"] == "15").await;
    assert_eq!(modified["limit_price"], closer.normalize().to_string());

    let res = rig
        .app
        .http
        .patch(rig.app.url(&format!("/api/v1/orders/{id}")))
        .bearer_auth(&rig.trader)
        .json(&json!({"qty": "0"}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["details"]["fields"][0]["field"], "qty", "{body}");

    sim.set_price("JPM", &(closer - rust_decimal::Decimal::ONE).to_string())
        .await;
    let filled = order_until(&rig, &id, |o| o["status"] == "filled").await;
    assert_eq!(filled["filled_qty"], "15");
    let res = rig
        .app
        .http
        .patch(rig.app.url(&format!("/api/v1/orders/{id}")))
        .bearer_auth(&rig.trader)
        .json(&json!({"qty": "20"}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error_code"], "ORDER_NOT_MODIFIABLE");

    let found = rig.get("/api/v1/orders/by-client-id/mod-1").await;
    assert_eq!(found["id"], id.as_str());
    let res = auth_common::get(
        &rig.app,
        "/api/v1/orders/by-client-id/nope",
        Some(&rig.trader),
    )
    .await;
    assert_eq!(res.status(), 404);
    rig.app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn positions_close_at_market_and_accounts_report_summary_and_pnl() {
    let sim = Sim::start().await;
    let rig = ready(&sim, &[]).await;
    let (status, order) = rig
        .place(json!({"symbol": "TSLA", "side": "buy", "qty": "5", "type": "market"}))
        .await;
    assert_eq!(status, 201, "{order}");
    order_until(&rig, order["id"].as_str().expect("id"), |o| {
        o["status"] == "filled"
    })
    .await;
    let position = rig.get("/api/v1/positions/tsla").await;
    assert_eq!(position["qty"], "5", "{position}");
    assert_eq!(position["side"], "long");

    let res = rig
        .app
        .http
        .delete(rig.app.url("/api/v1/positions/TSLA"))
        .bearer_auth(&rig.trader)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 201);
    let closing: Value = res.json().await.expect("json");
    assert_eq!(closing["side"], "sell");
    assert_eq!(closing["qty"], "5");
    order_until(&rig, closing["id"].as_str().expect("id"), |o| {
        o["status"] == "filled"
    })
    .await;
    let res = auth_common::get(&rig.app, "/api/v1/positions/TSLA", Some(&rig.trader)).await;
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error_code"], "POSITION_NOT_FOUND");

    let accounts = rig.get("/api/v1/accounts").await;
    let account = accounts[0]["id"].as_str().expect("account").to_owned();
    let summary = rig
        .get(&format!("/api/v1/accounts/{account}/summary"))
        .await;
    for field in [
        "net_liquidation",
        "total_cash_value",
        "buying_power",
        "available_funds",
        "gross_position_value",
        "maint_margin_req",
        "excess_liquidity",
    ] {
        assert!(summary[field].is_string(), "{field} in {summary}");
    }
    let pnl = rig.get(&format!("/api/v1/accounts/{account}/pnl")).await;
    assert!(
        pnl["realized"].is_string() || pnl["daily"].is_string(),
        "{pnl}"
    );
    let res = auth_common::get(
        &rig.app,
        "/api/v1/accounts/U0000000/summary",
        Some(&rig.trader),
    )
    .await;
    assert_eq!(res.status(), 404);
    rig.app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn bars_contracts_and_pages() {
    let sim = Sim::start().await;
    let rig = ready(&sim, &[]).await;
    let bars = rig
        .get("/api/v1/bars/AAPL?size=1%20hour&duration=1%20D")
        .await;
    let bars = bars.as_array().expect("bars");
    assert!(!bars.is_empty());
    assert!(
        bars.iter()
            .all(|b| b["open"].is_string() && b["high"].is_string() && b["time"].is_string())
    );
    let res = auth_common::get(
        &rig.app,
        "/api/v1/bars/AAPL?size=7%20min",
        Some(&rig.trader),
    )
    .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["details"]["fields"][0]["field"], "size", "{body}");

    let found = rig.get("/api/v1/contracts?query=msft").await;
    assert_eq!(found[0]["symbol"], "MSFT", "{found}");
    assert!(found[0]["con_id"].as_i64().is_some_and(|c| c > 0));
    let by_id = rig
        .get(&format!("/api/v1/contracts?query={}", found[0]["con_id"]))
        .await;
    assert_eq!(by_id[0]["symbol"], "MSFT");
    assert_eq!(rig.get("/api/v1/contracts?query=ZZZZZZ").await, json!([]));
    let res = auth_common::get(&rig.app, "/api/v1/contracts", Some(&rig.trader)).await;
    assert_eq!(res.status(), 400);

    for _ in 0..3 {
        rig.place(json!({"symbol": "DIA", "side": "buy", "qty": "1", "type": "market"}))
            .await;
    }
    let res = auth_common::get(&rig.app, "/api/v1/orders?limit=2", Some(&rig.trader)).await;
    let cursor = res.headers()["x-next-cursor"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let first: Value = res.json().await.expect("json");
    assert_eq!(first.as_array().map(Vec::len), Some(2));
    let res = auth_common::get(
        &rig.app,
        &format!("/api/v1/orders?limit=2&cursor={cursor}"),
        Some(&rig.trader),
    )
    .await;
    assert!(res.headers().get("x-next-cursor").is_none());
    let second: Value = res.json().await.expect("json");
    assert_eq!(second.as_array().map(Vec::len), Some(1));
    assert_ne!(second[0]["id"], first[0]["id"]);
    assert_ne!(second[0]["id"], first[1]["id"]);
    let res = auth_common::get(&rig.app, "/api/v1/orders?cursor=garbage", Some(&rig.trader)).await;
    assert_eq!(res.status(), 400);
    rig.app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn a_bracket_takes_profit_and_cancels_its_stop_and_an_oco_stops_out() {
    let sim = Sim::start().await;
    let rig = ready(&sim, &[]).await;
    let px = bid(&sim, "META").await;
    let (status, bracket) = rig
        .place(json!({
            "symbol": "META", "side": "buy", "qty": "10", "type": "market", "order_class": "bracket",
            "client_order_id": "br-1",
            "take_profit": {"limit_price": (px + rust_decimal::Decimal::from(5)).to_string()},
            "stop_loss": {"stop_price": (px - rust_decimal::Decimal::from(5)).to_string()}
        }))
        .await;
    assert_eq!(status, 201, "{bracket}");
    let legs = bracket["legs"].as_array().expect("legs");
    assert_eq!(legs.len(), 2, "{bracket}");
    assert_eq!(legs[0]["client_order_id"], "br-1.tp");
    assert_eq!(legs[0]["side"], "sell");
    assert_eq!(legs[1]["type"], "stop");
    let id = bracket["id"].as_str().expect("id").to_owned();
    let filled = order_until(&rig, &id, |o| {
        o["status"] == "filled"
            && o["legs"]
                .as_array()
                .is_some_and(|l| l.iter().all(|l| l["status"] == "accepted"))
    })
    .await;
    assert_eq!(filled["filled_qty"], "10");

    sim.set_price("META", &(px + rust_decimal::Decimal::from(6)).to_string())
        .await;
    let done = order_until(&rig, &id, |o| {
        o["legs"][0]["status"] == "filled" && o["legs"][1]["status"] == "canceled"
    })
    .await;
    assert_eq!(done["legs"][0]["filled_qty"], "10");
    let position = auth_common::get(&rig.app, "/api/v1/positions/META", Some(&rig.trader)).await;
    assert_eq!(position.status(), 404, "flat after the take-profit");

    // Now long 10 again, protected by an oco: take profit above, stop below.
    let (_, entry) = rig
        .place(json!({"symbol": "META", "side": "buy", "qty": "10", "type": "market"}))
        .await;
    order_until(&rig, entry["id"].as_str().expect("id"), |o| {
        o["status"] == "filled"
    })
    .await;
    let px = bid(&sim, "META").await;
    let (status, oco) = rig
        .place(json!({
            "symbol": "META", "side": "sell", "qty": "10", "type": "limit", "order_class": "oco",
            "limit_price": (px + rust_decimal::Decimal::from(5)).to_string(),
            "stop_loss": {"stop_price": (px - rust_decimal::Decimal::from(5)).to_string()}
        }))
        .await;
    assert_eq!(status, 201, "{oco}");
    assert_eq!(oco["legs"][0]["side"], "sell");
    let oco_id = oco["id"].as_str().expect("id").to_owned();
    sim.set_price("META", &(px - rust_decimal::Decimal::from(6)).to_string())
        .await;
    let stopped = order_until(&rig, &oco_id, |o| {
        o["status"] == "canceled" && o["legs"][0]["status"] == "filled"
    })
    .await;
    assert_eq!(stopped["legs"][0]["filled_qty"], "10");

    let (status, body) = rig
        .place(json!({"symbol": "META", "side": "buy", "qty": "1", "type": "market", "order_class": "bracket",
            "take_profit": {"limit_price": "1"}, "stop_loss": {"stop_price": "2"}}))
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["details"]["fields"][0]["field"], "take_profit.limit_price",
        "{body}"
    );
    rig.app.stop().await;
    sim.stop().await;
}

//! `Idempotency-Key` over HTTP against the simulator: a retried order is placed once, a key
//! reused with another body is refused, a retry while the first runs is told to wait, a
//! cancel replays, and two callers' keys never meet.

mod auth_common;
mod rig;
mod sim_support;
mod support;

use std::time::Duration;

use app::domain::BrokerState;
use reqwest::Response;
use rig::{Rig, bid};
use serde_json::{Value, json};
use sim_support::Sim;

async fn ready(sim: &Sim) -> Rig {
    ready_with(sim, &[]).await
}

async fn ready_with(sim: &Sim, extra: &[&str]) -> Rig {
    let rig = Rig::start(sim, extra).await;
    rig.wait("ready", 15, |s| s == BrokerState::Ready).await;
    rig
}

/// Sends `method path` with a bearer token, an `Idempotency-Key` and an optional JSON body.
async fn send(
    rig: &Rig,
    method: reqwest::Method,
    path: &str,
    token: &str,
    key: &str,
    body: Option<&Value>,
) -> Response {
    let mut req = rig
        .app
        .http
        .request(method, rig.app.url(path))
        .bearer_auth(token)
        .header("idempotency-key", key);
    if let Some(body) = body {
        req = req.json(body);
    }
    req.send().await.expect("request")
}

async fn post_order(rig: &Rig, token: &str, key: &str, body: &Value) -> Response {
    send(
        rig,
        reqwest::Method::POST,
        "/api/v1/orders",
        token,
        key,
        Some(body),
    )
    .await
}

fn replayed(res: &Response) -> bool {
    res.headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

/// Orders in the journal for `symbol`.
async fn journal_orders(rig: &Rig, symbol: &str) -> Vec<Value> {
    rig.get(&format!("/api/v1/orders?symbol={symbol}"))
        .await
        .as_array()
        .expect("array")
        .clone()
}

/// The broker's position in `symbol`, once it is not zero (positions follow fills).
async fn broker_position(rig: &Rig, symbol: &str) -> String {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let positions = rig.get("/api/v1/positions").await;
            let qty = positions
                .as_array()
                .expect("array")
                .iter()
                .find(|p| p["symbol"] == symbol)
                .and_then(|p| p["qty"].as_str())
                .map(str::to_owned);
            if let Some(qty) = qty.filter(|q| q != "0") {
                return qty;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("a position within 10 s")
}

#[tokio::test]
async fn the_same_key_and_body_place_one_order_and_replay_the_answer() {
    let sim = Sim::start().await;
    let rig = ready(&sim).await;
    let body = json!({"symbol": "MSFT", "side": "buy", "qty": "7", "type": "market"});

    let first = post_order(&rig, &rig.trader, "retry-me-1", &body).await;
    assert_eq!(first.status(), 201);
    assert!(!replayed(&first));
    let first: Value = first.json().await.expect("json");
    let second = post_order(&rig, &rig.trader, "retry-me-1", &body).await;
    assert_eq!(second.status(), 201);
    assert!(replayed(&second), "the second answer is a replay");
    let second: Value = second.json().await.expect("json");
    assert_eq!(first["id"], second["id"]);
    assert_eq!(first["client_order_id"], second["client_order_id"]);

    // One order in the journal, and the broker filled 7, not 14.
    assert_eq!(journal_orders(&rig, "MSFT").await.len(), 1);
    assert_eq!(broker_position(&rig, "MSFT").await, "7");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(broker_position(&rig, "MSFT").await, "7");
    assert_eq!(journal_orders(&rig, "MSFT").await.len(), 1);
    rig.app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused() {
    let sim = Sim::start().await;
    let rig = ready(&sim).await;
    let body = json!({"symbol": "AAPL", "side": "buy", "qty": "1", "type": "market"});
    let res = post_order(&rig, &rig.trader, "k-2", &body).await;
    assert_eq!(res.status(), 201);
    let other = json!({"symbol": "AAPL", "side": "buy", "qty": "2", "type": "market"});
    let res = post_order(&rig, &rig.trader, "k-2", &other).await;
    auth_common::expect_error(res, 422, "IDEMPOTENCY_KEY_REUSED").await;
    // The same body on another path is another request, too.
    let res = send(
        &rig,
        reqwest::Method::DELETE,
        "/api/v1/orders",
        &rig.trader,
        "k-2",
        None,
    )
    .await;
    auth_common::expect_error(res, 422, "IDEMPOTENCY_KEY_REUSED").await;
    assert_eq!(journal_orders(&rig, "AAPL").await.len(), 1);

    for bad in ["", &"x".repeat(256)] {
        let res = post_order(&rig, &rig.trader, bad, &body).await;
        auth_common::expect_error(res, 400, "INVALID_IDEMPOTENCY_KEY").await;
    }
    assert_eq!(journal_orders(&rig, "AAPL").await.len(), 1);
    rig.app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn a_retry_while_the_first_attempt_runs_is_told_to_wait() {
    let sim = Sim::start().await;
    let rig = ready(&sim).await;
    sim.post("/delay", json!({"ms": 1500})).await;
    let body = json!({"symbol": "TSLA", "side": "buy", "qty": "3", "type": "market"});

    let first = {
        let http = rig.app.http.clone();
        let url = rig.app.url("/api/v1/orders");
        let token = rig.trader.clone();
        let body = body.clone();
        tokio::spawn(async move {
            http.post(url)
                .bearer_auth(token)
                .header("idempotency-key", "slow-1")
                .json(&body)
                .send()
                .await
                .expect("request")
        })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    let res = post_order(&rig, &rig.trader, "slow-1", &body).await;
    assert!(res.headers().contains_key("retry-after"));
    auth_common::expect_error(res, 409, "IDEMPOTENCY_KEY_IN_FLIGHT").await;

    let first = first.await.expect("first request");
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.expect("json");
    sim.post("/delay", json!({"ms": 0})).await;
    let again = post_order(&rig, &rig.trader, "slow-1", &body).await;
    assert_eq!(again.status(), 201);
    assert!(replayed(&again));
    let again: Value = again.json().await.expect("json");
    assert_eq!(first["id"], again["id"]);
    assert_eq!(journal_orders(&rig, "TSLA").await.len(), 1);
    rig.app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn a_cancel_with_a_key_replays() {
    let sim = Sim::start().await;
    let rig = ready(&sim).await;
    let limit = bid(&sim, "AMZN").await - rust_decimal::Decimal::from(20);
    let (status, order) = rig
        .place(
            json!({"symbol": "AMZN", "side": "buy", "qty": "2", "type": "limit",
                      "limit_price": limit.to_string()}),
        )
        .await;
    assert_eq!(status, 201, "{order}");
    let path = format!("/api/v1/orders/{}", order["id"].as_str().expect("id"));

    let first = send(
        &rig,
        reqwest::Method::DELETE,
        &path,
        &rig.trader,
        "cancel-1",
        None,
    )
    .await;
    assert_eq!(first.status(), 202);
    assert!(!replayed(&first));
    let first: Value = first.json().await.expect("json");
    let second = send(
        &rig,
        reqwest::Method::DELETE,
        &path,
        &rig.trader,
        "cancel-1",
        None,
    )
    .await;
    assert_eq!(second.status(), 202);
    assert!(replayed(&second));
    let second: Value = second.json().await.expect("json");
    assert_eq!(first, second, "the stored answer, byte for byte");
    rig.app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn two_callers_with_the_same_key_do_not_collide() {
    let sim = Sim::start().await;
    let rig = ready(&sim).await;
    let admin = auth_common::admin_token(&rig.app).await;
    let other = auth_common::user_token(&rig.app, &admin, "trader2", "trader").await;
    let one = json!({"symbol": "NVDA", "side": "buy", "qty": "1", "type": "market"});
    let two = json!({"symbol": "NVDA", "side": "buy", "qty": "2", "type": "market"});

    let a = post_order(&rig, &rig.trader, "shared-key", &one).await;
    assert_eq!(a.status(), 201);
    let b = post_order(&rig, &other, "shared-key", &two).await;
    assert_eq!(b.status(), 201, "another caller's key is not this one's");
    assert!(!replayed(&b));
    let (a, b): (Value, Value) = (a.json().await.expect("json"), b.json().await.expect("json"));
    assert_ne!(a["id"], b["id"]);
    assert_eq!(journal_orders(&rig, "NVDA").await.len(), 2);

    // Each caller still gets their own answer back.
    let again = post_order(&rig, &other, "shared-key", &two).await;
    assert!(replayed(&again));
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["id"], b["id"]);
    rig.app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn a_key_whose_attempt_was_cut_off_is_free_again_after_the_time_limit() {
    let sim = Sim::start().await;
    // A 5 s request time limit (logins hash passwords in debug builds under load) and an
    // acknowledgement that takes longer than that: the first attempt is cut off.
    let rig = ready_with(
        &sim,
        &[
            "--request-timeout-secs",
            "5",
            "--order-ack-timeout-ms",
            "30000",
        ],
    )
    .await;
    sim.post("/delay", json!({"ms": 9000})).await;
    let body = json!({"symbol": "AAPL", "side": "buy", "qty": "1", "type": "market",
                      "client_order_id": "cut-off-1"});
    let res = post_order(&rig, &rig.trader, "cut-1", &body).await;
    auth_common::expect_error(res, 408, "REQUEST_TIMEOUT").await;

    // Still counted as running within the time limit (plus a margin)...
    let res = post_order(&rig, &rig.trader, "cut-1", &body).await;
    auth_common::expect_error(res, 409, "IDEMPOTENCY_KEY_IN_FLIGHT").await;
    // ...then abandoned: the retry runs. The client order id, journaled by the first attempt,
    // keeps the order from being placed twice.
    tokio::time::sleep(Duration::from_millis(7500)).await;
    sim.post("/delay", json!({"ms": 0})).await;
    let res = post_order(&rig, &rig.trader, "cut-1", &body).await;
    assert!(!replayed(&res));
    let body = auth_common::expect_error(res, 409, "DUPLICATE_CLIENT_ORDER_ID").await;
    assert!(body["details"]["existing_order_id"].is_string(), "{body}");
    assert_eq!(journal_orders(&rig, "AAPL").await.len(), 1);
    rig.app.stop().await;
    sim.stop().await;
}

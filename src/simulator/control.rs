//! The fault-injection HTTP API of the simulator (`--control-port`), JSON in and out.
//!
//! | Method | Path | Body | Effect |
//! |---|---|---|---|
//! | GET  | `/state` | – | faults in force, connected clients, refusing or not |
//! | POST | `/drop` | – | closes every client connection (`{"dropped": n}`) |
//! | POST | `/restart` | `{"seconds": 30}` | daily restart: drop all, refuse connections for N s |
//! | POST | `/connectivity` | `{"restore": 1101 \| 1102, "after_ms": 500}` | sends 1100 to every client, then 1101 (data lost: market data lines dropped) or 1102 (data maintained) after `after_ms`; answers once both are sent |
//! | POST | `/reject` | `{"count": 2, "code": 201}` | rejects the next N orders with that code (default 201) |
//! | POST | `/delay` | `{"ms": 300}` | delays every order acknowledgement by N ms (0 = off) |
//! | POST | `/freeze` | `{"frozen": true}` | stops (or restarts) quote movement |
//! | POST | `/end-of-day` | – | the close: DAY orders expire (OrderStatus Cancelled), GTC orders stay (`{"expired": n}`) |
//! | POST | `/price` | `{"symbol": "AAPL", "price": "190.00"}` | moves the symbol's market: bid = price, ask = price + one tick; resting orders match at once |
//! | GET  | `/quote/{symbol}` | – | the symbol's current quote |
//!
//! Errors are `{"error_code": "...", "message": "..."}` with 400 or 404.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tracing::info;

use super::codec::Outgoing;
use super::exchange::Exchange;
use super::market::Quote;

/// Whether the listener is refusing connections (simulated daily restart).
#[derive(Debug, Default)]
pub struct Gate {
    refuse_until: Mutex<Option<DateTime<Utc>>>,
}

impl Gate {
    /// Refuse connections until `until`.
    pub fn refuse_until(&self, until: DateTime<Utc>) {
        *self
            .refuse_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(until);
    }

    /// Whether a connection arriving at `now` is refused.
    pub fn refusing(&self, now: DateTime<Utc>) -> bool {
        self.refuse_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some_and(|until| now < until)
    }
}

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct ControlState {
    /// The exchange.
    pub exchange: Arc<Exchange>,
    /// The connection gate.
    pub gate: Arc<Gate>,
}

/// The control API's routes.
pub fn router(state: ControlState) -> Router {
    Router::new()
        .route("/state", get(show_state))
        .route("/drop", post(drop_all))
        .route("/restart", post(restart))
        .route("/connectivity", post(connectivity))
        .route("/reject", post(reject))
        .route("/delay", post(delay))
        .route("/freeze", post(freeze))
        .route("/end-of-day", post(end_of_day))
        .route("/price", post(set_price))
        .route("/quote/{symbol}", get(quote))
        .with_state(state)
}

fn problem(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        Json(json!({ "error_code": code, "message": message })),
    )
        .into_response()
}

async fn show_state(State(state): State<ControlState>) -> Json<serde_json::Value> {
    let now = state.exchange.now();
    Json(json!({
        "faults": state.exchange.faults(),
        "refusing_connections": state.gate.refusing(now),
        "next_order_id": state.exchange.next_valid_id(),
    }))
}

async fn drop_all(State(state): State<ControlState>) -> Json<serde_json::Value> {
    let dropped = state.exchange.drop_all();
    info!(dropped, "control: dropped all connections");
    Json(json!({ "dropped": dropped }))
}

async fn end_of_day(State(state): State<ControlState>) -> Json<serde_json::Value> {
    let expired = state.exchange.end_of_day();
    info!(expired, "control: end of day");
    Json(json!({ "expired": expired }))
}

#[derive(Debug, Deserialize)]
struct RestartBody {
    seconds: u64,
}

async fn restart(
    State(state): State<ControlState>,
    Json(body): Json<RestartBody>,
) -> Json<serde_json::Value> {
    let until = state.exchange.now()
        + chrono::Duration::seconds(i64::try_from(body.seconds).unwrap_or(i64::MAX / 2));
    state.gate.refuse_until(until);
    let dropped = state.exchange.drop_all();
    info!(
        dropped,
        seconds = body.seconds,
        "control: simulated daily restart"
    );
    Json(json!({ "dropped": dropped, "refusing_until": until.to_rfc3339() }))
}

#[derive(Debug, Deserialize)]
struct ConnectivityBody {
    restore: i32,
    #[serde(default = "default_after_ms")]
    after_ms: u64,
}

fn default_after_ms() -> u64 {
    500
}

async fn connectivity(
    State(state): State<ControlState>,
    Json(body): Json<ConnectivityBody>,
) -> Response {
    let text = match body.restore {
        1101 => "Connectivity between IB and Trader Workstation has been restored - data lost.",
        1102 => {
            "Connectivity between IB and Trader Workstation has been restored - data maintained."
        }
        other => {
            return problem(
                StatusCode::BAD_REQUEST,
                "INVALID_RESTORE_CODE",
                format!("restore must be 1101 or 1102, not {other}"),
            );
        }
    };
    let exchange = &state.exchange;
    let lost = exchange.error(
        -1,
        1100,
        "Connectivity between IB and Trader Workstation has been lost.",
    );
    let notified = exchange.broadcast(&lost);
    let restore = body.restore;
    // The restore follows after the pause, within the request, so no task outlives it.
    tokio::time::sleep(Duration::from_millis(body.after_ms)).await;
    if restore == 1101 {
        exchange.drop_market_data();
    }
    let message: Outgoing = exchange.error(-1, restore, text);
    exchange.broadcast(&message);
    Json(json!({ "notified": notified, "restore": restore, "after_ms": body.after_ms }))
        .into_response()
}

#[derive(Debug, Deserialize)]
struct RejectBody {
    count: u32,
    #[serde(default)]
    code: Option<i32>,
}

async fn reject(
    State(state): State<ControlState>,
    Json(body): Json<RejectBody>,
) -> Json<serde_json::Value> {
    let faults = state.exchange.update_faults(|f| {
        f.reject_next = body.count;
        f.reject_code = body.code.unwrap_or(201);
    });
    Json(json!({ "faults": faults }))
}

#[derive(Debug, Deserialize)]
struct DelayBody {
    ms: u64,
}

async fn delay(
    State(state): State<ControlState>,
    Json(body): Json<DelayBody>,
) -> Json<serde_json::Value> {
    let faults = state.exchange.update_faults(|f| f.ack_delay_ms = body.ms);
    Json(json!({ "faults": faults }))
}

#[derive(Debug, Deserialize)]
struct FreezeBody {
    frozen: bool,
}

async fn freeze(
    State(state): State<ControlState>,
    Json(body): Json<FreezeBody>,
) -> Json<serde_json::Value> {
    let faults = state.exchange.update_faults(|f| f.frozen = body.frozen);
    Json(json!({ "faults": faults }))
}

#[derive(Debug, Deserialize)]
struct PriceBody {
    symbol: String,
    price: Decimal,
}

/// A quote as the control API shows it.
#[derive(Debug, Serialize)]
struct QuoteView {
    symbol: String,
    bid: Decimal,
    ask: Decimal,
    last: Decimal,
    mid: Decimal,
}

fn view(symbol: &str, quote: &Quote) -> QuoteView {
    QuoteView {
        symbol: symbol.to_ascii_uppercase(),
        bid: quote.bid,
        ask: quote.ask,
        last: quote.last,
        mid: quote.mid(),
    }
}

async fn set_price(State(state): State<ControlState>, Json(body): Json<PriceBody>) -> Response {
    if body.price <= Decimal::ZERO {
        return problem(
            StatusCode::BAD_REQUEST,
            "INVALID_PRICE",
            format!("price must be positive, got {}", body.price),
        );
    }
    match state.exchange.set_price(&body.symbol, body.price) {
        Some(quote) => Json(view(&body.symbol, &quote)).into_response(),
        None => problem(
            StatusCode::NOT_FOUND,
            "UNKNOWN_SYMBOL",
            format!("{} is not in the simulator's universe", body.symbol),
        ),
    }
}

async fn quote(State(state): State<ControlState>, Path(symbol): Path<String>) -> Response {
    match state.exchange.quote(&symbol) {
        Some(quote) => Json(view(&symbol, &quote)).into_response(),
        None => problem(
            StatusCode::NOT_FOUND,
            "UNKNOWN_SYMBOL",
            format!("{symbol} is not in the simulator's universe"),
        ),
    }
}

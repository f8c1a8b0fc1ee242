//! `/api/v1/orders`, `/fills`, `/positions`, `/clock`: the order path over JSON.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use app::domain::order::{OrderRequest, OrderRequestInput, OrderStatus, OrderView};
use axum::http::HeaderValue;
use chrono::{DateTime, Utc};

use super::error::{AppError, ErrorCode};
use super::json::ApiJson;
use crate::auth::routes::Routes;
use crate::auth::{Access, Role};
use crate::desk::{DeskError, OrderPatch, Placed};
use crate::journal::orders::ListFilter;
use crate::state::AppState;

const VIEWER: Access = Access::Role(Role::Viewer);
const TRADER: Access = Access::Role(Role::Trader);

/// The order routes, declared with their access.
pub fn routes() -> Routes {
    Routes::new()
        .post("/api/v1/orders", TRADER, place)
        .get("/api/v1/orders", VIEWER, list)
        .delete("/api/v1/orders", TRADER, cancel_all)
        .get("/api/v1/orders/{id}", VIEWER, get_one)
        .patch("/api/v1/orders/{id}", TRADER, modify)
        .delete("/api/v1/orders/{id}", TRADER, cancel)
        .get(
            "/api/v1/orders/by-client-id/{client_order_id}",
            VIEWER,
            by_client_id,
        )
        .get("/api/v1/fills", VIEWER, fills)
        .get("/api/v1/positions", VIEWER, positions)
        .get("/api/v1/positions/{symbol}", VIEWER, position)
        .delete("/api/v1/positions/{symbol}", TRADER, close_position)
        .get("/api/v1/accounts", VIEWER, accounts)
        .get("/api/v1/accounts/{id}/summary", VIEWER, account_summary)
        .get("/api/v1/accounts/{id}/pnl", VIEWER, pnl)
        .get("/api/v1/bars/{symbol}", VIEWER, bars)
        .get("/api/v1/contracts", VIEWER, contracts)
        .get("/api/v1/clock", VIEWER, clock)
}

#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", request_body = app::domain::order::OrderRequestInput,
    responses(
        (status = 201, description = "Journaled and acknowledged by the broker", body = app::domain::order::OrderView),
        (status = 202, description = "Journaled; the broker's acknowledgement is late (status `pending_new`)", body = app::domain::order::OrderView),
        (status = 409, description = "`DUPLICATE_CLIENT_ORDER_ID`: `details.existing_order_id` has it", body = super::error::Envelope),
        (status = 422, description = "`INVALID_ORDER`: `details.fields` lists each field and why; or `ORDER_REJECTED`: the broker refused it", body = super::error::Envelope),
        (status = 429, description = "`PACING_LIMIT`: IB's message rate limit", body = super::error::Envelope),
        (status = 503, description = "`BROKER_NOT_READY` or `MAINTENANCE_WINDOW` (`Retry-After`)", body = super::error::Envelope),
    ))]
/// POST: 201 with the acknowledged order, 202 when the acknowledgement is late, 422
/// `ORDER_REJECTED` when the broker refused it (the order stays in the journal).
async fn place(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<OrderRequestInput>,
) -> Result<Response, AppError> {
    let request = OrderRequest::parse(&input).map_err(DeskError::Invalid)?;
    placed(state.desk.place_order(request).await?)
}

/// The answer to a placed order: 201 acknowledged, 202 pending, 422 rejected by the broker.
fn placed(outcome: Placed) -> Result<Response, AppError> {
    match outcome {
        Placed::Acknowledged(order) if order.status == OrderStatus::Rejected => {
            Err(DeskError::Rejected {
                order_id: order.id.clone(),
                reason: order.reject_reason.clone().unwrap_or_default(),
            }
            .into())
        }
        Placed::Acknowledged(order) => Ok((StatusCode::CREATED, Json(order)).into_response()),
        Placed::Pending(order) => Ok((StatusCode::ACCEPTED, Json(order)).into_response()),
    }
}

/// Filters of `GET /orders`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// `open`, `closed` or `all` (default `all`).
    status: Option<String>,
    /// Only this symbol.
    symbol: Option<String>,
    /// Created at or after (RFC 3339).
    after: Option<String>,
    /// Created before (RFC 3339).
    until: Option<String>,
    /// At most this many (default 100, at most 500).
    limit: Option<i64>,
    /// The `x-next-cursor` of the previous page.
    cursor: Option<String>,
}

fn bad(field: &str, reason: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::BadRequest, format!("{field}: {}", reason.into()))
        .with_details(json!({ "field": field }))
}

fn time(field: &str, raw: Option<&str>) -> Result<Option<DateTime<Utc>>, AppError> {
    raw.map(|t| DateTime::parse_from_rfc3339(t).map(|d| d.with_timezone(&Utc)))
        .transpose()
        .map_err(|_| {
            bad(
                field,
                "must be an RFC 3339 time such as 2026-11-25T14:30:00Z",
            )
        })
}

/// A page cursor: the last order's creation time (microseconds) and id.
fn encode_cursor(order: &OrderView) -> Option<String> {
    let created = DateTime::parse_from_rfc3339(&order.created_at).ok()?;
    Some(format!("{}_{}", created.timestamp_micros(), order.id))
}

fn decode_cursor(raw: &str) -> Result<(DateTime<Utc>, uuid::Uuid), AppError> {
    let parsed = raw.split_once('_').and_then(|(micros, id)| {
        let t = DateTime::from_timestamp_micros(micros.parse().ok()?)?;
        Some((t, id.parse().ok()?))
    });
    parsed.ok_or_else(|| bad("cursor", "is not a cursor this server issued"))
}

#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", params(ListQuery),
    responses(
        (status = 200, description = "Orders, newest first; `x-next-cursor` names the next page", body = Vec<app::domain::order::OrderView>,
            headers(("x-next-cursor" = String, description = "Pass as `cursor` for the next page"))),
        (status = 400, description = "`BAD_REQUEST`: `details.field` names the bad filter", body = super::error::Envelope),
    ))]
/// GET: newest first; when more pages exist, `x-next-cursor` names the next one.
async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let open = match q.status.as_deref() {
        None | Some("all") => None,
        Some("open") => Some(true),
        Some("closed") => Some(false),
        Some(other) => {
            return Err(bad(
                "status",
                format!("must be open, closed or all, not {other:?}"),
            ));
        }
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let filter = ListFilter {
        open,
        symbol: q.symbol.map(|s| s.trim().to_ascii_uppercase()),
        after: time("after", q.after.as_deref())?,
        until: time("until", q.until.as_deref())?,
        cursor: q.cursor.as_deref().map(decode_cursor).transpose()?,
        // One more than asked tells whether another page exists.
        limit: limit + 1,
    };
    let mut orders = state.desk.orders(&filter).await?;
    let more = orders.len() as i64 > limit;
    orders.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let mut response = Json(&orders).into_response();
    if more
        && let Some(cursor) = orders.last().and_then(encode_cursor)
        && let Ok(value) = HeaderValue::from_str(&cursor)
    {
        response.headers_mut().insert("x-next-cursor", value);
    }
    Ok(response)
}

#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders",
    params(("id" = String, Path, description = "Binder's order id")),
    responses((status = 200, description = "The order", body = app::domain::order::OrderView), (status = 404, description = "`ORDER_NOT_FOUND`", body = super::error::Envelope)))]
async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    Ok(Json(state.desk.order(&id).await?).into_response())
}

#[utoipa::path(delete, path = "/api/v1/orders/{id}", tag = "orders",
    params(("id" = String, Path, description = "Binder's order id")),
    responses(
        (status = 202, description = "Cancel requested: the order in `pending_cancel`; the broker confirms later", body = app::domain::order::OrderView),
        (status = 404, description = "`ORDER_NOT_FOUND`", body = super::error::Envelope),
        (status = 409, description = "`ORDER_NOT_CANCELABLE`: it is already done", body = super::error::Envelope),
        (status = 503, description = "`BROKER_NOT_READY`", body = super::error::Envelope),
    ))]
/// DELETE: 202 with the order in `pending_cancel` (the broker confirms asynchronously).
async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let order = state.desk.cancel_order(&id).await?;
    Ok((StatusCode::ACCEPTED, Json(order)).into_response())
}

#[utoipa::path(delete, path = "/api/v1/orders", tag = "orders",
    responses((status = 200, description = "One outcome per open order", body = Vec<app::domain::order::CancelOutcomeView>)))]
/// DELETE all: 207-style body with one outcome per open order.
async fn cancel_all(State(state): State<AppState>) -> Result<Response, AppError> {
    let outcomes = state.desk.cancel_all().await?;
    Ok((StatusCode::OK, Json(outcomes)).into_response())
}

/// Filters of `GET /fills`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct FillQuery {
    order_id: Option<String>,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/fills", tag = "orders", params(FillQuery),
    responses((status = 200, description = "Executions, newest first", body = Vec<app::domain::position::FillView>)))]
async fn fills(
    State(state): State<AppState>,
    Query(q): Query<FillQuery>,
) -> Result<Response, AppError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    Ok(Json(state.desk.fills(q.order_id.as_deref(), limit).await?).into_response())
}

fn position_json(p: &crate::broker::BrokerPosition) -> serde_json::Value {
    json!({
        "account": p.account,
        "symbol": p.symbol,
        "con_id": p.con_id,
        "qty": p.qty,
        "side": if p.qty.is_sign_negative() { "short" } else { "long" },
        "avg_cost": p.avg_cost,
        "cost_basis": (p.qty * p.avg_cost).abs(),
    })
}

#[utoipa::path(get, path = "/api/v1/positions", tag = "orders",
    responses((status = 200, description = "Positions: account, symbol, con_id, qty, side (long/short), avg_cost, cost_basis. When the broker cannot answer, the last snapshot", body = Vec<serde_json::Value>,
            headers(("x-positions-as-of" = String, description = "Present when the answer is the last snapshot: its time (RFC 3339)"))),
        (status = 503, description = "`BROKER_NOT_READY`", body = super::error::Envelope)))]
/// Live positions; when the broker cannot answer, the last recorded snapshot, marked with an
/// `x-positions-as-of` header so a client never mistakes it for live data.
async fn positions(State(state): State<AppState>) -> Result<Response, AppError> {
    match state.desk.positions().await {
        Ok(positions) => {
            Ok(Json(positions.iter().map(position_json).collect::<Vec<_>>()).into_response())
        }
        Err(err @ (DeskError::BrokerNotReady(_) | DeskError::Broker(_))) => {
            match state.desk.last_known_positions().await? {
                Some((as_of, positions)) => {
                    let mut response =
                        Json(positions.iter().map(position_json).collect::<Vec<_>>())
                            .into_response();
                    if let Ok(value) = HeaderValue::from_str(
                        &as_of.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    ) {
                        response.headers_mut().insert("x-positions-as-of", value);
                    }
                    Ok(response)
                }
                None => Err(err.into()),
            }
        }
        Err(err) => Err(err.into()),
    }
}

#[utoipa::path(get, path = "/api/v1/positions/{symbol}", tag = "orders",
    params(("symbol" = String, Path, description = "Ticker symbol")),
    responses((status = 200, description = "The position (fields as in the list)", body = serde_json::Value), (status = 404, description = "`POSITION_NOT_FOUND`", body = super::error::Envelope)))]
async fn position(
    State(state): State<AppState>,
    Path(symbol): Path<String>,
) -> Result<Response, AppError> {
    Ok(Json(position_json(&state.desk.position(&symbol).await?)).into_response())
}

#[utoipa::path(delete, path = "/api/v1/positions/{symbol}", tag = "orders",
    params(("symbol" = String, Path, description = "Ticker symbol")),
    responses(
        (status = 201, description = "The closing market order, acknowledged", body = app::domain::order::OrderView),
        (status = 202, description = "The closing market order, acknowledgement late", body = app::domain::order::OrderView),
        (status = 404, description = "`POSITION_NOT_FOUND`", body = super::error::Envelope),
        (status = 422, description = "`ORDER_REJECTED`", body = super::error::Envelope),
        (status = 503, description = "`BROKER_NOT_READY` or `MAINTENANCE_WINDOW`", body = super::error::Envelope),
    ))]
/// DELETE: closes the position at market; answers like POST /orders with the closing order.
async fn close_position(
    State(state): State<AppState>,
    Path(symbol): Path<String>,
) -> Result<Response, AppError> {
    placed(state.desk.close_position(&symbol).await?)
}

#[utoipa::path(patch, path = "/api/v1/orders/{id}", tag = "orders",
    params(("id" = String, Path, description = "Binder's order id")),
    request_body(content = serde_json::Value, description = "Any of `qty`, `limit_price`, `stop_price`, `trail_amount`, `trail_percent` (decimal strings) and `time_in_force`"),
    responses(
        (status = 200, description = "The order, modified at the broker (same broker order)", body = app::domain::order::OrderView),
        (status = 404, description = "`ORDER_NOT_FOUND`", body = super::error::Envelope),
        (status = 409, description = "`ORDER_NOT_MODIFIABLE`: its state does not allow it (`details.status`)", body = super::error::Envelope),
        (status = 422, description = "`INVALID_ORDER`: `details.fields` lists each field and why", body = super::error::Envelope),
        (status = 503, description = "`BROKER_NOT_READY`", body = super::error::Envelope),
    ))]
/// PATCH: new quantity, prices or time in force for a working order (same broker order).
async fn modify(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<OrderPatch>,
) -> Result<Response, AppError> {
    Ok(Json(state.desk.modify_order(&id, &patch).await?).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AccountQuery {
    account: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/orders/by-client-id/{client_order_id}", tag = "orders",
    params(("client_order_id" = String, Path, description = "The caller's id"), AccountQuery),
    responses((status = 200, description = "The order", body = app::domain::order::OrderView), (status = 404, description = "`ORDER_NOT_FOUND`", body = super::error::Envelope)))]
async fn by_client_id(
    State(state): State<AppState>,
    Path(client_order_id): Path<String>,
    Query(q): Query<AccountQuery>,
) -> Result<Response, AppError> {
    Ok(Json(
        state
            .desk
            .order_by_client_id(&client_order_id, q.account.as_deref())
            .await?,
    )
    .into_response())
}

#[utoipa::path(get, path = "/api/v1/accounts", tag = "orders",
    responses((status = 200, description = "The accounts the gateway session manages, each as an object with its id", body = Vec<serde_json::Value>)))]
async fn accounts(State(state): State<AppState>) -> Json<serde_json::Value> {
    let accounts: Vec<_> = state
        .desk
        .accounts()
        .into_iter()
        .map(|id| json!({ "id": id }))
        .collect();
    Json(json!(accounts))
}

#[utoipa::path(get, path = "/api/v1/accounts/{id}/summary", tag = "orders",
    params(("id" = String, Path, description = "Account id")),
    responses((status = 200, description = "Balances and margin", body = app::domain::account::AccountSummary), (status = 404, description = "`ACCOUNT_NOT_FOUND`", body = super::error::Envelope)))]
async fn account_summary(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    Ok(Json(state.desk.account_summary(&id).await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/accounts/{id}/pnl", tag = "orders",
    params(("id" = String, Path, description = "Account id")),
    responses((status = 200, description = "Daily, unrealized and realized PnL", body = app::domain::account::Pnl), (status = 404, description = "`ACCOUNT_NOT_FOUND`", body = super::error::Envelope)))]
async fn pnl(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, AppError> {
    Ok(Json(state.desk.pnl(&id).await?).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct BarsQuery {
    /// `1 min`, `5 mins`, `1 hour`, `1 day`, … (default `1 day`).
    size: Option<String>,
    /// `1 D`, `2 W`, `3600 S`, … (default `1 M`).
    duration: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/bars/{symbol}", tag = "quotes",
    params(("symbol" = String, Path, description = "Ticker symbol"), BarsQuery),
    responses((status = 200, description = "Historical bars, oldest first", body = Vec<app::domain::account::Bar>),
        (status = 429, description = "`HISTORICAL_PACING`: IB's historical data pacing rules", body = super::error::Envelope)))]
async fn bars(
    State(state): State<AppState>,
    Path(symbol): Path<String>,
    Query(q): Query<BarsQuery>,
) -> Result<Response, AppError> {
    let size = q.size.unwrap_or_else(|| "1 day".to_owned());
    let duration = q.duration.unwrap_or_else(|| "1 M".to_owned());
    Ok(Json(state.desk.bars(&symbol, &size, &duration).await?).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ContractQuery {
    query: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/contracts", tag = "quotes", params(ContractQuery),
    responses((status = 200, description = "Matching contracts", body = Vec<app::domain::account::ContractInfo>),
        (status = 400, description = "`BAD_REQUEST`: `query` is required", body = super::error::Envelope)))]
async fn contracts(
    State(state): State<AppState>,
    Query(q): Query<ContractQuery>,
) -> Result<Response, AppError> {
    let query = q
        .query
        .ok_or_else(|| bad("query", "is required: a symbol or a contract id"))?;
    Ok(Json(state.desk.contracts(&query).await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/clock", tag = "orders",
    responses((status = 200, description = "Broker time, the maintenance window and the broker link's state", body = serde_json::Value),
        (status = 503, description = "`BROKER_NOT_READY`", body = super::error::Envelope)))]
/// Broker time, and whether new orders are refused for the maintenance window.
async fn clock(State(state): State<AppState>) -> Result<Response, AppError> {
    let broker_time = state.desk.broker_time().await?;
    let window = state.desk.maintenance();
    Ok(Json(json!({
        "broker_time": broker_time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "maintenance_window": {
            "start": window.start.to_string(),
            "end": window.end.to_string(),
            "time_zone": window.tz.name(),
            "active": window.contains(chrono::Utc::now()),
        },
        "broker_state": state.desk.broker_state(),
    }))
    .into_response())
}

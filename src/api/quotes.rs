//! `/api/v1/quotes/{symbol}`: a snapshot, or a Server-Sent Events stream that holds one
//! market data line while the client listens.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;

use super::error::AppError;
use crate::auth::routes::Routes;
use crate::auth::{Access, Role};
use crate::state::AppState;

const VIEWER: Access = Access::Role(Role::Viewer);

/// The quote routes, declared with their access.
pub fn routes() -> Routes {
    Routes::new()
        .get("/api/v1/quotes/{symbol}", VIEWER, snapshot)
        .get("/api/v1/quotes/{symbol}/stream", VIEWER, stream)
}

#[utoipa::path(get, path = "/api/v1/quotes/{symbol}", tag = "quotes",
    params(("symbol" = String, Path, description = "Ticker symbol")),
    responses(
        (status = 200, description = "The latest quote", body = app::domain::quote::Quote),
        (status = 404, description = "`NOT_FOUND`: unknown symbol", body = super::error::Envelope),
        (status = 503, description = "`BROKER_NOT_READY`", body = super::error::Envelope),
    ))]
async fn snapshot(
    State(state): State<AppState>,
    Path(symbol): Path<String>,
) -> Result<Json<app::domain::quote::Quote>, AppError> {
    Ok(Json(state.desk.quote(&symbol).await?))
}

#[utoipa::path(get, path = "/api/v1/quotes/{symbol}/stream", tag = "quotes",
    params(("symbol" = String, Path, description = "Ticker symbol")),
    responses(
        (status = 200, description = "Server-Sent Events: `quote` events whose data is a Quote", content_type = "text/event-stream", body = String),
        (status = 409, description = "`MARKET_DATA_LINE_LIMIT`: no market data line is free", body = super::error::Envelope),
        (status = 503, description = "`BROKER_NOT_READY`", body = super::error::Envelope),
    ))]
/// One `quote` event now and one per change; a comment every 15 s keeps proxies from closing
/// an idle stream. 409 `MARKET_DATA_LINE_LIMIT` when no line is free.
async fn stream(
    State(state): State<AppState>,
    Path(symbol): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let watch = state.desk.watch_quotes(&symbol)?;
    let events = futures::stream::unfold((watch, true), |(mut watch, first)| async move {
        if !first && watch.quotes.changed().await.is_err() {
            return None;
        }
        let quote = watch.quotes.borrow_and_update().clone();
        let event = Event::default().event("quote").json_data(&quote).ok()?;
        Some((Ok(event), (watch, false)))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

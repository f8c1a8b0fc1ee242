//! Liveness, readiness, health and metrics: the routes monitoring and orchestrators call.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use app::domain::{BrokerState, HealthReport};

use super::error::{AppError, ErrorCode};
use crate::metrics;
use crate::state::AppState;

/// `/livez`, `/readyz`, `/health`, `/metrics`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/health", get(health))
        .route("/metrics", get(prometheus))
}

/// The process is up and serving.
async fn livez() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Ready to trade: the journal answers and the broker link is ready.
async fn readyz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, AppError> {
    let report = state.desk.health().await;
    if report.db_connected && report.broker_state == BrokerState::Ready {
        return Ok(Json(serde_json::json!({ "status": "ready" })));
    }
    Err(AppError::new(ErrorCode::NotReady, "not ready to trade")
        .with_details(serde_json::json!({
            "db_connected": report.db_connected,
            "broker_state": report.broker_state,
        }))
        .retry_after(5))
}

/// The full health report. 200 unless the journal is down (503), so probes can use it too.
async fn health(State(state): State<AppState>) -> (StatusCode, Json<HealthReport>) {
    let report = state.desk.health().await;
    let status = if report.db_connected {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report))
}

/// Prometheus text exposition.
async fn prometheus(State(state): State<AppState>) -> Response {
    metrics::sample_process();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

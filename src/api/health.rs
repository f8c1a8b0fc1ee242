//! Liveness, readiness, health and metrics: the routes monitoring and orchestrators call.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};

use app::domain::BrokerState;

use super::error::{AppError, ErrorCode};
use crate::auth::extract::MaybeAuthenticated;
use crate::auth::routes::Routes;
use crate::auth::{Access, Role};
use crate::config::Settings;
use crate::metrics;
use crate::state::AppState;

/// `/livez`, `/readyz`, `/health` (open; details only with a session or token) and
/// `/metrics` (open unless BINDER_METRICS_REQUIRE_AUTH).
pub fn routes(settings: &Settings) -> Routes {
    let metrics_access = if settings.metrics_require_auth {
        Access::Role(Role::Viewer)
    } else {
        Access::Public
    };
    Routes::new()
        .get("/livez", Access::Public, livez)
        .get("/readyz", Access::Public, readyz)
        .get("/health", Access::Public, health)
        .get("/metrics", metrics_access, prometheus)
}

/// The health routes as a router.
pub fn router(state: &AppState) -> Router<AppState> {
    routes(&state.settings).into_router(state)
}

#[utoipa::path(get, path = "/livez", tag = "health",
    responses((status = 200, description = "The process is up: `{\"status\": \"ok\"}`", body = serde_json::Value)))]
/// The process is up and serving.
async fn livez() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Ready to trade: `{\"status\": \"ready\"}`", body = serde_json::Value),
        (status = 503, description = "`NOT_READY`: the journal or the broker link is not ready", body = super::error::Envelope),
    ))]
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

#[utoipa::path(get, path = "/health", tag = "health",
    responses(
        (status = 200, description = "The full report with a session or token, only `status` without", body = app::domain::HealthReport),
        (status = 503, description = "The journal is down (same body)", body = app::domain::HealthReport),
    ))]
/// The health report: in full for a signed-in caller, only `{status}` for anyone else (the
/// details say which dependencies are down, which is reconnaissance for an attacker).
/// 200 unless the journal is down (503), so probes can use it too.
async fn health(
    State(state): State<AppState>,
    MaybeAuthenticated(caller): MaybeAuthenticated,
) -> (StatusCode, Json<serde_json::Value>) {
    let report = state.desk.health().await;
    let status = if report.db_connected {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = if caller.is_some() {
        serde_json::to_value(&report).unwrap_or_default()
    } else {
        serde_json::json!({ "status": report.status })
    };
    (status, Json(body))
}

#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain")))]
/// Prometheus text exposition.
async fn prometheus(State(state): State<AppState>) -> Response {
    metrics::sample_process();
    state.desk.sample_metrics();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

//! `/api/v1/audit`: the audit log, newest first (admins only).

use axum::extract::{Query, State};
use axum::{Json, Router};
use serde::Deserialize;

use super::error::AppError;
use crate::auth::routes::Routes;
use crate::auth::{Access, Role};
use crate::journal::audit::{self, AuditEntry};
use crate::state::AppState;

/// The audit routes, declared with their access.
pub fn routes() -> Routes {
    Routes::new().get("/api/v1/audit", Access::Role(Role::Admin), list)
}

/// The audit routes as a router.
pub fn router(state: &AppState) -> Router<AppState> {
    routes().into_router(state)
}

/// Paging and filtering: `?limit=50&before=<id>&action=login_failed`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Page {
    limit: Option<i64>,
    before: Option<i64>,
    action: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(Page),
    responses((status = 200, description = "Audit entries, newest first", body = Vec<serde_json::Value>)))]
async fn list(
    State(state): State<AppState>,
    Query(page): Query<Page>,
) -> Result<Json<Vec<AuditEntry>>, AppError> {
    let limit = page.limit.unwrap_or(100).clamp(1, 1000);
    let rows = audit::list(state.auth.db(), limit, page.before, page.action.as_deref())
        .await
        .map_err(AppError::internal)?;
    Ok(Json(rows))
}

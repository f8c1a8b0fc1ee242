//! `/api/v1/tokens`: API tokens for bots (admins only). A token is shown once, at creation.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::error::AppError;
use super::json::ApiJson;
use crate::auth::extract::Authenticated;
use crate::auth::routes::Routes;
use crate::auth::{Access, Role};
use crate::journal::users::{self, ApiTokenRow};
use crate::state::AppState;

const ADMIN: Access = Access::Role(Role::Admin);

/// The token routes, declared with their access.
pub fn routes() -> Routes {
    Routes::new()
        .get("/api/v1/tokens", ADMIN, list)
        .post("/api/v1/tokens", ADMIN, create)
        .delete("/api/v1/tokens/{id}", ADMIN, revoke)
}

/// The token routes as a router.
pub fn router(state: &AppState) -> Router<AppState> {
    routes().into_router(state)
}

/// A token as listed (no secret).
#[derive(Serialize, utoipa::ToSchema)]
struct TokenView {
    id: i64,
    name: String,
    role: String,
    created_by: Option<String>,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiTokenRow> for TokenView {
    fn from(t: ApiTokenRow) -> Self {
        Self {
            id: t.id,
            name: t.name,
            role: t.role,
            created_by: t.created_by,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    responses((status = 200, description = "Every API token (no secrets)", body = Vec<TokenView>)))]
async fn list(State(state): State<AppState>) -> Result<Json<Vec<TokenView>>, AppError> {
    let rows = users::list_api_tokens(state.auth.db())
        .await
        .map_err(AppError::internal)?;
    Ok(Json(rows.into_iter().map(TokenView::from).collect()))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct NewToken {
    name: String,
    role: Role,
}

/// The creation answer: the only time the token is shown.
#[derive(Serialize, utoipa::ToSchema)]
struct CreatedToken {
    #[serde(flatten)]
    view: TokenView,
    token: String,
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewToken,
    responses(
        (status = 201, description = "Created; `token` is shown this once (`Idempotency-Key` is ignored here, so the secret is never stored)", body = CreatedToken),
        (status = 409, description = "`TOKEN_NAME_TAKEN`", body = super::error::Envelope),
        (status = 422, description = "`VALIDATION_FAILED`: `details.field` is `name`", body = super::error::Envelope),
    ))]
async fn create(
    State(state): State<AppState>,
    Authenticated(admin): Authenticated,
    ApiJson(req): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), AppError> {
    let (row, secret) = state
        .auth
        .create_api_token(&admin.actor(), &req.name, req.role)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            view: row.into(),
            token: secret.expose_secret().to_owned(),
        }),
    ))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens",
    params(("id" = i64, Path, description = "The token's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "`NOT_FOUND`: no such API token", body = super::error::Envelope),
    ))]
async fn revoke(
    State(state): State<AppState>,
    Authenticated(admin): Authenticated,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    state.auth.revoke_api_token(&admin.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

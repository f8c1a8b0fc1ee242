//! `/api/v1/auth/…`: sign in, refresh, sign out, and who am I.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Json, Router};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::error::AppError;
use super::json::ApiJson;
use crate::auth::extract::Authenticated;
use crate::auth::routes::Routes;
use crate::auth::{Access, Credential, IssuedTokens, Role};
use crate::state::AppState;

/// The auth routes, declared with their access.
pub fn routes() -> Routes {
    Routes::new()
        .post("/api/v1/auth/login", Access::Public, login)
        .post("/api/v1/auth/refresh", Access::Public, refresh)
        .post("/api/v1/auth/logout", Access::Role(Role::Viewer), logout)
        .get("/api/v1/auth/me", Access::Role(Role::Viewer), me)
}

/// The auth routes as a router (for callers that mount one module alone).
pub fn router(state: &AppState) -> Router<AppState> {
    routes().into_router(state)
}

/// `POST /api/v1/auth/login` body. The password never reaches `Debug` or a log.
#[derive(Deserialize, utoipa::ToSchema)]
struct LoginRequest {
    username: String,
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = IssuedTokens),
        (status = 401, description = "`INVALID_CREDENTIALS`", body = super::error::Envelope),
        (status = 423, description = "`ACCOUNT_LOCKED`", body = super::error::Envelope),
        (status = 429, description = "`LOGIN_THROTTLED` (`Retry-After` says how long)", body = super::error::Envelope),
    ))]
async fn login(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<IssuedTokens>, AppError> {
    Ok(Json(state.auth.login(&req.username, req.password).await?))
}

/// `POST /api/v1/auth/refresh` body.
#[derive(Deserialize, utoipa::ToSchema)]
struct RefreshRequest {
    #[schema(value_type = String)]
    refresh_token: SecretString,
}

#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair; the presented refresh token is spent", body = IssuedTokens),
        (status = 401, description = "`UNAUTHENTICATED` (invalid or expired) or `REFRESH_TOKEN_REUSED` (the session is revoked)", body = super::error::Envelope),
    ))]
async fn refresh(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<Json<IssuedTokens>, AppError> {
    Ok(Json(state.auth.refresh(&req.refresh_token).await?))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204, description = "The session is ended")))]
async fn logout(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<StatusCode, AppError> {
    state.auth.logout(&principal).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/auth/me`.
#[derive(Serialize, utoipa::ToSchema)]
struct Me {
    username: String,
    role: Role,
    /// `session` or `api_token`.
    credential: &'static str,
    /// When the access token expires (sessions only), seconds since the epoch.
    expires_at: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses((status = 200, description = "The caller", body = Me)))]
async fn me(Authenticated(principal): Authenticated) -> Json<Me> {
    let (credential, expires_at) = match principal.via {
        Credential::Session { expires_at, .. } => ("session", Some(expires_at)),
        Credential::ApiToken { .. } => ("api_token", None),
    };
    Json(Me {
        username: principal.name,
        role: principal.role,
        credential,
        expires_at,
    })
}

//! `/api/v1/users`: user administration (admins only).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::error::AppError;
use super::json::ApiJson;
use crate::auth::extract::Authenticated;
use crate::auth::routes::Routes;
use crate::auth::{Access, Role};
use crate::journal::users::{self, UserRow};
use crate::state::AppState;

const ADMIN: Access = Access::Role(Role::Admin);

/// The user routes, declared with their access.
pub fn routes() -> Routes {
    Routes::new()
        .get("/api/v1/users", ADMIN, list)
        .post("/api/v1/users", ADMIN, create)
        .patch("/api/v1/users/{username}", ADMIN, update)
        .post("/api/v1/users/{username}/unlock", ADMIN, unlock)
}

/// The user routes as a router.
pub fn router(state: &AppState) -> Router<AppState> {
    routes().into_router(state)
}

/// A user as admins see it (never the hash).
#[derive(Serialize, utoipa::ToSchema)]
struct UserView {
    username: String,
    role: String,
    disabled: bool,
    locked: bool,
    failed_logins: i32,
    created_at: DateTime<Utc>,
}

impl From<UserRow> for UserView {
    fn from(u: UserRow) -> Self {
        Self {
            username: u.username,
            role: u.role,
            disabled: u.disabled,
            locked: u.locked_at.is_some(),
            failed_logins: u.failed_logins,
            created_at: u.created_at,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, description = "Every user", body = Vec<UserView>)))]
async fn list(State(state): State<AppState>) -> Result<Json<Vec<UserView>>, AppError> {
    let rows = users::list_users(state.auth.db())
        .await
        .map_err(AppError::internal)?;
    Ok(Json(rows.into_iter().map(UserView::from).collect()))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct NewUser {
    username: String,
    #[schema(value_type = String, format = Password)]
    password: SecretString,
    role: Role,
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 409, description = "`USERNAME_TAKEN`", body = super::error::Envelope),
        (status = 422, description = "`VALIDATION_FAILED`: `details.field` names the field (username, password)", body = super::error::Envelope),
    ))]
async fn create(
    State(state): State<AppState>,
    Authenticated(admin): Authenticated,
    ApiJson(req): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<UserView>), AppError> {
    let row = state
        .auth
        .create_user(Some(&admin.actor()), &req.username, req.password, req.role)
        .await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct UserChange {
    role: Option<Role>,
    disabled: Option<bool>,
    #[schema(value_type = Option<String>, format = Password)]
    password: Option<SecretString>,
}

#[utoipa::path(patch, path = "/api/v1/users/{username}", tag = "users", request_body = UserChange,
    params(("username" = String, Path, description = "The user")),
    responses(
        (status = 200, description = "Changed; the user's sessions are ended", body = UserView),
        (status = 404, description = "`NOT_FOUND`: no such user", body = super::error::Envelope),
        (status = 422, description = "`VALIDATION_FAILED`", body = super::error::Envelope),
    ))]
async fn update(
    State(state): State<AppState>,
    Authenticated(admin): Authenticated,
    Path(username): Path<String>,
    ApiJson(req): ApiJson<UserChange>,
) -> Result<Json<UserView>, AppError> {
    let row = state
        .auth
        .update_user(
            &admin.actor(),
            &username,
            req.role,
            req.disabled,
            req.password,
        )
        .await?;
    Ok(Json(row.into()))
}

#[utoipa::path(post, path = "/api/v1/users/{username}/unlock", tag = "users",
    params(("username" = String, Path, description = "The user")),
    responses(
        (status = 204, description = "Unlocked"),
        (status = 404, description = "`NOT_FOUND`: no such user", body = super::error::Envelope),
    ))]
async fn unlock(
    State(state): State<AppState>,
    Authenticated(admin): Authenticated,
    Path(username): Path<String>,
) -> Result<StatusCode, AppError> {
    state.auth.unlock_user(&admin.actor(), &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! Users, refresh tokens and API tokens: the SQL behind sign-in and permissions.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::JournalError;

/// A user row (the password hash included: callers keep it away from responses and logs).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    /// Surrogate key.
    pub id: i64,
    /// Unique login name.
    pub username: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// `admin`, `trader` or `viewer`.
    pub role: String,
    /// A disabled user cannot sign in and loses every session.
    pub disabled: bool,
    /// Consecutive failed logins.
    pub failed_logins: i32,
    /// When the last failed login happened.
    pub last_failed_at: Option<DateTime<Utc>>,
    /// Set when too many failures locked the account; cleared by an admin.
    pub locked_at: Option<DateTime<Utc>>,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
}

const USER_COLUMNS: &str = "id, username, password_hash, role, disabled, failed_logins, \
                            last_failed_at, locked_at, created_at";

/// Whether any user exists (first start creates the admin when none does).
pub async fn any_user(pool: &PgPool) -> Result<bool, JournalError> {
    Ok(sqlx::query_scalar("select exists (select 1 from users)")
        .fetch_one(pool)
        .await?)
}

/// Inserts a user. A taken name surfaces as the `users_username_key` constraint.
pub async fn insert_user(
    pool: &PgPool,
    username: &str,
    password_hash: &str,
    role: &str,
) -> Result<UserRow, sqlx::Error> {
    sqlx::query_as(&format!(
        "insert into users (username, password_hash, role) values ($1, $2, $3) \
         returning {USER_COLUMNS}"
    ))
    .bind(username)
    .bind(password_hash)
    .bind(role)
    .fetch_one(pool)
    .await
}

/// Finds a user by name.
pub async fn user_by_name(pool: &PgPool, username: &str) -> Result<Option<UserRow>, JournalError> {
    Ok(sqlx::query_as(&format!(
        "select {USER_COLUMNS} from users where username = $1"
    ))
    .bind(username)
    .fetch_optional(pool)
    .await?)
}

/// Finds an enabled user whose session family (if any) has not been revoked.
pub async fn active_session_user(
    pool: &PgPool,
    user_id: i64,
    family: Option<Uuid>,
) -> Result<Option<UserRow>, JournalError> {
    Ok(sqlx::query_as(&format!(
        "select {USER_COLUMNS} from users u where u.id = $1 and not u.disabled \
         and not exists (select 1 from refresh_tokens r \
                         where $2::uuid is not null and r.family = $2 and r.revoked_at is not null)"
    ))
    .bind(user_id)
    .bind(family)
    .fetch_optional(pool)
    .await?)
}

/// Every user, by name.
pub async fn list_users(pool: &PgPool) -> Result<Vec<UserRow>, JournalError> {
    Ok(sqlx::query_as(&format!(
        "select {USER_COLUMNS} from users order by username"
    ))
    .fetch_all(pool)
    .await?)
}

/// Counts a failed login; locks the account when the count reaches `lock_after`.
/// Returns the updated row.
pub async fn record_failed_login(
    pool: &PgPool,
    user_id: i64,
    lock_after: i32,
) -> Result<UserRow, JournalError> {
    Ok(sqlx::query_as(&format!(
        "update users set failed_logins = failed_logins + 1, last_failed_at = now(), \
         locked_at = case when failed_logins + 1 >= $2 then coalesce(locked_at, now()) else locked_at end \
         where id = $1 returning {USER_COLUMNS}"
    ))
    .bind(user_id)
    .bind(lock_after)
    .fetch_one(pool)
    .await?)
}

/// A successful login clears the failure count.
pub async fn record_successful_login(pool: &PgPool, user_id: i64) -> Result<(), JournalError> {
    sqlx::query("update users set failed_logins = 0, last_failed_at = null where id = $1")
        .bind(user_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Clears a lock and the failure count. Returns whether the user exists.
pub async fn unlock_user(pool: &PgPool, username: &str) -> Result<bool, JournalError> {
    let done = sqlx::query(
        "update users set failed_logins = 0, last_failed_at = null, locked_at = null, \
         updated_at = now() where username = $1",
    )
    .bind(username)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Changes role, disabled flag and/or password hash; `None` leaves a column as it is.
pub async fn update_user(
    pool: &PgPool,
    username: &str,
    role: Option<&str>,
    disabled: Option<bool>,
    password_hash: Option<&str>,
) -> Result<Option<UserRow>, JournalError> {
    let mut tx = pool.begin().await?;
    let row: Option<UserRow> = sqlx::query_as(&format!(
        "update users set role = coalesce($2, role), disabled = coalesce($3, disabled), \
         password_hash = coalesce($4, password_hash), updated_at = now() \
         where username = $1 returning {USER_COLUMNS}"
    ))
    .bind(username)
    .bind(role)
    .bind(disabled)
    .bind(password_hash)
    .fetch_optional(&mut *tx)
    .await?;
    // A new password, a new role or a disabled account ends the sessions issued before.
    if let Some(user) = &row {
        sqlx::query(
            "update refresh_tokens set revoked_at = now() where user_id = $1 and revoked_at is null",
        )
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(row)
}

/// A refresh token row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefreshRow {
    /// The token's id (also part of the token).
    pub jti: Uuid,
    /// The login it descends from.
    pub family: Uuid,
    /// Its owner.
    pub user_id: i64,
    /// SHA-256 of the whole token.
    pub token_hash: Vec<u8>,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
    /// When it was exchanged for its successor.
    pub rotated_at: Option<DateTime<Utc>>,
    /// When its family was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Stores a newly issued refresh token.
pub async fn insert_refresh(
    pool: &PgPool,
    jti: Uuid,
    family: Uuid,
    user_id: i64,
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> Result<(), JournalError> {
    sqlx::query(
        "insert into refresh_tokens (jti, family, user_id, token_hash, expires_at) \
         values ($1, $2, $3, $4, $5)",
    )
    .bind(jti)
    .bind(family)
    .bind(user_id)
    .bind(token_hash)
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Deletes a user's refresh tokens that expired more than a day ago (kept that long so a
/// late reuse is still recognised), so the table does not grow without bound.
pub async fn purge_expired_refresh(pool: &PgPool, user_id: i64) -> Result<(), JournalError> {
    sqlx::query(
        "delete from refresh_tokens where user_id = $1 and expires_at < now() - interval '1 day'",
    )
    .bind(user_id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Finds a refresh token by id.
pub async fn refresh_by_jti(pool: &PgPool, jti: Uuid) -> Result<Option<RefreshRow>, JournalError> {
    Ok(sqlx::query_as(
        "select jti, family, user_id, token_hash, expires_at, rotated_at, revoked_at \
         from refresh_tokens where jti = $1",
    )
    .bind(jti)
    .fetch_optional(pool)
    .await?)
}

/// Marks a token rotated, only if nobody else did first. Returns whether this call won.
pub async fn mark_rotated(pool: &PgPool, jti: Uuid) -> Result<bool, JournalError> {
    let done = sqlx::query(
        "update refresh_tokens set rotated_at = now() \
         where jti = $1 and rotated_at is null and revoked_at is null",
    )
    .bind(jti)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes every token of a family (logout, reuse detected).
pub async fn revoke_family(pool: &PgPool, family: Uuid) -> Result<(), JournalError> {
    sqlx::query(
        "update refresh_tokens set revoked_at = coalesce(revoked_at, now()) where family = $1",
    )
    .bind(family)
    .execute(pool)
    .await?;
    Ok(())
}

/// An API token row (no secret: only its hash is stored, and not returned here).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiTokenRow {
    /// Surrogate key, used to revoke.
    pub id: i64,
    /// Unique name chosen by the admin.
    pub name: String,
    /// The role the token acts with.
    pub role: String,
    /// The admin who created it.
    pub created_by: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last accepted.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

const TOKEN_COLUMNS: &str = "id, name, role, created_by, created_at, last_used_at, revoked_at";

/// Stores a new API token's hash. A taken name surfaces as `api_tokens_name_key`.
pub async fn insert_api_token(
    pool: &PgPool,
    name: &str,
    role: &str,
    token_hash: &[u8],
    created_by: &str,
) -> Result<ApiTokenRow, sqlx::Error> {
    sqlx::query_as(&format!(
        "insert into api_tokens (name, role, token_hash, created_by) values ($1, $2, $3, $4) \
         returning {TOKEN_COLUMNS}"
    ))
    .bind(name)
    .bind(role)
    .bind(token_hash)
    .bind(created_by)
    .fetch_one(pool)
    .await
}

/// Accepts a token by hash: returns it (unrevoked) and stamps its last use.
pub async fn use_api_token(
    pool: &PgPool,
    token_hash: &[u8],
) -> Result<Option<ApiTokenRow>, JournalError> {
    Ok(sqlx::query_as(&format!(
        "update api_tokens set last_used_at = now() \
         where token_hash = $1 and revoked_at is null returning {TOKEN_COLUMNS}"
    ))
    .bind(token_hash)
    .fetch_optional(pool)
    .await?)
}

/// Every API token, newest first.
pub async fn list_api_tokens(pool: &PgPool) -> Result<Vec<ApiTokenRow>, JournalError> {
    Ok(sqlx::query_as(&format!(
        "select {TOKEN_COLUMNS} from api_tokens order by created_at desc, id desc"
    ))
    .fetch_all(pool)
    .await?)
}

/// Revokes a token. Returns it, or `None` when no such token exists.
pub async fn revoke_api_token(pool: &PgPool, id: i64) -> Result<Option<ApiTokenRow>, JournalError> {
    Ok(sqlx::query_as(&format!(
        "update api_tokens set revoked_at = coalesce(revoked_at, now()) where id = $1 \
         returning {TOKEN_COLUMNS}"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?)
}

/// The name of the unique or check constraint a failed statement violated, if any.
pub fn violated_constraint(err: &sqlx::Error) -> Option<String> {
    match err {
        sqlx::Error::Database(db) => db.constraint().map(str::to_owned),
        _ => None,
    }
}

//! People and permissions: users, passwords, sessions (JWT + rotating refresh tokens), API
//! tokens, login throttling, the request extractors that enforce roles, and the edge guards
//! (CSRF, security headers) that protect the browser session.
//!
//! Secrets stay out of logs: passwords and tokens travel as [`SecretString`] or are hashed at
//! once, and nothing here formats one into a message.

pub mod cli;
pub mod cookies;
pub mod edge;
pub mod extract;
pub mod jwt;
pub mod password;
pub mod routes;
pub mod tokens;
pub mod ui;

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

pub use app::access::{Access, Role, SessionUser};

use crate::api::error::{AppError, ErrorCode};
use crate::config::Settings;
use crate::journal::users::{self, UserRow};
use crate::journal::{JournalError, audit};
use crate::metrics::{AuthFailure, record_auth_failure};

/// Failures before each further attempt has to wait.
pub const FREE_ATTEMPTS: i32 = 5;
/// Longest wait between attempts once the delay grows.
const MAX_DELAY_SECS: i64 = 300;
/// How long after a rotation a browser may present the old refresh cookie without it counting
/// as reuse (two tabs or two requests refreshing at once); the late request is only refused.
const COOKIE_REFRESH_GRACE_SECS: i64 = 30;

/// Who is calling, as resolved from a bearer token or the session cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Username, or the API token's name.
    pub name: String,
    /// The role in force now (re-read from the journal on each request).
    pub role: Role,
    /// How the caller proved who it is.
    pub via: Credential,
}

/// The kind of credential a principal presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// A session: an access token (bearer or cookie) of a login's refresh family.
    Session {
        /// The user's id.
        user_id: i64,
        /// The login's refresh family.
        family: Uuid,
        /// When the access token expires.
        expires_at: i64,
    },
    /// An API token.
    ApiToken {
        /// The token's id.
        id: i64,
    },
}

impl Principal {
    /// How the principal appears in the audit log.
    pub fn actor(&self) -> String {
        match self.via {
            Credential::Session { .. } => self.name.clone(),
            Credential::ApiToken { .. } => format!("token:{}", self.name),
        }
    }

    /// The view the UI gets.
    pub fn session_user(&self) -> SessionUser {
        SessionUser {
            username: self.name.clone(),
            role: self.role,
        }
    }
}

/// What a successful login or refresh hands out.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedTokens {
    /// The JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Exchange it at `/api/v1/auth/refresh` for a new pair; usable once.
    pub refresh_token: String,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: u64,
    /// The signed-in user's role.
    pub role: Role,
    /// The signed-in user's name.
    pub username: String,
}

/// Why an authentication step failed. Mapped to [`AppError`] at the edge.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No credential, or one that does not verify.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// A browser presented a refresh cookie another request rotated a moment ago.
    #[error("the session was refreshed by another request; retry")]
    RefreshRace,
    /// Wrong username or password.
    #[error("wrong username or password")]
    InvalidCredentials,
    /// Locked after too many failures.
    #[error("this account is locked after too many failed logins; an admin can unlock it")]
    Locked,
    /// Must wait before the next attempt.
    #[error("too many failed logins; wait {0} s before trying again")]
    Throttled(u64),
    /// A rotated refresh token came back: the family is revoked.
    #[error("this refresh token was already used; the session has been ended, sign in again")]
    RefreshReused,
    /// The role does not include what is needed.
    #[error("this needs the {0} role")]
    Forbidden(Role),
    /// A value the caller chose is not acceptable.
    #[error("{message}")]
    Invalid {
        /// The offending field.
        field: &'static str,
        /// Why.
        message: String,
    },
    /// A name is taken.
    #[error("{1}")]
    Conflict(ErrorCode, &'static str),
    /// No such user or token.
    #[error("{0}")]
    NotFound(&'static str),
    /// The journal failed.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// Hashing failed.
    #[error(transparent)]
    Password(#[from] password::PasswordError),
    /// Signing failed.
    #[error("cannot sign the access token: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

impl From<sqlx::Error> for AuthError {
    fn from(err: sqlx::Error) -> Self {
        Self::Journal(JournalError::Query(err))
    }
}

impl From<AuthError> for AppError {
    fn from(err: AuthError) -> Self {
        let message = err.to_string();
        match err {
            AuthError::Unauthenticated(_) | AuthError::RefreshRace => {
                AppError::new(ErrorCode::Unauthenticated, message)
            }
            AuthError::InvalidCredentials => AppError::new(ErrorCode::InvalidCredentials, message),
            AuthError::Locked => AppError::new(ErrorCode::AccountLocked, message),
            AuthError::Throttled(secs) => {
                AppError::new(ErrorCode::LoginThrottled, message).retry_after(secs)
            }
            AuthError::RefreshReused => AppError::new(ErrorCode::RefreshTokenReused, message),
            AuthError::Forbidden(role) => AppError::new(ErrorCode::Forbidden, message)
                .with_details(serde_json::json!({ "required_role": role })),
            AuthError::Invalid { field, .. } => AppError::new(ErrorCode::ValidationFailed, message)
                .with_details(serde_json::json!({ "field": field })),
            AuthError::Conflict(code, _) => AppError::new(code, message),
            AuthError::NotFound(_) => AppError::new(ErrorCode::NotFound, message),
            AuthError::Journal(e) => AppError::internal(e),
            AuthError::Password(e) => AppError::internal(e),
            AuthError::Sign(e) => AppError::internal(e),
        }
    }
}

/// The authentication service: one per process, shared through `AppState`.
pub struct Auth {
    db: PgPool,
    keys: jwt::Keys,
    access_ttl: Duration,
    refresh_ttl: Duration,
    lock_after: i32,
    secure_cookies: bool,
    /// A hash to verify against when the username is unknown, so that the answer takes as
    /// long as for a known one.
    decoy_hash: tokio::sync::OnceCell<String>,
}

impl Auth {
    /// Builds the service. In development a missing or short `BINDER_JWT_SECRET` is replaced by
    /// a random one (sessions then end on restart); production start-up has refused it earlier.
    pub fn new(settings: &Settings, db: PgPool) -> Self {
        Self::build(settings, db, true)
    }

    /// Like [`Auth::new`] without the warning: for the CLI, which issues no sessions.
    pub fn new_quiet(settings: &Settings, db: PgPool) -> Self {
        Self::build(settings, db, false)
    }

    fn build(settings: &Settings, db: PgPool, warn: bool) -> Self {
        let configured = settings
            .jwt_secret
            .as_ref()
            .map(|s| s.expose_secret().as_bytes().to_vec())
            .filter(|s| s.len() >= 32);
        let secret = configured.unwrap_or_else(|| {
            if warn {
                tracing::warn!(
                    "BINDER_JWT_SECRET is not set (or shorter than 32 bytes): using a random one \
                     for this run, so sessions end when Binder restarts. Set it (openssl rand \
                     -base64 48)."
                );
            }
            tokens::random_bytes::<48>().to_vec()
        });
        Self {
            db,
            keys: jwt::Keys::new(&secret),
            access_ttl: Duration::from_secs(settings.access_token_ttl_secs),
            refresh_ttl: Duration::from_secs(settings.refresh_token_ttl_secs),
            lock_after: i32::try_from(settings.login_lock_after).unwrap_or(100),
            secure_cookies: settings.behind_https(),
            decoy_hash: tokio::sync::OnceCell::new(),
        }
    }

    /// Whether cookies are `Secure` and `__Host-` prefixed.
    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies
    }

    /// Access token lifetime.
    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    /// Refresh token lifetime.
    pub fn refresh_ttl(&self) -> Duration {
        self.refresh_ttl
    }

    /// The journal pool (for the admin handlers' audit reads).
    pub fn db(&self) -> &PgPool {
        &self.db
    }

    /// First start: with no users, creates `admin` from `BINDER_ADMIN_PASSWORD`, or logs how
    /// to create the first admin. A journal that cannot be read is logged, not fatal.
    pub async fn bootstrap(&self, settings: &Settings) {
        match users::any_user(&self.db).await {
            Ok(true) => {}
            Ok(false) => match settings.first_admin_password() {
                Some(password) => {
                    match self
                        .create_user(None, "admin", password.clone(), Role::Admin)
                        .await
                    {
                        Ok(_) => tracing::info!(
                            "created the first admin account `admin` from BINDER_ADMIN_PASSWORD"
                        ),
                        Err(err) => tracing::error!(
                            error = %err,
                            "cannot create the first admin from BINDER_ADMIN_PASSWORD"
                        ),
                    }
                }
                None => tracing::warn!("{}", FIRST_ADMIN_HINT),
            },
            Err(err) => tracing::error!(error = %err, "cannot check for users in the journal"),
        }
    }

    /// Whether no user exists yet (the login page then explains how to create one).
    pub async fn needs_first_admin(&self) -> bool {
        matches!(users::any_user(&self.db).await, Ok(false))
    }

    /// Signs in with a username and password.
    #[tracing::instrument(skip_all, fields(username = %username))]
    pub async fn login(
        &self,
        username: &str,
        password: SecretString,
    ) -> Result<IssuedTokens, AuthError> {
        let username = normalize_username(username);
        let Some(user) = users::user_by_name(&self.db, &username).await? else {
            // Same work as for a real account, so timing does not reveal which names exist.
            let decoy = self.decoy().await?;
            let _ = password::verify(password, decoy).await?;
            return Err(self
                .fail_login(None, &username, AuthFailure::UnknownUser)
                .await);
        };
        if user.locked_at.is_some() {
            return Err(self
                .fail_login(Some(&user), &username, AuthFailure::Locked)
                .await);
        }
        if let Some(wait) = throttle_wait(user.failed_logins, user.last_failed_at, Utc::now()) {
            record_auth_failure(AuthFailure::Throttled);
            return Err(AuthError::Throttled(wait));
        }
        let matches = password::verify(password, user.password_hash.clone()).await?;
        if !matches {
            return Err(self
                .fail_login(Some(&user), &username, AuthFailure::BadPassword)
                .await);
        }
        if user.disabled {
            return Err(self
                .fail_login(Some(&user), &username, AuthFailure::Disabled)
                .await);
        }
        users::record_successful_login(&self.db, user.id).await?;
        users::purge_expired_refresh(&self.db, user.id).await?;
        self.audit(
            Some(&username),
            "login_succeeded",
            Some(&username),
            serde_json::json!({}),
        )
        .await;
        self.issue(&user, Uuid::new_v4()).await
    }

    /// Records a failed login (count, lock, audit, metric) and returns the error to answer.
    async fn fail_login(
        &self,
        user: Option<&UserRow>,
        username: &str,
        reason: AuthFailure,
    ) -> AuthError {
        record_auth_failure(reason);
        let details = serde_json::json!({ "reason": reason.as_str() });
        self.audit(None, "login_failed", Some(username), details)
            .await;
        match (user, reason) {
            (_, AuthFailure::Locked) => AuthError::Locked,
            (Some(user), AuthFailure::BadPassword) => {
                match users::record_failed_login(&self.db, user.id, self.lock_after).await {
                    Ok(updated) if updated.locked_at.is_some() => {
                        record_auth_failure(AuthFailure::Locked);
                        let details = serde_json::json!({ "failed_logins": updated.failed_logins });
                        self.audit(None, "account_locked", Some(username), details)
                            .await;
                        tracing::warn!(username, "account locked after repeated failed logins");
                        AuthError::Locked
                    }
                    Ok(_) => AuthError::InvalidCredentials,
                    Err(err) => AuthError::Journal(err),
                }
            }
            _ => AuthError::InvalidCredentials,
        }
    }

    async fn decoy(&self) -> Result<String, AuthError> {
        let hash = self
            .decoy_hash
            .get_or_try_init(|| {
                let random = tokens::encode(&tokens::random_bytes::<24>());
                password::hash(SecretString::from(random))
            })
            .await?;
        Ok(hash.clone())
    }

    /// Issues an access token and a refresh token in `family`.
    async fn issue(&self, user: &UserRow, family: Uuid) -> Result<IssuedTokens, AuthError> {
        let role = parse_role(&user.role)?;
        let now = Utc::now();
        let access_secs = i64::try_from(self.access_ttl.as_secs()).unwrap_or(900);
        let claims = jwt::Claims {
            sub: user.id.to_string(),
            name: user.username.clone(),
            role: role.as_str().to_owned(),
            sid: family,
            iss: jwt::ISSUER.to_owned(),
            aud: jwt::AUDIENCE.to_owned(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: now.timestamp() + access_secs,
            jti: Uuid::new_v4(),
        };
        let access_token = self.keys.sign(&claims)?;
        let refresh = tokens::RefreshToken::generate();
        let refresh_secs = i64::try_from(self.refresh_ttl.as_secs()).unwrap_or(43_200);
        users::insert_refresh(
            &self.db,
            refresh.jti,
            family,
            user.id,
            &refresh.hash(),
            now + chrono::Duration::seconds(refresh_secs),
        )
        .await?;
        Ok(IssuedTokens {
            access_token,
            token_type: "Bearer",
            expires_in: self.access_ttl.as_secs(),
            refresh_token: refresh.expose(),
            refresh_expires_in: self.refresh_ttl.as_secs(),
            role,
            username: user.username.clone(),
        })
    }

    /// Exchanges a refresh token for a new pair (the old one is then spent). Presenting a
    /// spent token revokes its whole family.
    pub async fn refresh(&self, presented: &SecretString) -> Result<IssuedTokens, AuthError> {
        self.refresh_inner(presented, false).await
    }

    /// Like [`Auth::refresh`] for the browser's refresh cookie: a spent cookie shortly after
    /// its rotation is refused without revoking (concurrent requests refreshing at once).
    pub async fn refresh_cookie(
        &self,
        presented: &SecretString,
    ) -> Result<IssuedTokens, AuthError> {
        self.refresh_inner(presented, true).await
    }

    async fn refresh_inner(
        &self,
        presented: &SecretString,
        grace: bool,
    ) -> Result<IssuedTokens, AuthError> {
        let invalid = || {
            record_auth_failure(AuthFailure::InvalidToken);
            AuthError::Unauthenticated("the refresh token is not valid")
        };
        let Some(jti) = tokens::RefreshToken::jti_of(presented.expose_secret()) else {
            return Err(invalid());
        };
        let Some(row) = users::refresh_by_jti(&self.db, jti).await? else {
            return Err(invalid());
        };
        if !tokens::hash_matches(presented.expose_secret(), &row.token_hash) {
            return Err(invalid());
        }
        if row.revoked_at.is_some() {
            record_auth_failure(AuthFailure::InvalidToken);
            return Err(AuthError::Unauthenticated(
                "this session has ended; sign in again",
            ));
        }
        let now = Utc::now();
        if let Some(rotated) = row.rotated_at {
            if grace && (now - rotated).num_seconds() < COOKIE_REFRESH_GRACE_SECS {
                return Err(AuthError::RefreshRace);
            }
            return Err(self.reuse_detected(&row).await);
        }
        if row.expires_at <= now {
            record_auth_failure(AuthFailure::ExpiredToken);
            return Err(AuthError::Unauthenticated(
                "the refresh token has expired; sign in again",
            ));
        }
        if !users::mark_rotated(&self.db, jti).await? {
            // Someone rotated it between our read and our write: the same token was used twice.
            return Err(self.reuse_detected(&row).await);
        }
        let Some(user) =
            users::active_session_user(&self.db, row.user_id, Some(row.family)).await?
        else {
            record_auth_failure(AuthFailure::InvalidToken);
            return Err(AuthError::Unauthenticated(
                "this session has ended; sign in again",
            ));
        };
        self.issue(&user, row.family).await
    }

    async fn reuse_detected(&self, row: &users::RefreshRow) -> AuthError {
        record_auth_failure(AuthFailure::RefreshReused);
        if let Err(err) = users::revoke_family(&self.db, row.family).await {
            return err.into();
        }
        tracing::warn!(
            user_id = row.user_id,
            "refresh token reused; session revoked"
        );
        let details = serde_json::json!({ "user_id": row.user_id });
        self.audit(None, "refresh_token_reused", None, details)
            .await;
        AuthError::RefreshReused
    }

    /// Ends a session: revokes its refresh family, which also invalidates its access tokens.
    pub async fn logout(&self, principal: &Principal) -> Result<(), AuthError> {
        if let Credential::Session { family, .. } = principal.via {
            users::revoke_family(&self.db, family).await?;
            self.audit(
                Some(&principal.actor()),
                "logout",
                Some(&principal.name),
                serde_json::json!({}),
            )
            .await;
        }
        Ok(())
    }

    /// Ends the session a refresh token belongs to (logout from the browser, whose access
    /// cookie may already have expired).
    pub async fn logout_refresh(&self, presented: &SecretString) -> Result<(), AuthError> {
        let Some(jti) = tokens::RefreshToken::jti_of(presented.expose_secret()) else {
            return Ok(());
        };
        if let Some(row) = users::refresh_by_jti(&self.db, jti).await?
            && tokens::hash_matches(presented.expose_secret(), &row.token_hash)
        {
            users::revoke_family(&self.db, row.family).await?;
        }
        Ok(())
    }

    /// Verifies a bearer credential: an API token (`bnd_…`) or an access JWT.
    pub async fn authenticate(&self, bearer: &str) -> Result<Principal, AuthError> {
        if tokens::is_api_token(bearer) {
            let hash = tokens::sha256(bearer);
            let Some(row) = users::use_api_token(&self.db, &hash).await? else {
                record_auth_failure(AuthFailure::InvalidToken);
                return Err(AuthError::Unauthenticated("the API token is not valid"));
            };
            return Ok(Principal {
                name: row.name,
                role: parse_role(&row.role)?,
                via: Credential::ApiToken { id: row.id },
            });
        }
        self.authenticate_jwt(bearer).await
    }

    /// Verifies an access JWT (bearer or cookie) and loads its user.
    pub async fn authenticate_jwt(&self, token: &str) -> Result<Principal, AuthError> {
        let claims = match self.keys.verify(token) {
            Ok(claims) => claims,
            Err(jwt::TokenError::Expired) => {
                record_auth_failure(AuthFailure::ExpiredToken);
                return Err(AuthError::Unauthenticated("the access token has expired"));
            }
            Err(jwt::TokenError::Invalid) => {
                record_auth_failure(AuthFailure::InvalidToken);
                return Err(AuthError::Unauthenticated("the access token is not valid"));
            }
        };
        let Ok(user_id) = claims.sub.parse::<i64>() else {
            record_auth_failure(AuthFailure::InvalidToken);
            return Err(AuthError::Unauthenticated("the access token is not valid"));
        };
        // The role and the account's state are read now, so a demotion, a disabled account or
        // a logout takes effect on the next request rather than at token expiry.
        let Some(user) = users::active_session_user(&self.db, user_id, Some(claims.sid)).await?
        else {
            record_auth_failure(AuthFailure::InvalidToken);
            return Err(AuthError::Unauthenticated(
                "this session has ended; sign in again",
            ));
        };
        Ok(Principal {
            name: user.username,
            role: parse_role(&user.role)?,
            via: Credential::Session {
                user_id,
                family: claims.sid,
                expires_at: claims.exp,
            },
        })
    }

    /// Creates a user (CLI, admin API, first start). `actor` is the admin, if any.
    pub async fn create_user(
        &self,
        actor: Option<&str>,
        username: &str,
        password: SecretString,
        role: Role,
    ) -> Result<UserRow, AuthError> {
        let username = normalize_username(username);
        validate_username(&username)?;
        password::check_policy(&password).map_err(|message| AuthError::Invalid {
            field: "password",
            message,
        })?;
        let hash = password::hash(password).await?;
        let row = users::insert_user(&self.db, &username, &hash, role.as_str())
            .await
            .map_err(|err| match users::violated_constraint(&err).as_deref() {
                Some("users_username_key") => {
                    AuthError::Conflict(ErrorCode::UsernameTaken, "a user with this name exists")
                }
                _ => err.into(),
            })?;
        let details = serde_json::json!({ "role": role });
        self.audit(actor, "user_created", Some(&username), details)
            .await;
        Ok(row)
    }

    /// Changes a user's role, disabled flag or password. Ends the user's sessions.
    pub async fn update_user(
        &self,
        actor: &str,
        username: &str,
        role: Option<Role>,
        disabled: Option<bool>,
        new_password: Option<SecretString>,
    ) -> Result<UserRow, AuthError> {
        let hash = match new_password {
            Some(pw) => {
                password::check_policy(&pw).map_err(|message| AuthError::Invalid {
                    field: "password",
                    message,
                })?;
                Some(password::hash(pw).await?)
            }
            None => None,
        };
        let before = users::user_by_name(&self.db, username)
            .await?
            .ok_or(AuthError::NotFound("no such user"))?;
        let after = users::update_user(
            &self.db,
            username,
            role.map(Role::as_str),
            disabled,
            hash.as_deref(),
        )
        .await?
        .ok_or(AuthError::NotFound("no such user"))?;
        if before.role != after.role {
            let details = serde_json::json!({ "from": before.role, "to": after.role });
            self.audit(Some(actor), "role_changed", Some(username), details)
                .await;
        }
        if before.disabled != after.disabled {
            let action = if after.disabled {
                "user_disabled"
            } else {
                "user_enabled"
            };
            self.audit(Some(actor), action, Some(username), serde_json::json!({}))
                .await;
        }
        if hash.is_some() {
            self.audit(
                Some(actor),
                "password_changed",
                Some(username),
                serde_json::json!({}),
            )
            .await;
        }
        Ok(after)
    }

    /// Clears a user's lock and failure count.
    pub async fn unlock_user(&self, actor: &str, username: &str) -> Result<(), AuthError> {
        let username = normalize_username(username);
        if !users::unlock_user(&self.db, &username).await? {
            return Err(AuthError::NotFound("no such user"));
        }
        self.audit(
            Some(actor),
            "account_unlocked",
            Some(&username),
            serde_json::json!({}),
        )
        .await;
        Ok(())
    }

    /// Creates an API token; the returned secret is shown once and never stored.
    pub async fn create_api_token(
        &self,
        actor: &str,
        name: &str,
        role: Role,
    ) -> Result<(users::ApiTokenRow, SecretString), AuthError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(AuthError::Invalid {
                field: "name",
                message: "the token name must have 1 to 64 characters".into(),
            });
        }
        let secret = tokens::new_api_token();
        let hash = tokens::sha256(secret.expose_secret());
        let row = users::insert_api_token(&self.db, name, role.as_str(), &hash, actor)
            .await
            .map_err(|err| match users::violated_constraint(&err).as_deref() {
                Some("api_tokens_name_key") => AuthError::Conflict(
                    ErrorCode::TokenNameTaken,
                    "an API token with this name exists",
                ),
                _ => err.into(),
            })?;
        let details = serde_json::json!({ "id": row.id, "role": role });
        self.audit(Some(actor), "token_created", Some(name), details)
            .await;
        Ok((row, secret))
    }

    /// Revokes an API token.
    pub async fn revoke_api_token(&self, actor: &str, id: i64) -> Result<(), AuthError> {
        let row = users::revoke_api_token(&self.db, id)
            .await?
            .ok_or(AuthError::NotFound("no such API token"))?;
        let details = serde_json::json!({ "id": row.id });
        self.audit(Some(actor), "token_revoked", Some(&row.name), details)
            .await;
        Ok(())
    }

    /// Appends to the audit log; a failure is logged, never fatal to the request.
    pub async fn audit(
        &self,
        actor: Option<&str>,
        action: &str,
        subject: Option<&str>,
        details: serde_json::Value,
    ) {
        if let Err(err) = audit::record(&self.db, actor, action, subject, details).await {
            tracing::error!(error = %err, action, "cannot write the audit log");
        }
    }
}

/// What the log and the login page say when no user exists.
pub const FIRST_ADMIN_HINT: &str = "No users exist yet. Create the first admin with \
     `binder user add admin --role admin` (it asks for the password), or start Binder once with \
     BINDER_ADMIN_PASSWORD set.";

/// Seconds the next attempt must still wait, if any: none for the first
/// [`FREE_ATTEMPTS`] failures, then 1 s doubling up to [`MAX_DELAY_SECS`].
pub fn throttle_wait(
    failed: i32,
    last_failed_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<u64> {
    let last = last_failed_at?;
    if failed < FREE_ATTEMPTS {
        return None;
    }
    let exponent = u32::try_from((failed - FREE_ATTEMPTS).min(16)).unwrap_or(16);
    let delay = 2_i64.saturating_pow(exponent).min(MAX_DELAY_SECS);
    let ready = last + chrono::Duration::seconds(delay);
    let left = (ready - now).num_milliseconds();
    (left > 0).then(|| u64::try_from((left + 999) / 1000).unwrap_or(1))
}

/// Usernames are case-insensitive: stored and compared in lowercase.
pub fn normalize_username(name: &str) -> String {
    name.trim().to_lowercase()
}

fn validate_username(name: &str) -> Result<(), AuthError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(AuthError::Invalid {
            field: "username",
            message: "a username has 1 to 64 characters: a-z, 0-9, '.', '_' or '-', starting with \
                      a letter or digit"
                .into(),
        })
    }
}

fn parse_role(name: &str) -> Result<Role, AuthError> {
    Role::parse(name).ok_or(AuthError::Unauthenticated("unknown role in the journal"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_starts_after_five_failures_and_doubles() {
        let now = Utc::now();
        assert_eq!(throttle_wait(4, Some(now), now), None);
        assert_eq!(throttle_wait(5, Some(now), now), Some(1));
        assert_eq!(throttle_wait(6, Some(now), now), Some(2));
        assert_eq!(throttle_wait(8, Some(now), now), Some(8));
        assert_eq!(throttle_wait(40, Some(now), now), Some(300));
        let later = now + chrono::Duration::seconds(3);
        assert_eq!(throttle_wait(6, Some(now), later), None);
        assert_eq!(throttle_wait(9, None, now), None);
    }

    #[test]
    fn usernames_are_checked() {
        assert!(validate_username("ann.lee-2").is_ok());
        assert!(validate_username("").is_err());
        assert!(validate_username("-x").is_err());
        assert!(validate_username("a b").is_err());
        assert_eq!(normalize_username("  Ann "), "ann");
    }
}

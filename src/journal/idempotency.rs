//! Idempotency keys: claiming a key for one request, storing its response, replaying it.
//!
//! A row is in flight while `completed_at` is null. A row whose request died with its process
//! (or was cut off by the request time limit) stays in flight until it is older than the
//! caller's `stale_after`; the next request with the same key and the same fingerprint then
//! takes it over, so no key is stuck for good.

use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

use super::JournalError;

/// A response kept for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type` of the body, if it had one.
    pub content_type: Option<String>,
    /// The body, byte for byte.
    pub body: Vec<u8>,
}

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is this request's now (`owner` identifies the attempt): run it, then
    /// [`complete`] or [`release`].
    Claimed {
        /// The attempt's id, matched by `complete` and `release`.
        owner: Uuid,
    },
    /// The same request completed earlier: answer with its response.
    Replay(StoredResponse),
    /// The key was used with a different request.
    Mismatch,
    /// The first request with this key is still running.
    InFlight,
}

/// Lifetime parameters of [`claim`].
#[derive(Debug, Clone, Copy)]
pub struct Windows {
    /// How long a key (and its stored response) is honoured.
    pub ttl: Duration,
    /// How long an in-flight row may live before it counts as abandoned.
    pub stale_after: Duration,
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    fingerprint: Vec<u8>,
    status: Option<i16>,
    content_type: Option<String>,
    response_body: Option<Vec<u8>>,
}

/// Claims `key` for `principal` and a request with `fingerprint`, or says why not.
pub async fn claim(
    pool: &PgPool,
    principal: &str,
    key: &str,
    fingerprint: &[u8],
    windows: Windows,
) -> Result<Claim, JournalError> {
    let ttl = windows.ttl.as_secs_f64();
    let stale = windows.stale_after.as_secs_f64();
    // A few rounds: between the upsert that did nothing and the read, the row may be released
    // by its owner (a failed first attempt); the next round then claims it.
    for _ in 0..3 {
        let owner = Uuid::new_v4();
        // Takes the row over when it expired, or when it is an abandoned attempt at the very
        // same request; otherwise leaves it as it is and returns nothing.
        let claimed: Option<Uuid> = sqlx::query_scalar(
            "insert into idempotency_keys as k (principal, idempotency_key, fingerprint, owner) \
             values ($1, $2, $3, $4) \
             on conflict (principal, idempotency_key) do update \
                set fingerprint = excluded.fingerprint, owner = excluded.owner, status = null, \
                    content_type = null, response_body = null, created_at = now(), \
                    completed_at = null \
              where k.created_at < now() - make_interval(secs => $5) \
                 or (k.completed_at is null and k.fingerprint = excluded.fingerprint \
                     and k.created_at < now() - make_interval(secs => $6)) \
             returning owner",
        )
        .bind(principal)
        .bind(key)
        .bind(fingerprint)
        .bind(owner)
        .bind(ttl)
        .bind(stale)
        .fetch_optional(pool)
        .await?;
        if let Some(owner) = claimed {
            return Ok(Claim::Claimed { owner });
        }
        let row: Option<KeyRow> = sqlx::query_as(
            "select fingerprint, status, content_type, response_body from idempotency_keys \
             where principal = $1 and idempotency_key = $2 \
               and created_at >= now() - make_interval(secs => $3)",
        )
        .bind(principal)
        .bind(key)
        .bind(ttl)
        .fetch_optional(pool)
        .await?;
        let Some(row) = row else { continue };
        if row.fingerprint != fingerprint {
            return Ok(Claim::Mismatch);
        }
        return Ok(match (row.status, row.response_body) {
            (Some(status), Some(body)) => Claim::Replay(StoredResponse {
                status: u16::try_from(status).map_err(|_| {
                    JournalError::Corrupt(format!("status {status} in idempotency_keys"))
                })?,
                content_type: row.content_type,
                body,
            }),
            _ => Claim::InFlight,
        });
    }
    // Three rounds of a row appearing and vanishing: someone else is racing on this key.
    Ok(Claim::InFlight)
}

/// Stores the response of the attempt `owner`, ending its flight.
pub async fn complete(
    pool: &PgPool,
    principal: &str,
    key: &str,
    owner: Uuid,
    response: &StoredResponse,
) -> Result<(), JournalError> {
    sqlx::query(
        "update idempotency_keys \
            set status = $4, content_type = $5, response_body = $6, completed_at = now() \
          where principal = $1 and idempotency_key = $2 and owner = $3 and completed_at is null",
    )
    .bind(principal)
    .bind(key)
    .bind(owner)
    .bind(i16::try_from(response.status).unwrap_or(i16::MAX))
    .bind(response.content_type.as_deref())
    .bind(&response.body)
    .execute(pool)
    .await?;
    Ok(())
}

/// Gives the key up (the attempt failed in a way worth retrying), so the next request with it
/// runs afresh.
pub async fn release(
    pool: &PgPool,
    principal: &str,
    key: &str,
    owner: Uuid,
) -> Result<(), JournalError> {
    sqlx::query(
        "delete from idempotency_keys \
          where principal = $1 and idempotency_key = $2 and owner = $3 and completed_at is null",
    )
    .bind(principal)
    .bind(key)
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(())
}

/// Deletes keys older than `ttl`; returns how many. Called now and then by the middleware, so
/// the table holds about a day of keys without a scheduled job.
pub async fn purge_expired(pool: &PgPool, ttl: Duration) -> Result<u64, JournalError> {
    let done = sqlx::query(
        "delete from idempotency_keys where created_at < now() - make_interval(secs => $1)",
    )
    .bind(ttl.as_secs_f64())
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

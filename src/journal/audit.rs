//! The audit log: who signed in, who failed, who changed whose role, which tokens came and went.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::JournalError;

/// One audit entry.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    /// Increasing id (use as a cursor).
    pub id: i64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who acted (username or `token:NAME`), if known.
    pub actor: Option<String>,
    /// What happened, e.g. `login_succeeded`, `role_changed`.
    pub action: String,
    /// Whom or what it concerned.
    pub subject: Option<String>,
    /// Structured context (never a secret).
    pub details: serde_json::Value,
}

/// Appends an entry.
pub async fn record(
    pool: &PgPool,
    actor: Option<&str>,
    action: &str,
    subject: Option<&str>,
    details: serde_json::Value,
) -> Result<(), JournalError> {
    sqlx::query("insert into audit_log (actor, action, subject, details) values ($1, $2, $3, $4)")
        .bind(actor)
        .bind(action)
        .bind(subject)
        .bind(details)
        .execute(pool)
        .await?;
    Ok(())
}

/// The newest entries, optionally before an id and of one action.
pub async fn list(
    pool: &PgPool,
    limit: i64,
    before_id: Option<i64>,
    action: Option<&str>,
) -> Result<Vec<AuditEntry>, JournalError> {
    Ok(sqlx::query_as(
        "select id, at, actor, action, subject, details from audit_log \
         where ($2::bigint is null or id < $2) and ($3::text is null or action = $3) \
         order by id desc limit $1",
    )
    .bind(limit)
    .bind(before_id)
    .bind(action)
    .fetch_all(pool)
    .await?)
}

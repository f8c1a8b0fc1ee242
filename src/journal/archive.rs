//! Moving finished orders, their events and fills to the archive tables.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::JournalError;

/// How many rows moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Archived {
    /// Orders.
    pub orders: u64,
    /// Order events.
    pub events: u64,
    /// Fills.
    pub fills: u64,
}

/// Moves orders that finished before `cutoff` (and everything that belongs to them) to the
/// archive, in one transaction: a crash leaves either the old or the new layout.
pub async fn archive_finished_before(
    pool: &PgPool,
    cutoff: DateTime<Utc>,
) -> Result<Archived, JournalError> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "create temporary table archive_batch on commit drop as \
         select id from orders where status in ('filled', 'canceled', 'expired', 'rejected', 'replaced', 'denied') \
         and updated_at < $1",
    )
    .bind(cutoff)
    .execute(&mut *tx)
    .await?;
    let fills = sqlx::query(
        "with moved as (delete from fills where order_id in (select id from archive_batch) returning *) \
         insert into fills_archive select * from moved",
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let events = sqlx::query(
        "with moved as (delete from order_events where order_id in (select id from archive_batch) returning *) \
         insert into order_events_archive select * from moved",
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let orders = sqlx::query(
        "with moved as (delete from orders where id in (select id from archive_batch) returning *) \
         insert into orders_archive select * from moved",
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(Archived {
        orders,
        events,
        fills,
    })
}

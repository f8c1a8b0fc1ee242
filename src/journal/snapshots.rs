//! Snapshots of positions, account values and PnL as the broker reported them.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use app::domain::account::Pnl;

use super::JournalError;
use crate::broker::{AccountValue, BrokerPosition};

/// Records the whole position list as one snapshot (one timestamp).
pub async fn record_positions(
    pool: &PgPool,
    positions: &[BrokerPosition],
) -> Result<(), JournalError> {
    let mut tx = pool.begin().await?;
    let now = Utc::now();
    for p in positions {
        sqlx::query(
            "insert into position_snapshots (taken_at, account, symbol, con_id, qty, avg_cost) values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(now)
        .bind(&p.account)
        .bind(&p.symbol)
        .bind(Some(p.con_id).filter(|c| *c != 0))
        .bind(p.qty)
        .bind(p.avg_cost)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct PositionRow {
    taken_at: DateTime<Utc>,
    account: String,
    symbol: String,
    con_id: Option<i64>,
    qty: rust_decimal::Decimal,
    avg_cost: rust_decimal::Decimal,
}

/// The positions of the latest snapshot, and when it was taken.
pub async fn latest_positions(
    pool: &PgPool,
) -> Result<Option<(DateTime<Utc>, Vec<BrokerPosition>)>, JournalError> {
    let rows: Vec<PositionRow> = sqlx::query_as(
        "select taken_at, account, symbol, con_id, qty, avg_cost from position_snapshots \
         where taken_at = (select max(taken_at) from position_snapshots) order by symbol",
    )
    .fetch_all(pool)
    .await?;
    let Some(taken) = rows.first().map(|r| r.taken_at) else {
        return Ok(None);
    };
    let positions = rows
        .into_iter()
        .map(|r| BrokerPosition {
            account: r.account,
            symbol: r.symbol,
            con_id: r.con_id.unwrap_or_default(),
            qty: r.qty,
            avg_cost: r.avg_cost,
        })
        .collect();
    Ok(Some((taken, positions)))
}

/// Records account summary values.
pub async fn record_account_values(
    pool: &PgPool,
    values: &[AccountValue],
) -> Result<(), JournalError> {
    let mut tx = pool.begin().await?;
    let now = Utc::now();
    for v in values {
        sqlx::query("insert into account_snapshots (taken_at, account, tag, value, currency) values ($1, $2, $3, $4, $5)")
            .bind(now)
            .bind(&v.account)
            .bind(&v.tag)
            .bind(&v.value)
            .bind(&v.currency)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Records a PnL reading.
pub async fn record_pnl(pool: &PgPool, pnl: &Pnl) -> Result<(), JournalError> {
    sqlx::query(
        "insert into pnl_snapshots (account, daily, unrealized, realized) values ($1, $2, $3, $4)",
    )
    .bind(&pnl.account)
    .bind(pnl.daily)
    .bind(pnl.unrealized)
    .bind(pnl.realized)
    .execute(pool)
    .await?;
    Ok(())
}

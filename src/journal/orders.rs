//! Orders, their events and fills. An order row is committed before anything is sent to the
//! broker; every change of state is a row in `order_events` with a gap-free sequence number.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use app::domain::order::{OrderStatus, OrderType, OrderView, Pricing, Side, TimeInForce};

use super::JournalError;
use crate::broker::{BrokerFill, BrokerOrderView, Commission};

/// A new order, as the desk journals it before sending.
#[derive(Debug, Clone)]
pub struct NewOrder {
    /// The caller's id (or a generated one).
    pub client_order_id: String,
    /// Account.
    pub account: String,
    /// Symbol (or the con id as text when the order names only a con id).
    pub symbol: String,
    /// Contract id, if known.
    pub con_id: Option<i64>,
    /// Side.
    pub side: Side,
    /// Quantity.
    pub qty: Decimal,
    /// Type and prices.
    pub pricing: Pricing,
    /// Time in force.
    pub time_in_force: TimeInForce,
    /// Outside regular trading hours.
    pub outside_rth: bool,
    /// The API client id orders are placed with.
    pub broker_client_id: i32,
    /// `simple`, `bracket` or `oco` (legs carry their parent's class).
    pub order_class: &'static str,
    /// IB OCA group, for legs that cancel each other.
    pub oca_group: Option<String>,
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: Uuid,
    client_order_id: String,
    account: String,
    symbol: String,
    con_id: Option<i64>,
    side: String,
    qty: Decimal,
    order_type: String,
    limit_price: Option<Decimal>,
    stop_price: Option<Decimal>,
    trail_amount: Option<Decimal>,
    trail_percent: Option<Decimal>,
    time_in_force: String,
    outside_rth: bool,
    status: String,
    filled_qty: Decimal,
    filled_avg_price: Option<Decimal>,
    broker_order_id: i32,
    perm_id: Option<i64>,
    external: bool,
    reject_reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    submitted_at: Option<DateTime<Utc>>,
    filled_at: Option<DateTime<Utc>>,
    canceled_at: Option<DateTime<Utc>>,
}

const ORDER_COLUMNS: &str = "id, client_order_id, account, symbol, con_id, side, qty, order_type, limit_price, \
     stop_price, trail_amount, trail_percent, time_in_force, outside_rth, status, filled_qty, filled_avg_price, \
     broker_order_id, perm_id, external, reject_reason, created_at, updated_at, submitted_at, filled_at, canceled_at";

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl OrderRow {
    fn into_view(self) -> Result<OrderView, JournalError> {
        let parse = |what: &str, value: &str| {
            JournalError::Corrupt(format!("unknown {what} {value:?} in orders"))
        };
        Ok(OrderView {
            id: self.id.to_string(),
            client_order_id: self.client_order_id,
            account: self.account,
            symbol: self.symbol,
            con_id: self.con_id,
            side: self.side.parse().map_err(|_| parse("side", &self.side))?,
            qty: self.qty,
            order_type: self
                .order_type
                .parse()
                .map_err(|_| parse("type", &self.order_type))?,
            limit_price: self.limit_price,
            stop_price: self.stop_price,
            trail_amount: self.trail_amount,
            trail_percent: self.trail_percent,
            time_in_force: self
                .time_in_force
                .parse()
                .map_err(|_| parse("time in force", &self.time_in_force))?,
            outside_rth: self.outside_rth,
            status: self
                .status
                .parse()
                .map_err(|_| parse("status", &self.status))?,
            filled_qty: self.filled_qty,
            filled_avg_price: self.filled_avg_price,
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
            submitted_at: self.submitted_at.map(rfc3339),
            filled_at: self.filled_at.map(rfc3339),
            canceled_at: self.canceled_at.map(rfc3339),
            legs: Vec::new(),
            broker_order_id: self.broker_order_id,
            perm_id: self.perm_id,
            external: self.external,
            reject_reason: self.reject_reason,
        })
    }
}

/// The next event sequence number, taken inside `tx` (gap-free).
async fn next_seq(tx: &mut Transaction<'_, Postgres>) -> Result<i64, JournalError> {
    Ok(
        sqlx::query_scalar("update event_sequence set last_seq = last_seq + 1 returning last_seq")
            .fetch_one(&mut **tx)
            .await?,
    )
}

/// Records an event for order `id` as it is now (inside `tx`, after the change), with the
/// whole order in the event so the stream can be replayed from the journal alone.
async fn add_event(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    kind: &str,
    mut detail: serde_json::Value,
) -> Result<(i64, OrderView), JournalError> {
    let row: OrderRow =
        sqlx::query_as(&format!("select {ORDER_COLUMNS} from orders where id = $1"))
            .bind(id)
            .fetch_one(&mut **tx)
            .await?;
    let order = row.into_view()?;
    if let Some(map) = detail.as_object_mut() {
        map.insert(
            "order".to_owned(),
            serde_json::to_value(&order).map_err(|e| JournalError::Corrupt(e.to_string()))?,
        );
    }
    let seq = next_seq(tx).await?;
    sqlx::query("insert into order_events (seq, order_id, kind, status, detail) values ($1, $2, $3, $4, $5)")
        .bind(seq)
        .bind(id)
        .bind(kind)
        .bind(order.status.as_str())
        .bind(detail)
        .execute(&mut **tx)
        .await?;
    Ok((seq, order))
}

/// One journaled event, as the event stream replays it.
#[derive(Debug, Clone)]
pub struct JournalEvent {
    /// Global, gap-free sequence number.
    pub seq: i64,
    /// `created`, `status`, `adopted` or `fill`.
    pub kind: String,
    /// The event's detail, including the order as it was after the event.
    pub detail: serde_json::Value,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

/// Events after `since`, oldest first, at most `limit`.
pub async fn events_since(
    pool: &PgPool,
    since: i64,
    limit: i64,
) -> Result<Vec<JournalEvent>, JournalError> {
    let rows: Vec<(i64, String, serde_json::Value, DateTime<Utc>)> = sqlx::query_as(
        "select seq, kind, detail, created_at from order_events where seq > $1 order by seq limit $2",
    )
    .bind(since)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(seq, kind, detail, created_at)| JournalEvent {
            seq,
            kind,
            detail,
            created_at,
        })
        .collect())
}

/// The last event sequence number handed out.
pub async fn last_seq(pool: &PgPool) -> Result<i64, JournalError> {
    Ok(sqlx::query_scalar("select last_seq from event_sequence")
        .fetch_one(pool)
        .await?)
}

/// Journals a new order as `pending_new` with a fresh broker order id, in one transaction.
pub async fn insert_new(pool: &PgPool, order: &NewOrder) -> Result<OrderView, JournalError> {
    let mut group = insert_group(pool, order, &[]).await?;
    Ok(group.remove(0))
}

/// Journals an order and its legs (bracket or oco) in one transaction; returns them in the
/// same order, each with its broker order id. Legs point at the first order.
pub async fn insert_group(
    pool: &PgPool,
    parent: &NewOrder,
    legs: &[NewOrder],
) -> Result<Vec<OrderView>, JournalError> {
    let mut tx = pool.begin().await?;
    let mut written = Vec::with_capacity(1 + legs.len());
    let mut parent_id = None;
    for order in std::iter::once(parent).chain(legs) {
        match insert_one(&mut tx, order, parent_id).await {
            Ok(view) => {
                parent_id = parent_id.or_else(|| Uuid::from_str(&view.id).ok());
                written.push(view);
            }
            Err(JournalError::DuplicateClientOrderId { .. }) => {
                drop(tx);
                let existing =
                    find_by_client_order_id(pool, &order.account, &order.client_order_id).await?;
                return Err(JournalError::DuplicateClientOrderId {
                    existing_id: existing.map(|o| o.id).unwrap_or_default(),
                });
            }
            Err(other) => return Err(other),
        }
    }
    tx.commit().await?;
    Ok(written)
}

async fn insert_one(
    tx: &mut Transaction<'_, Postgres>,
    order: &NewOrder,
    parent_id: Option<Uuid>,
) -> Result<OrderView, JournalError> {
    let broker_order_id: i32 = sqlx::query_scalar(
        "update broker_order_ids set next_id = next_id + 1 returning next_id - 1",
    )
    .fetch_one(&mut **tx)
    .await?;
    let id = Uuid::new_v4();
    let (trail_amount, trail_percent) = match order.pricing {
        Pricing::TrailAmount { amount } => (Some(amount.get()), None),
        Pricing::TrailPercent { percent } => (None, Some(percent)),
        _ => (None, None),
    };
    let inserted = sqlx::query(
        "insert into orders (id, client_order_id, account, symbol, con_id, side, qty, order_type, limit_price, \
         stop_price, trail_amount, trail_percent, time_in_force, outside_rth, status, broker_client_id, broker_order_id, \
         parent_id, order_class, oca_group) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'pending_new', $15, $16, $17, $18, $19)",
    )
    .bind(id)
    .bind(&order.client_order_id)
    .bind(&order.account)
    .bind(&order.symbol)
    .bind(order.con_id)
    .bind(order.side.as_str())
    .bind(order.qty)
    .bind(order.pricing.order_type().as_str())
    .bind(order.pricing.limit_price().map(|p| p.get()))
    .bind(order.pricing.stop_price().map(|p| p.get()))
    .bind(trail_amount)
    .bind(trail_percent)
    .bind(order.time_in_force.as_str())
    .bind(order.outside_rth)
    .bind(order.broker_client_id)
    .bind(broker_order_id)
    .bind(parent_id)
    .bind(order.order_class)
    .bind(&order.oca_group)
    .execute(&mut **tx)
    .await;
    if let Err(sqlx::Error::Database(db)) = &inserted
        && db.constraint() == Some("orders_client_order_id_key")
    {
        return Err(JournalError::DuplicateClientOrderId {
            existing_id: String::new(),
        });
    }
    inserted?;
    let (_, view) = add_event(
        tx,
        id,
        "created",
        serde_json::json!({ "broker_order_id": broker_order_id }),
    )
    .await?;
    Ok(view)
}

/// Fills in the legs of the orders that have some (one query for the whole page).
pub async fn attach_legs(pool: &PgPool, orders: &mut [OrderView]) -> Result<(), JournalError> {
    let ids: Vec<Uuid> = orders
        .iter()
        .filter_map(|o| Uuid::from_str(&o.id).ok())
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let rows: Vec<(Uuid, OrderRow)> = {
        let raw: Vec<OrderRowWithParent> = sqlx::query_as(&format!(
            "select parent_id, {ORDER_COLUMNS} from orders where parent_id = any($1) order by created_at, broker_order_id"
        ))
        .bind(&ids)
        .fetch_all(pool)
        .await?;
        raw.into_iter().map(|r| (r.parent_id, r.row)).collect()
    };
    for (parent, row) in rows {
        let leg = row.into_view()?;
        if let Some(order) = orders.iter_mut().find(|o| o.id == parent.to_string()) {
            order.legs.push(leg);
        }
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct OrderRowWithParent {
    parent_id: Uuid,
    #[sqlx(flatten)]
    row: OrderRow,
}

/// Raises the next broker order id to at least `floor` (the gateway's NextValidId).
pub async fn raise_order_id_floor(pool: &PgPool, floor: i32) -> Result<i32, JournalError> {
    Ok(sqlx::query_scalar(
        "update broker_order_ids set next_id = greatest(next_id, $1) returning next_id",
    )
    .bind(floor)
    .fetch_one(pool)
    .await?)
}

/// One order by id.
pub async fn get(pool: &PgPool, id: Uuid) -> Result<Option<OrderView>, JournalError> {
    let row: Option<OrderRow> =
        sqlx::query_as(&format!("select {ORDER_COLUMNS} from orders where id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?;
    row.map(OrderRow::into_view).transpose()
}

/// One order by the caller's id.
pub async fn find_by_client_order_id(
    pool: &PgPool,
    account: &str,
    client_order_id: &str,
) -> Result<Option<OrderView>, JournalError> {
    let row: Option<OrderRow> = sqlx::query_as(&format!(
        "select {ORDER_COLUMNS} from orders where account = $1 and client_order_id = $2"
    ))
    .bind(account)
    .bind(client_order_id)
    .fetch_optional(pool)
    .await?;
    row.map(OrderRow::into_view).transpose()
}

/// Finds the journal row a broker message is about: by (client id, order id), then by
/// permanent id, then by `orderRef` (Binder's client order id) for Binder's own client.
pub async fn locate(
    pool: &PgPool,
    client_id: i32,
    broker_order_id: i32,
    perm_id: i64,
    order_ref: Option<&str>,
) -> Result<Option<Uuid>, JournalError> {
    let by_ids: Option<Uuid> = sqlx::query_scalar(
        "select id from orders where (broker_client_id = $1 and broker_order_id = $2 and $2 <> 0) \
         or (perm_id = $3 and $3 <> 0) \
         order by (broker_client_id = $1 and broker_order_id = $2) desc, external limit 1",
    )
    .bind(client_id)
    .bind(broker_order_id)
    .bind(perm_id)
    .fetch_optional(pool)
    .await?;
    if by_ids.is_some() {
        return Ok(by_ids);
    }
    match order_ref.filter(|r| !r.is_empty()) {
        Some(r) => Ok(sqlx::query_scalar(
            "select id from orders where client_order_id = $1 and external = false limit 1",
        )
        .bind(r)
        .fetch_optional(pool)
        .await?),
        None => Ok(None),
    }
}

/// A change reported by the broker.
#[derive(Debug, Clone)]
pub struct StatusUpdate {
    /// New status.
    pub status: OrderStatus,
    /// Filled so far, if reported.
    pub filled: Option<Decimal>,
    /// Average fill price, if reported.
    pub avg_price: Option<Decimal>,
    /// IB's permanent id, if reported.
    pub perm_id: Option<i64>,
    /// Why it was refused, for rejections.
    pub reason: Option<String>,
}

/// What applying an update did.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// The order changed; the event has this sequence number.
    Changed {
        /// The order after the change.
        order: Box<OrderView>,
        /// The event's sequence number.
        seq: i64,
    },
    /// Nothing new (a repeated status).
    Unchanged,
    /// The state machine forbids it (e.g. a late status for a finished order); ignored.
    Illegal {
        /// Current status.
        from: OrderStatus,
        /// Reported status.
        to: OrderStatus,
    },
}

/// Applies a broker status to an order under a row lock, through the state machine.
pub async fn apply_status(
    pool: &PgPool,
    id: Uuid,
    update: &StatusUpdate,
) -> Result<Applied, JournalError> {
    let mut tx = pool.begin().await?;
    let current: Option<(String, Decimal, Option<i64>)> =
        sqlx::query_as("select status, filled_qty, perm_id from orders where id = $1 for update")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((status, filled, perm_id)) = current else {
        return Err(JournalError::Corrupt(format!("order {id} vanished")));
    };
    let from: OrderStatus = status
        .parse()
        .map_err(|_| JournalError::Corrupt(format!("status {status:?}")))?;
    // Filled quantities only grow; a snapshot without quantities must not undo live fills.
    let new_filled = update.filled.map_or(filled, |f| f.max(filled));
    let perm_changed = update.perm_id.is_some_and(|p| p != 0 && Some(p) != perm_id);
    let same = from == update.status && new_filled == filled;
    if same && !perm_changed {
        return Ok(Applied::Unchanged);
    }
    if !(same || from == update.status || from.can_become(update.status)) {
        return Ok(Applied::Illegal {
            from,
            to: update.status,
        });
    }
    sqlx::query(
        "update orders set status = $2, filled_qty = $3, filled_avg_price = coalesce($4, filled_avg_price), \
         perm_id = coalesce(nullif($5, 0), perm_id), reject_reason = coalesce($6, reject_reason), updated_at = now(), \
         submitted_at = case when $2 <> 'pending_new' then coalesce(submitted_at, now()) else submitted_at end, \
         filled_at = case when $2 = 'filled' then coalesce(filled_at, now()) else filled_at end, \
         canceled_at = case when $2 = 'canceled' then coalesce(canceled_at, now()) else canceled_at end \
         where id = $1",
    )
    .bind(id)
    .bind(update.status.as_str())
    .bind(new_filled)
    .bind(update.avg_price)
    .bind(update.perm_id)
    .bind(&update.reason)
    .execute(&mut *tx)
    .await?;
    let detail = serde_json::json!({
        "from": from.as_str(),
        "filled_qty": new_filled.to_string(),
        "reason": update.reason,
    });
    let (seq, order) = add_event(&mut tx, id, "status", detail).await?;
    tx.commit().await?;
    Ok(Applied::Changed {
        order: Box::new(order),
        seq,
    })
}

/// Adopts an order placed outside Binder (TWS, another API client) as external.
pub async fn adopt(pool: &PgPool, view: &BrokerOrderView) -> Result<Uuid, JournalError> {
    let mut tx = pool.begin().await?;
    let id = Uuid::new_v4();
    let order_type = match view.ib_order_type.as_str() {
        "LMT" => OrderType::Limit,
        "STP" => OrderType::Stop,
        "STP LMT" => OrderType::StopLimit,
        "TRAIL" | "TRAIL LIMIT" => OrderType::TrailingStop,
        _ => OrderType::Market,
    };
    // External orders keep IB's ref when it has one; otherwise a ref derived from the perm id
    // keeps (account, client_order_id) unique.
    let client_order_id = format!(
        "ext-{}-{}",
        view.client_id,
        if view.perm_id != 0 {
            view.perm_id
        } else {
            i64::from(view.broker_order_id)
        }
    );
    let inserted = sqlx::query(
        "insert into orders (id, client_order_id, account, symbol, con_id, side, qty, order_type, limit_price, stop_price, \
         time_in_force, status, broker_client_id, broker_order_id, perm_id, external, submitted_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'day', $11, $12, $13, nullif($14, 0), true, now()) \
         on conflict do nothing",
    )
    .bind(id)
    .bind(&client_order_id)
    .bind(&view.account)
    .bind(&view.symbol)
    .bind(Some(view.con_id).filter(|c| *c != 0))
    .bind(view.side.as_str())
    .bind(view.qty)
    .bind(order_type.as_str())
    .bind(view.limit_price)
    .bind(view.stop_price)
    .bind(view.status.as_str())
    .bind(view.client_id)
    .bind(view.broker_order_id)
    .bind(view.perm_id)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        // Adopted already (a concurrent reconcile or event); find it.
        drop(tx);
        return locate(
            pool,
            view.client_id,
            view.broker_order_id,
            view.perm_id,
            None,
        )
        .await?
        .ok_or_else(|| JournalError::Corrupt("an adopted order could not be found".to_owned()));
    }
    add_event(
        &mut tx,
        id,
        "adopted",
        serde_json::json!({ "order_ref": view.order_ref, "client_id": view.client_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// What recording an execution did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FillRecorded {
    /// Seen before (same exec id): nothing changed.
    Duplicate,
    /// New, for an order Binder does not know.
    Unmatched,
    /// New; the order's fill event has this sequence number.
    Recorded {
        /// The event's sequence number.
        seq: i64,
    },
}

/// Records an execution exactly once (keyed by exec id).
pub async fn record_fill(
    pool: &PgPool,
    fill: &BrokerFill,
    order_id: Option<Uuid>,
) -> Result<FillRecorded, JournalError> {
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query(
        "insert into fills (exec_id, order_id, account, symbol, con_id, side, qty, price, executed_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict (exec_id) do nothing",
    )
    .bind(&fill.exec_id)
    .bind(order_id)
    .bind(&fill.account)
    .bind(&fill.symbol)
    .bind(Some(fill.con_id).filter(|c| *c != 0))
    .bind(fill.side.as_str())
    .bind(fill.qty)
    .bind(fill.price)
    .bind(fill.time)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    let outcome = match (inserted, order_id) {
        (false, _) => FillRecorded::Duplicate,
        (true, None) => FillRecorded::Unmatched,
        (true, Some(order_id)) => {
            // Executions are the truth about quantities: an order learned about from a
            // snapshot (no live status) gets its filled quantity and average price from them.
            sqlx::query(
                "update orders set filled_qty = greatest(orders.filled_qty, f.qty), \
                 filled_avg_price = coalesce(orders.filled_avg_price, f.avg_price), updated_at = now() \
                 from (select sum(qty) as qty, sum(qty * price) / nullif(sum(qty), 0) as avg_price \
                       from fills where order_id = $1) f \
                 where orders.id = $1",
            )
            .bind(order_id)
            .execute(&mut *tx)
            .await?;
            let detail = serde_json::json!({
                "exec_id": fill.exec_id,
                "qty": fill.qty.to_string(),
                "price": fill.price.to_string(),
                "side": fill.side.as_str(),
                "symbol": fill.symbol,
                "executed_at": fill.time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            });
            let (seq, _) = add_event(&mut tx, order_id, "fill", detail).await?;
            FillRecorded::Recorded { seq }
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Adds the commission (and realized PnL) to a recorded execution.
pub async fn record_commission(pool: &PgPool, c: &Commission) -> Result<(), JournalError> {
    sqlx::query("update fills set commission = $2, realized_pnl = $3 where exec_id = $1")
        .bind(&c.exec_id)
        .bind(c.commission)
        .bind(c.realized_pnl)
        .execute(pool)
        .await?;
    Ok(())
}

/// A recorded execution.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct FillRow {
    /// IB's execution id.
    pub exec_id: String,
    /// The order, if known.
    pub order_id: Option<Uuid>,
    /// Account.
    pub account: String,
    /// Symbol.
    pub symbol: String,
    /// Side.
    pub side: String,
    /// Shares.
    pub qty: Decimal,
    /// Price.
    pub price: Decimal,
    /// Commission, once reported.
    pub commission: Option<Decimal>,
    /// Realized PnL of a closing execution.
    pub realized_pnl: Option<Decimal>,
    /// When it happened.
    pub executed_at: DateTime<Utc>,
}

/// Fills, newest first.
pub async fn fills(
    pool: &PgPool,
    order_id: Option<Uuid>,
    limit: i64,
) -> Result<Vec<FillRow>, JournalError> {
    Ok(sqlx::query_as(
        "select exec_id, order_id, account, symbol, side, qty, price, commission, realized_pnl, executed_at \
         from fills where ($1::uuid is null or order_id = $1) order by executed_at desc, exec_id limit $2",
    )
    .bind(order_id)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Filters of an order listing.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only open (`Some(true)`) or closed (`Some(false)`) orders.
    pub open: Option<bool>,
    /// Only this symbol.
    pub symbol: Option<String>,
    /// Created at or after.
    pub after: Option<DateTime<Utc>>,
    /// Created before.
    pub until: Option<DateTime<Utc>>,
    /// Continue after this (created_at, id), from a previous page.
    pub cursor: Option<(DateTime<Utc>, Uuid)>,
    /// Page size.
    pub limit: i64,
}

/// Orders, newest first; a page of at most `filter.limit`.
pub async fn list(pool: &PgPool, filter: &ListFilter) -> Result<Vec<OrderView>, JournalError> {
    let rows: Vec<OrderRow> = sqlx::query_as(&format!(
        "select {ORDER_COLUMNS} from orders \
         where ($1::boolean is null or (status not in ('filled', 'canceled', 'expired', 'rejected', 'replaced', 'denied')) = $1) \
         and ($2::text is null or symbol = $2) \
         and ($3::timestamptz is null or created_at >= $3) \
         and ($4::timestamptz is null or created_at < $4) \
         and ($5::timestamptz is null or (created_at, id) < ($5, $6)) \
         order by created_at desc, id desc limit $7"
    ))
    .bind(filter.open)
    .bind(filter.symbol.as_deref())
    .bind(filter.after)
    .bind(filter.until)
    .bind(filter.cursor.map(|c| c.0))
    .bind(filter.cursor.map(|c| c.1))
    .bind(filter.limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(OrderRow::into_view).collect()
}

/// Binder's own orders that are not finished, with their broker ids.
pub async fn unfinished(
    pool: &PgPool,
) -> Result<Vec<(Uuid, i32, i32, String, OrderStatus)>, JournalError> {
    let rows: Vec<(Uuid, i32, i32, String, String)> = sqlx::query_as(
        "select id, broker_client_id, broker_order_id, client_order_id, status from orders \
         where status not in ('filled', 'canceled', 'expired', 'rejected', 'replaced', 'denied')",
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(id, client, broker, coid, status)| {
            let status = status
                .parse()
                .map_err(|_| JournalError::Corrupt(format!("status {status:?}")))?;
            Ok((id, client, broker, coid, status))
        })
        .collect()
}

/// New terms for a working order (PATCH).
#[derive(Debug, Clone)]
pub struct Terms {
    /// Quantity.
    pub qty: Decimal,
    /// Type and prices (the type itself does not change).
    pub pricing: Pricing,
    /// Time in force.
    pub time_in_force: TimeInForce,
}

/// Records a modification request: the new terms and `pending_replace`, in one transaction.
pub async fn request_replace(
    pool: &PgPool,
    id: Uuid,
    terms: &Terms,
) -> Result<Applied, JournalError> {
    let mut tx = pool.begin().await?;
    let status: Option<String> =
        sqlx::query_scalar("select status from orders where id = $1 for update")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(status) = status else {
        return Err(JournalError::Corrupt(format!("order {id} vanished")));
    };
    let from: OrderStatus = status
        .parse()
        .map_err(|_| JournalError::Corrupt(format!("status {status:?}")))?;
    if !from.can_become(OrderStatus::PendingReplace) {
        return Ok(Applied::Illegal {
            from,
            to: OrderStatus::PendingReplace,
        });
    }
    let (trail_amount, trail_percent) = match terms.pricing {
        Pricing::TrailAmount { amount } => (Some(amount.get()), None),
        Pricing::TrailPercent { percent } => (None, Some(percent)),
        _ => (None, None),
    };
    sqlx::query(
        "update orders set qty = $2, limit_price = $3, stop_price = $4, trail_amount = $5, trail_percent = $6, \
         time_in_force = $7, status = 'pending_replace', updated_at = now() where id = $1",
    )
    .bind(id)
    .bind(terms.qty)
    .bind(terms.pricing.limit_price().map(|p| p.get()))
    .bind(terms.pricing.stop_price().map(|p| p.get()))
    .bind(trail_amount)
    .bind(trail_percent)
    .bind(terms.time_in_force.as_str())
    .execute(&mut *tx)
    .await?;
    let (seq, order) = add_event(
        &mut tx,
        id,
        "replace_requested",
        serde_json::json!({ "from": from.as_str() }),
    )
    .await?;
    tx.commit().await?;
    Ok(Applied::Changed {
        order: Box::new(order),
        seq,
    })
}

/// The broker-side grouping of an order: its parent's broker id (bracket legs) and its OCA
/// group (oco), which a modification must repeat.
pub async fn grouping(
    pool: &PgPool,
    id: Uuid,
) -> Result<(Option<i32>, Option<String>), JournalError> {
    let row: Option<(Option<i32>, Option<String>)> = sqlx::query_as(
        "select p.broker_order_id, o.oca_group from orders o \
         left join orders p on p.id = o.parent_id and o.order_class = 'bracket' where o.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(row.unwrap_or_default())
}

/// Records the contract id the broker resolved for an order that named only a symbol.
pub async fn learn_con_id(pool: &PgPool, id: Uuid, con_id: i64) -> Result<(), JournalError> {
    sqlx::query("update orders set con_id = $2 where id = $1 and con_id is null")
        .bind(id)
        .bind(con_id)
        .execute(pool)
        .await?;
    Ok(())
}

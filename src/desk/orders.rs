//! Order use cases: place (write-ahead), cancel, cancel all, read.

use std::str::FromStr;

use app::domain::order::{
    FieldError, Instrument, OrderClass, OrderRequest, OrderStatus, OrderView, Pricing, Side,
};
use chrono::Utc;
use uuid::Uuid;

use super::{Desk, DeskError};
use crate::broker::{BrokerError, BrokerOrder, BrokerPosition, PacingError};
use crate::journal::{self, JournalError, orders::NewOrder, orders::StatusUpdate};
use crate::metrics;

/// Cache key and lifetime of the positions list.
pub(super) const POSITIONS_KEY: &str = "positions";
const POSITIONS_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// The orders of a request: the order itself and its legs (bracket: take-profit and
/// stop-loss on the other side; oco: the stop on the same side, in one OCA group).
fn group(base: NewOrder, class: OrderClass) -> (NewOrder, Vec<NewOrder>) {
    let leg = |suffix: &str, side: Side, pricing: Pricing| NewOrder {
        client_order_id: format!("{}.{suffix}", base.client_order_id),
        side,
        pricing,
        ..base.clone()
    };
    match class {
        OrderClass::Simple => (base, Vec::new()),
        OrderClass::Bracket {
            take_profit,
            stop_loss,
        } => {
            let exit = match base.side {
                Side::Buy => Side::Sell,
                Side::Sell => Side::Buy,
            };
            let legs = vec![
                leg("tp", exit, Pricing::Limit { limit: take_profit }),
                leg("sl", exit, stop_loss.pricing()),
            ];
            (base, legs)
        }
        OrderClass::Oco { stop_loss } => {
            let oca = Some(format!("oco-{}", base.client_order_id));
            let parent = NewOrder {
                oca_group: oca.clone(),
                ..base.clone()
            };
            let stop = NewOrder {
                oca_group: oca,
                ..leg("sl", base.side, stop_loss.pricing())
            };
            (parent, vec![stop])
        }
    }
}

/// How `place_order` ended.
#[derive(Debug, Clone)]
pub enum Placed {
    /// The broker acknowledged the order (it may already be filled or rejected).
    Acknowledged(OrderView),
    /// Journaled and sent; no acknowledgement within the configured bound.
    Pending(OrderView),
}

/// One order's outcome in a cancel-all.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CancelOutcome {
    /// The order.
    pub id: String,
    /// HTTP-like status: 200 requested, 409 not cancelable, 500 failed.
    pub status: u16,
    /// Stable code when it failed.
    pub error_code: Option<&'static str>,
}

impl Desk {
    /// Places an order: checks, journals (committed before sending), sends, waits for the
    /// acknowledgement up to the configured bound.
    #[tracing::instrument(skip_all, fields(client_order_id))]
    pub async fn place_order(&self, request: OrderRequest) -> Result<Placed, DeskError> {
        let started = std::time::Instant::now();
        self.check_can_send()?;
        let account = self.resolve_account(request.account())?;
        let client_order_id = request.client_order_id().map_or_else(
            || Uuid::new_v4().simple().to_string(),
            |c| c.as_str().to_owned(),
        );
        tracing::Span::current().record("client_order_id", client_order_id.as_str());
        let (symbol, con_id) = match request.instrument() {
            Instrument::Symbol(s) => (s.as_str().to_owned(), None),
            Instrument::ConId(id) => (id.to_string(), Some(*id)),
        };
        let base = NewOrder {
            client_order_id: client_order_id.clone(),
            account: account.clone(),
            symbol,
            con_id,
            side: request.side(),
            qty: request.qty().get(),
            pricing: request.pricing(),
            time_in_force: request.time_in_force(),
            outside_rth: request.outside_rth(),
            broker_client_id: self.config.broker_client_id,
            order_class: request.order_class().as_str(),
            oca_group: None,
        };
        let (parent, legs) = group(base, request.order_class());
        let written = journal::orders::insert_group(&self.db, &parent, &legs)
            .await
            .map_err(|err| match err {
                JournalError::DuplicateClientOrderId { existing_id } => {
                    DeskError::DuplicateClientOrderId { existing_id }
                }
                other => DeskError::Journal(other),
            })?;
        let order = written[0].clone();
        let id = Uuid::from_str(&order.id).map_err(|e| JournalError::Corrupt(e.to_string()))?;
        tracing::info!(order_id = %order.id, broker_order_id = order.broker_order_id, legs = legs.len(), "order journaled");
        metrics::count_order(
            request.pricing().order_type().as_str(),
            request.side().as_str(),
        );

        // Subscribe before sending so the acknowledgement cannot slip past.
        let mut changes = self.subscribe();
        let is_bracket = matches!(request.order_class(), OrderClass::Bracket { .. });
        let last = written.len() - 1;
        for (i, (journaled, new)) in written
            .iter()
            .zip(std::iter::once(&parent).chain(&legs))
            .enumerate()
        {
            let sent = self
                .broker
                .place(BrokerOrder {
                    broker_order_id: journaled.broker_order_id,
                    instrument: request.instrument().clone(),
                    side: new.side,
                    qty: request.qty(),
                    pricing: new.pricing,
                    time_in_force: new.time_in_force,
                    outside_rth: new.outside_rth,
                    order_ref: new.client_order_id.clone(),
                    account: Some(account.clone()),
                    parent_broker_id: (is_bracket && i > 0).then_some(order.broker_order_id),
                    oca_group: new.oca_group.clone(),
                    // A bracket is held at the gateway until its last leg arrives.
                    transmit: !is_bracket || i == last,
                })
                .await;
            if let Err(err) = sent {
                // Whatever of the group was not sent is resolved the same way as the order.
                for unsent in &written[i..] {
                    if let Ok(uuid) = Uuid::from_str(&unsent.id) {
                        let _ = self.unsent(uuid, err.clone()).await;
                    }
                }
                return Err(DeskError::from(err));
            }
        }

        let deadline = tokio::time::Instant::now() + self.config.ack_timeout;
        loop {
            let current = journal::orders::get(&self.db, id)
                .await?
                .ok_or(DeskError::OrderNotFound)?;
            if current.status != OrderStatus::PendingNew {
                if current.status == OrderStatus::Rejected {
                    tracing::info!(order_id = %current.id, reason = ?current.reject_reason, "order rejected by the broker");
                }
                metrics::record_order_latency(started.elapsed());
                return Ok(Placed::Acknowledged(self.with_legs(current).await?));
            }
            // Any change (or a lagged receiver) means: look again.
            if tokio::time::timeout_at(deadline, changes.recv())
                .await
                .is_err()
            {
                tracing::warn!(order_id = %current.id, "no acknowledgement in time; answering pending_new");
                return Ok(Placed::Pending(self.with_legs(current).await?));
            }
        }
    }

    /// An order that was journaled but could not be handed to the broker: when it certainly
    /// never left (pacing, not connected) it is marked rejected with the reason, so nothing
    /// stays pending; otherwise reconciliation resolves it by its `orderRef`.
    async fn unsent(&self, id: Uuid, err: BrokerError) -> DeskError {
        let certain = matches!(err, BrokerError::Pacing(_) | BrokerError::NotReady(_));
        if certain {
            let code = match &err {
                BrokerError::Pacing(PacingError::QueueFull { .. }) => "PACING_LIMIT",
                _ => "BROKER_NOT_READY",
            };
            let update = StatusUpdate {
                status: OrderStatus::Rejected,
                filled: None,
                avg_price: None,
                perm_id: None,
                reason: Some(format!("not sent to the broker: {code}")),
            };
            if let Err(journal_err) = self.apply(id, &update).await {
                tracing::error!(error = %journal_err, "cannot record an unsent order");
            }
        } else {
            tracing::warn!(order_id = %id, error = %err, "sending the order failed; reconciliation will resolve it");
        }
        DeskError::from(err)
    }

    /// Refuses new orders when the link is not ready or the gateway is restarting.
    fn check_can_send(&self) -> Result<(), DeskError> {
        let now = Utc::now();
        let window = &self.config.maintenance;
        if window.contains(now) {
            let end = window.end;
            let local = now.with_timezone(&window.tz).time();
            let left = (end - local).num_seconds().rem_euclid(86_400);
            return Err(DeskError::MaintenanceWindow {
                retry_after_secs: u64::try_from(left.max(1)).unwrap_or(60),
            });
        }
        self.check_link()
    }

    fn resolve_account(&self, requested: Option<&str>) -> Result<String, DeskError> {
        let view = self
            .account
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match (requested, view.accounts.as_slice()) {
            (Some(a), known) if known.iter().any(|k| k == a) => Ok(a.to_owned()),
            (Some(a), _) => Err(DeskError::Invalid(vec![FieldError {
                field: "account".to_owned(),
                reason: format!("{a} is not an account of this gateway session"),
            }])),
            (None, [only]) => Ok(only.clone()),
            (None, []) => Err(DeskError::BrokerNotReady(self.broker.state())),
            (None, _) => Err(DeskError::Invalid(vec![FieldError {
                field: "account".to_owned(),
                reason: "is required: this gateway session manages several accounts".to_owned(),
            }])),
        }
    }

    /// One order, with its legs.
    pub async fn order(&self, id: &str) -> Result<OrderView, DeskError> {
        let id = Uuid::from_str(id).map_err(|_| DeskError::OrderNotFound)?;
        let order = journal::orders::get(&self.db, id)
            .await?
            .ok_or(DeskError::OrderNotFound)?;
        self.with_legs(order).await
    }

    /// Orders, newest first, each with its legs.
    pub async fn orders(
        &self,
        filter: &journal::orders::ListFilter,
    ) -> Result<Vec<OrderView>, DeskError> {
        let mut orders = journal::orders::list(&self.db, filter).await?;
        journal::orders::attach_legs(&self.db, &mut orders).await?;
        Ok(orders)
    }

    async fn with_legs(&self, order: OrderView) -> Result<OrderView, DeskError> {
        let mut one = [order];
        journal::orders::attach_legs(&self.db, &mut one).await?;
        let [order] = one;
        Ok(order)
    }

    /// Executions, newest first.
    pub async fn fills(
        &self,
        order_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<journal::orders::FillRow>, DeskError> {
        let order_id = order_id
            .map(Uuid::from_str)
            .transpose()
            .map_err(|_| DeskError::OrderNotFound)?;
        Ok(journal::orders::fills(&self.db, order_id, limit).await?)
    }

    /// Requests the cancellation of an order; the broker confirms asynchronously.
    #[tracing::instrument(skip_all, fields(order_id = id))]
    pub async fn cancel_order(&self, id: &str) -> Result<OrderView, DeskError> {
        let order = self.order(id).await?;
        if order.status.is_terminal() || !order.status.can_become(OrderStatus::PendingCancel) {
            return Err(DeskError::NotCancelable(order.status));
        }
        self.check_link()?;
        let uuid = Uuid::from_str(&order.id).map_err(|e| JournalError::Corrupt(e.to_string()))?;
        // Journal the request first: the broker's confirmation may arrive before `cancel`
        // returns, and must find the order already pending cancellation.
        let pending = StatusUpdate {
            status: OrderStatus::PendingCancel,
            filled: None,
            avg_price: None,
            perm_id: None,
            reason: None,
        };
        self.apply(uuid, &pending).await?;
        if let Err(err) = self.broker.cancel(order.broker_order_id).await {
            // The request never reached the broker: the order is working as before.
            let back = StatusUpdate {
                status: order.status,
                filled: None,
                avg_price: None,
                perm_id: None,
                reason: None,
            };
            self.apply(uuid, &back).await?;
            return Err(err.into());
        }
        self.order(id).await
    }

    /// Cancels every open order, reporting per order.
    pub async fn cancel_all(&self) -> Result<Vec<CancelOutcome>, DeskError> {
        let filter = journal::orders::ListFilter {
            open: Some(true),
            limit: 10_000,
            ..Default::default()
        };
        let open = self.orders(&filter).await?;
        let mut outcomes = Vec::with_capacity(open.len());
        for order in open {
            let outcome = match self.cancel_order(&order.id).await {
                Ok(_) => CancelOutcome {
                    id: order.id,
                    status: 200,
                    error_code: None,
                },
                Err(DeskError::NotCancelable(_)) => CancelOutcome {
                    id: order.id,
                    status: 409,
                    error_code: Some("ORDER_NOT_CANCELABLE"),
                },
                Err(err) => {
                    tracing::warn!(order_id = %order.id, error = %err, "cancel failed");
                    CancelOutcome {
                        id: order.id,
                        status: 500,
                        error_code: Some("CANCEL_FAILED"),
                    }
                }
            };
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    /// The last recorded positions and when they were taken: what Binder can say about the
    /// account when neither the cache nor the broker can answer.
    pub async fn last_known_positions(
        &self,
    ) -> Result<Option<(chrono::DateTime<Utc>, Vec<BrokerPosition>)>, DeskError> {
        metrics::count_cache_fallback("positions_journal");
        Ok(journal::snapshots::latest_positions(&self.db).await?)
    }

    /// Positions as the broker reports them now.
    /// Served from the cache for a moment (fills invalidate it); from the broker otherwise.
    pub async fn positions(&self) -> Result<Vec<BrokerPosition>, DeskError> {
        match self
            .cache
            .get_json::<Vec<BrokerPosition>>(POSITIONS_KEY)
            .await
        {
            Ok(Some(cached)) => return Ok(cached),
            Ok(None) => {}
            Err(err) => {
                tracing::debug!(error = %err, "positions cache unavailable; asking the broker");
                metrics::count_cache_fallback("positions");
            }
        }
        let positions: Vec<BrokerPosition> = self
            .broker
            .positions()
            .await?
            .into_iter()
            .filter(|p| !p.qty.is_zero())
            .collect();
        metrics::set_active_positions(positions.len());
        journal::snapshots::record_positions(&self.db, &positions).await?;
        if let Err(err) = self
            .cache
            .set_json(POSITIONS_KEY, &positions, POSITIONS_TTL)
            .await
        {
            tracing::debug!(error = %err, "cannot cache positions");
        }
        Ok(positions)
    }
}

//! Applying what the broker reports to the journal: live events, and the reconciliation
//! snapshot after every (re)connect. Both go through the same steps, so an event seen twice
//! (live and in a snapshot) changes nothing the second time.

use std::collections::HashSet;
use std::sync::Arc;

use app::domain::order::OrderStatus;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{AccountView, Change, Desk};
use crate::broker::{
    BoxFuture, BrokerEvent, BrokerFill, BrokerOrderView, Reconciler, Snapshot, codes,
};
use crate::journal::orders::{self, Applied, StatusUpdate};
use crate::journal::{self, JournalError};
use crate::metrics;

/// IB codes that mean an order was refused.
const REJECTION_CODES: &[i32] = &[103, 110, 200, 201, 203, 321, 10147];

/// Applies broker events until shutdown. Journal failures are logged with the event, and the
/// next reconciliation repairs what was missed.
pub async fn consume(
    desk: Arc<Desk>,
    mut events: broadcast::Receiver<BrokerEvent>,
    shutdown: CancellationToken,
) {
    loop {
        let event = tokio::select! {
            () = shutdown.cancelled() => return,
            event = events.recv() => event,
        };
        match event {
            Ok(event) => {
                if let Err(err) = desk.apply_event(&event).await {
                    tracing::error!(error = %err, event = ?event, "cannot journal a broker event");
                }
            }
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::error!(
                    missed,
                    "broker events were dropped before they could be journaled; the next reconciliation repairs them"
                );
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

impl Desk {
    async fn apply_event(&self, event: &BrokerEvent) -> Result<(), JournalError> {
        match event {
            BrokerEvent::OrderStatus {
                broker_order_id,
                client_id,
                perm_id,
                status,
                filled,
                avg_fill_price,
                ..
            } => {
                let Some(id) =
                    orders::locate(&self.db, *client_id, *broker_order_id, *perm_id, None).await?
                else {
                    // Another client's order; its OpenOrder message adopts it.
                    return Ok(());
                };
                let update = StatusUpdate {
                    status: *status,
                    filled: Some(*filled),
                    avg_price: *avg_fill_price,
                    perm_id: Some(*perm_id),
                    reason: None,
                };
                self.apply(id, &update).await
            }
            BrokerEvent::OpenOrder(view) => self.apply_order_view(view).await.map(drop),
            BrokerEvent::Fill(fill) => self.apply_fill(fill).await,
            BrokerEvent::Commission(c) => orders::record_commission(&self.db, c).await,
            BrokerEvent::OrderError {
                broker_order_id,
                code,
                message,
            } => {
                let explanation = codes::lookup(*code).map_or("", |c| c.explanation);
                tracing::info!(
                    broker_order_id,
                    code,
                    binder_code = codes::binder_code(*code),
                    message,
                    explanation,
                    "broker notice for an order"
                );
                if !REJECTION_CODES.contains(code) {
                    return Ok(());
                }
                let Some(id) = orders::locate(
                    &self.db,
                    self.config.broker_client_id,
                    *broker_order_id,
                    0,
                    None,
                )
                .await?
                else {
                    return Ok(());
                };
                let update = StatusUpdate {
                    status: OrderStatus::Rejected,
                    filled: None,
                    avg_price: None,
                    perm_id: None,
                    reason: Some(format!(
                        "{} (IB {code}): {message}",
                        codes::binder_code(*code)
                    )),
                };
                self.apply(id, &update).await
            }
        }
    }

    /// Applies a status through the state machine and tells listeners when it changed.
    pub(super) async fn apply(&self, id: Uuid, update: &StatusUpdate) -> Result<(), JournalError> {
        match orders::apply_status(&self.db, id, update).await? {
            Applied::Changed { order, seq } => {
                tracing::info!(order_id = %order.id, status = order.status.as_str(), seq, "order state");
                self.notify(Change::Order { seq, order });
            }
            Applied::Unchanged => {}
            Applied::Illegal { from, to } => {
                tracing::debug!(order_id = %id, from = from.as_str(), to = to.as_str(), "ignored a stale order status");
            }
        }
        Ok(())
    }

    /// Matches a broker order to the journal (adopting it if unknown) and brings it up to date.
    async fn apply_order_view(&self, view: &BrokerOrderView) -> Result<Uuid, JournalError> {
        let order_ref =
            (view.client_id == self.config.broker_client_id).then_some(view.order_ref.as_str());
        let id = match orders::locate(
            &self.db,
            view.client_id,
            view.broker_order_id,
            view.perm_id,
            order_ref,
        )
        .await?
        {
            Some(id) => id,
            None => {
                let id = orders::adopt(&self.db, view).await?;
                tracing::info!(order_id = %id, client_id = view.client_id, perm_id = view.perm_id, symbol = %view.symbol, "adopted an order placed outside Binder");
                self.notify(Change::Adopted {
                    order_id: id.to_string(),
                });
                return Ok(id);
            }
        };
        if view.con_id != 0 {
            orders::learn_con_id(&self.db, id, view.con_id).await?;
        }
        // A completed order reports no fill quantity; filled means all of it.
        let filled = (view.status == OrderStatus::Filled).then_some(view.qty);
        let update = StatusUpdate {
            status: view.status,
            filled,
            avg_price: None,
            perm_id: Some(view.perm_id),
            reason: None,
        };
        self.apply(id, &update).await?;
        Ok(id)
    }

    async fn apply_fill(&self, fill: &BrokerFill) -> Result<(), JournalError> {
        let order_ref =
            (fill.client_id == self.config.broker_client_id).then_some(fill.order_ref.as_str());
        let id = orders::locate(
            &self.db,
            fill.client_id,
            fill.broker_order_id,
            fill.perm_id,
            order_ref,
        )
        .await?;
        match orders::record_fill(&self.db, fill, id).await? {
            orders::FillRecorded::Duplicate => {}
            orders::FillRecorded::Unmatched => {
                if let Err(err) = self.cache.delete(super::orders::POSITIONS_KEY).await {
                    tracing::debug!(error = %err, "cannot invalidate cached positions");
                }
                tracing::warn!(exec_id = %fill.exec_id, symbol = %fill.symbol, "fill recorded for an order Binder does not know");
            }
            orders::FillRecorded::Recorded { seq } => {
                tracing::info!(exec_id = %fill.exec_id, order_id = ?id, qty = %fill.qty, price = %fill.price, seq, "fill recorded");
                metrics::count_fill(fill.side.as_str());
                if let Err(err) = self.cache.delete(super::orders::POSITIONS_KEY).await {
                    tracing::debug!(error = %err, "cannot invalidate cached positions");
                }
                self.notify(Change::Fill {
                    seq,
                    exec_id: fill.exec_id.clone(),
                });
            }
        }
        Ok(())
    }

    /// Brings the journal up to date with the broker's view after a (re)connect.
    async fn reconcile_snapshot(&self, snapshot: Snapshot) -> anyhow::Result<()> {
        let floor = orders::raise_order_id_floor(&self.db, snapshot.next_valid_id).await?;
        let mut seen: HashSet<Uuid> = HashSet::new();
        for view in snapshot
            .open_orders
            .iter()
            .chain(&snapshot.completed_orders)
        {
            seen.insert(self.apply_order_view(view).await?);
        }
        for fill in &snapshot.fills {
            self.apply_fill(fill).await?;
        }
        for c in &snapshot.commissions {
            orders::record_commission(&self.db, c).await?;
        }
        // Binder's own orders the broker does not know: if they never got past pending_new,
        // they never reached it (the process stopped between journal and send).
        for (id, client_id, _broker_id, coid, status) in orders::unfinished(&self.db).await? {
            if seen.contains(&id) || client_id != self.config.broker_client_id {
                continue;
            }
            if status == OrderStatus::PendingNew {
                let update = StatusUpdate {
                    status: OrderStatus::Rejected,
                    filled: None,
                    avg_price: None,
                    perm_id: None,
                    reason: Some("never reached the broker (resolved at reconnect)".to_owned()),
                };
                self.apply(id, &update).await?;
                tracing::warn!(order_id = %id, client_order_id = %coid, "pending order unknown to the broker: marked rejected");
            } else {
                tracing::warn!(order_id = %id, client_order_id = %coid, status = status.as_str(), "open order unknown to the broker");
            }
        }
        journal::snapshots::record_positions(&self.db, &snapshot.positions).await?;
        journal::snapshots::record_account_values(&self.db, &snapshot.account_values).await?;
        *self
            .account
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = AccountView {
            accounts: snapshot.accounts,
        };
        tracing::info!(
            next_order_id = floor,
            fills = snapshot.fills.len(),
            positions = snapshot.positions.len(),
            account_values = snapshot.account_values.len(),
            "reconciled"
        );
        Ok(())
    }
}

impl Reconciler for Desk {
    fn reconcile(&self, snapshot: Snapshot) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(self.reconcile_snapshot(snapshot))
    }
}

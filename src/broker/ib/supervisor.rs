//! The supervisor: connect, reconcile, watch, reconnect — forever, one connection at a time.
//!
//! ibapi's own reconnection is switched off so that every connection passes through here:
//! the event pumps start before reconciliation (nothing that happens meanwhile is missed), the
//! state becomes `ready` only after the desk has reconciled, and a link that stops answering
//! heartbeats is torn down even if its socket looks open.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use ibapi::orders::{OrderUpdate, Orders};
use ibapi::subscriptions::SubscriptionItem;
use rand::Rng;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use app::domain::BrokerState;

use super::{IbBroker, convert};
use crate::broker::{BrokerEvent, Reconciler, Snapshot, codes};
use crate::metrics;

/// How often the link proves it is alive with a current-time request.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(10);
/// Silence after which the link is declared dead even if the socket looks open.
const HEARTBEAT_DEADLINE: Duration = Duration::from_secs(20);
/// Limit on one connection attempt (TCP + handshake).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Limit on gathering and applying the reconciliation snapshot.
const RECONCILE_TIMEOUT: Duration = Duration::from_secs(60);
/// First and largest delay between connection attempts.
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Runs until `shutdown` is cancelled, then disconnects.
pub async fn run(
    broker: Arc<IbBroker>,
    reconciler: Arc<dyn Reconciler>,
    shutdown: CancellationToken,
) {
    let mut failures: u32 = 0;
    let mut connected_before = false;
    while !shutdown.is_cancelled() {
        broker.publish(BrokerState::Connecting);
        let attempt = ibapi::Client::builder()
            .address(broker.config.addr.clone())
            .client_id(broker.config.client_id)
            .tcp_no_delay(true)
            .max_reconnect_attempts(0)
            .rate_limiter(broker.limiter.clone())
            .connect();
        let connected = tokio::select! {
            () = shutdown.cancelled() => break,
            result = tokio::time::timeout(CONNECT_TIMEOUT, attempt) => result,
        };
        match connected {
            Ok(Ok(client)) => {
                if connected_before {
                    metrics::count_reconnect();
                }
                connected_before = true;
                let client = Arc::new(client);
                tracing::info!(addr = %broker.config.addr, server_version = client.server_version(), "connected to the gateway");
                let healthy = session(&broker, &client, reconciler.as_ref(), &shutdown).await;
                broker.set_client(None);
                client.disconnect().await;
                broker.publish(BrokerState::Disconnected);
                failures = if healthy { 0 } else { failures + 1 };
                if !shutdown.is_cancelled() {
                    log_disconnect(&broker, "the gateway connection ended");
                }
            }
            Ok(Err(err)) => {
                failures += 1;
                broker.publish(BrokerState::Disconnected);
                log_disconnect(&broker, &format!("cannot connect to the gateway: {err}"));
            }
            Err(_) => {
                failures += 1;
                broker.publish(BrokerState::Disconnected);
                log_disconnect(
                    &broker,
                    "the gateway did not complete the handshake in time",
                );
            }
        }
        let delay = backoff(failures, &mut rand::rng());
        tracing::debug!(
            delay_ms = delay.as_millis(),
            failures,
            "next connection attempt"
        );
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(delay) => {}
        }
    }
    broker.publish(BrokerState::Disconnected);
}

/// The expected restart is not an incident: inside the maintenance window it is logged at info.
fn log_disconnect(broker: &IbBroker, what: &str) {
    if broker.config.maintenance.contains(chrono::Utc::now()) {
        tracing::info!(addr = %broker.config.addr, "{what} (expected: inside the gateway's daily maintenance window)");
    } else {
        tracing::warn!(addr = %broker.config.addr, "{what}; reconnecting");
    }
}

/// One connected session. Returns whether it reached `ready` (resets the backoff).
async fn session(
    broker: &Arc<IbBroker>,
    client: &Arc<ibapi::Client>,
    reconciler: &dyn Reconciler,
    shutdown: &CancellationToken,
) -> bool {
    broker.publish(BrokerState::Reconciling);
    let dead = CancellationToken::new();
    let mut pumps = JoinSet::new();
    match client.order_update_stream().await {
        Ok(stream) => {
            pumps.spawn(pump_orders(stream, broker.events.clone(), dead.clone()));
        }
        Err(err) => {
            tracing::warn!(error = %err, "cannot subscribe to order updates");
            return false;
        }
    }
    match client.notice_stream() {
        Ok(notices) => {
            pumps.spawn(pump_notices(notices, Arc::clone(broker), dead.clone()));
        }
        Err(err) => {
            tracing::warn!(error = %err, "cannot subscribe to notices");
            return false;
        }
    }
    broker.set_client(Some(Arc::clone(client)));

    let reconciled = tokio::time::timeout(RECONCILE_TIMEOUT, async {
        let snapshot = gather(broker, client).await?;
        tracing::info!(
            open_orders = snapshot.open_orders.len(),
            completed_orders = snapshot.completed_orders.len(),
            fills = snapshot.fills.len(),
            positions = snapshot.positions.len(),
            "reconciling with the gateway"
        );
        reconciler.reconcile(snapshot).await
    })
    .await;
    let ready = match reconciled {
        Ok(Ok(())) => {
            broker.publish(BrokerState::Ready);
            true
        }
        Ok(Err(err)) => {
            tracing::warn!(
                error = format!("{err:#}"),
                "reconciliation failed; reconnecting"
            );
            false
        }
        Err(_) => {
            tracing::warn!(
                limit_s = RECONCILE_TIMEOUT.as_secs(),
                "reconciliation took too long; reconnecting"
            );
            false
        }
    };
    if ready {
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = dead.cancelled() => {}
            () = heartbeat(broker) => {}
        }
    }
    dead.cancel();
    pumps.shutdown().await;
    ready
}

/// Returns when a heartbeat goes unanswered.
async fn heartbeat(broker: &IbBroker) {
    loop {
        tokio::time::sleep(HEARTBEAT_EVERY).await;
        let Ok(client) = broker.connected_client() else {
            return;
        };
        let started = Instant::now();
        match tokio::time::timeout(HEARTBEAT_DEADLINE, client.server_time()).await {
            Ok(Ok(_)) => metrics::record_heartbeat(started.elapsed()),
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "gateway heartbeat failed");
                return;
            }
            Err(_) => {
                tracing::warn!(deadline_s = HEARTBEAT_DEADLINE.as_secs(), "gateway silent");
                return;
            }
        }
    }
}

/// Forwards order updates as broker events; cancels `dead` when the stream ends.
async fn pump_orders(
    mut stream: ibapi::subscriptions::Subscription<OrderUpdate>,
    events: tokio::sync::broadcast::Sender<BrokerEvent>,
    dead: CancellationToken,
) {
    loop {
        let item = tokio::select! {
            () = dead.cancelled() => return,
            item = stream.next() => item,
        };
        let event = match item {
            Some(Ok(SubscriptionItem::Data(update))) => order_event(update),
            Some(Ok(SubscriptionItem::Notice(notice))) => match notice.request_id {
                Some(id) if !codes::is_informational(notice.code) || notice.code == 202 => {
                    metrics::count_broker_error(codes::binder_code(notice.code));
                    Some(BrokerEvent::OrderError {
                        broker_order_id: id,
                        code: notice.code,
                        message: notice.message,
                    })
                }
                _ => None,
            },
            Some(Err(err)) => {
                tracing::warn!(error = %err, "order update stream failed");
                dead.cancel();
                return;
            }
            None => {
                dead.cancel();
                return;
            }
        };
        if let Some(event) = event {
            // No receivers is fine (nothing is listening yet).
            let _ = events.send(event);
        }
    }
}

fn order_event(update: OrderUpdate) -> Option<BrokerEvent> {
    match update {
        OrderUpdate::OrderStatus(s) => {
            let filled = convert::qty_from_f64(s.filled);
            Some(BrokerEvent::OrderStatus {
                broker_order_id: s.order_id,
                client_id: s.client_id,
                perm_id: s.perm_id,
                status: convert::status(&s.status, filled),
                filled,
                remaining: convert::qty_from_f64(s.remaining),
                avg_fill_price: s.average_fill_price.and_then(convert::from_f64),
            })
        }
        OrderUpdate::OpenOrder(data) => Some(BrokerEvent::OpenOrder(convert::order_view(&data))),
        OrderUpdate::ExecutionData(data) => Some(BrokerEvent::Fill(convert::fill(&data))),
        OrderUpdate::CommissionReport(report) => {
            Some(BrokerEvent::Commission(convert::commission(&report)))
        }
        OrderUpdate::OrderBound(_) => None,
    }
}

/// Maps connectivity and farm notices to the link's state while it is up.
async fn pump_notices(
    mut notices: ibapi::subscriptions::NoticeStream,
    broker: Arc<IbBroker>,
    dead: CancellationToken,
) {
    let mut connectivity_lost = false;
    let mut broken_farms: BTreeSet<String> = BTreeSet::new();
    loop {
        let notice = tokio::select! {
            () = dead.cancelled() => return,
            notice = notices.next() => notice,
        };
        let Some(notice) = notice else {
            dead.cancel();
            return;
        };
        let farm = notice
            .message
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .to_owned();
        match notice.code {
            1100 => {
                connectivity_lost = true;
                metrics::count_gateway_error(codes::binder_code(1100));
                tracing::warn!(
                    code = 1100,
                    "{}",
                    codes::lookup(1100).map_or("", |c| c.explanation)
                );
            }
            1101 | 1102 => {
                connectivity_lost = false;
                if notice.code == 1101 {
                    // Data lost: the gateway dropped every market data line; subscribe again.
                    broker.market.renew_all();
                }
                let explanation = codes::lookup(notice.code).map_or("", |c| c.explanation);
                tracing::info!(code = notice.code, "{explanation}");
            }
            2103 | 2105 | 2157 => {
                broken_farms.insert(farm);
                tracing::warn!(code = notice.code, message = %notice.message, "data farm connection broken");
            }
            2104 | 2106 | 2158 | 2107 | 2108 => {
                broken_farms.remove(&farm);
                tracing::debug!(code = notice.code, message = %notice.message, "data farm connection OK");
            }
            code if code >= 2100 => {
                tracing::info!(code, message = %notice.message, "gateway notice");
                continue;
            }
            code => {
                let known = codes::lookup(code);
                metrics::count_gateway_error(codes::binder_code(code));
                tracing::warn!(
                    code,
                    binder_code = codes::binder_code(code),
                    message = %notice.message,
                    explanation = known.map_or("", |c| c.explanation),
                    "gateway error"
                );
                continue;
            }
        }
        // Only a session that finished reconciling moves between ready and degraded.
        let current = *broker.state.borrow();
        if matches!(current, BrokerState::Ready | BrokerState::Degraded) {
            let next = if connectivity_lost || !broken_farms.is_empty() {
                BrokerState::Degraded
            } else {
                BrokerState::Ready
            };
            broker.publish(next);
        }
    }
}

/// Collects everything the desk needs to reconcile.
async fn gather(broker: &IbBroker, client: &ibapi::Client) -> anyhow::Result<Snapshot> {
    use crate::broker::Broker;
    let crate::broker::Executions { fills, commissions } = broker.executions().await?;
    Ok(Snapshot {
        next_valid_id: client.next_valid_order_id().await?,
        accounts: client.managed_accounts().await?,
        open_orders: broker.open_orders().await?,
        completed_orders: collect_orders(client.completed_orders(false).await?).await?,
        fills,
        commissions,
        positions: broker.positions().await?,
        account_values: broker.fetch_account_summary().await?,
    })
}

/// Collects an open- or completed-orders answer, folding status messages into the orders.
pub(super) async fn collect_orders(
    mut sub: ibapi::subscriptions::Subscription<Orders>,
) -> anyhow::Result<Vec<crate::broker::BrokerOrderView>> {
    let mut orders: Vec<crate::broker::BrokerOrderView> = Vec::new();
    while let Some(item) = sub.next().await {
        match item? {
            SubscriptionItem::Data(Orders::OrderData(data)) => {
                orders.push(convert::order_view(&data))
            }
            SubscriptionItem::Data(Orders::OrderStatus(s)) => {
                if let Some(o) = orders
                    .iter_mut()
                    .rev()
                    .find(|o| o.broker_order_id == s.order_id && o.perm_id == s.perm_id)
                {
                    o.status = convert::status(&s.status, convert::qty_from_f64(s.filled));
                }
            }
            SubscriptionItem::Notice(_) => {}
        }
    }
    Ok(orders)
}

/// Capped exponential backoff with full jitter; zero failures means a quick retry.
fn backoff(failures: u32, rng: &mut impl Rng) -> Duration {
    let exp = BACKOFF_MIN.saturating_mul(1_u32 << failures.min(10));
    let cap = exp.min(BACKOFF_MAX);
    let millis = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rng.random_range(millis / 2..=millis))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn backoff_grows_and_is_capped() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let first = backoff(0, &mut rng);
        assert!(first <= BACKOFF_MIN && first >= BACKOFF_MIN / 2);
        let third = backoff(2, &mut rng);
        assert!(
            third >= BACKOFF_MIN * 2 && third <= BACKOFF_MIN * 4,
            "{third:?}"
        );
        for failures in [8, 20, u32::MAX] {
            let d = backoff(failures, &mut rng);
            assert!(
                d <= BACKOFF_MAX && d >= BACKOFF_MAX / 2,
                "{failures}: {d:?}"
            );
        }
    }
}

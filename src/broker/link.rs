//! The supervised connection to the gateway: connect, heartbeat, reconnect with backoff.
//!
//! The supervisor owns reconnection (ibapi's own is switched off) so that every reconnect
//! passes through one place that publishes the state and, later, reconciles.

use std::time::Duration;

use rand::Rng;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use app::domain::BrokerState;

use crate::metrics;

/// How often the link proves it is alive with a current-time request.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(10);
/// Silence after which the link is declared dead even if the socket looks open.
const HEARTBEAT_DEADLINE: Duration = Duration::from_secs(20);
/// Limit on one connection attempt (TCP + handshake).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// First and largest delay between connection attempts.
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    /// `host:port` of the gateway or simulator.
    pub addr: String,
    /// The TWS API client id.
    pub client_id: i32,
}

/// Read side of the link: its current state.
#[derive(Debug, Clone)]
pub struct BrokerHandle {
    state: watch::Receiver<BrokerState>,
}

impl BrokerHandle {
    /// The current state.
    pub fn state(&self) -> BrokerState {
        *self.state.borrow()
    }

    /// A receiver that sees every change.
    pub fn subscribe(&self) -> watch::Receiver<BrokerState> {
        self.state.clone()
    }

    /// Waits until the link reaches `wanted` (tests and start-up use this).
    pub async fn wait_for(&self, wanted: BrokerState) -> bool {
        let mut rx = self.state.clone();
        rx.wait_for(|s| *s == wanted).await.is_ok()
    }
}

/// Starts the supervisor; it runs until `shutdown` is cancelled, then disconnects.
pub fn spawn_link(
    config: LinkConfig,
    shutdown: CancellationToken,
) -> (BrokerHandle, JoinHandle<()>) {
    let (tx, rx) = watch::channel(BrokerState::Disconnected);
    metrics::set_broker_state(BrokerState::Disconnected);
    let task = tokio::spawn(supervise(config, tx, shutdown));
    (BrokerHandle { state: rx }, task)
}

fn publish(tx: &watch::Sender<BrokerState>, state: BrokerState) {
    let previous = tx.send_replace(state);
    if previous != state {
        tracing::info!(
            from = previous.as_str(),
            to = state.as_str(),
            "broker link state"
        );
        metrics::set_broker_state(state);
    }
}

async fn supervise(
    config: LinkConfig,
    tx: watch::Sender<BrokerState>,
    shutdown: CancellationToken,
) {
    let mut failures: u32 = 0;
    while !shutdown.is_cancelled() {
        publish(&tx, BrokerState::Connecting);
        let attempt = ibapi::Client::builder()
            .address(config.addr.clone())
            .client_id(config.client_id)
            .tcp_no_delay(true)
            .max_reconnect_attempts(0)
            .connect();
        let connected = tokio::select! {
            () = shutdown.cancelled() => break,
            result = tokio::time::timeout(CONNECT_TIMEOUT, attempt) => result,
        };
        match connected {
            Ok(Ok(client)) => {
                failures = 0;
                tracing::info!(addr = %config.addr, server_version = client.server_version(), "connected to the gateway");
                publish(&tx, BrokerState::Ready);
                heartbeat(&client, &shutdown).await;
                client.disconnect().await;
                publish(&tx, BrokerState::Disconnected);
            }
            Ok(Err(err)) => {
                failures += 1;
                publish(&tx, BrokerState::Disconnected);
                tracing::warn!(addr = %config.addr, error = %err, failures, "cannot connect to the gateway");
            }
            Err(_) => {
                failures += 1;
                publish(&tx, BrokerState::Disconnected);
                tracing::warn!(addr = %config.addr, failures, "gateway did not complete the handshake in time");
            }
        }
        let delay = backoff(failures, &mut rand::rng());
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(delay) => {}
        }
    }
    publish(&tx, BrokerState::Disconnected);
}

/// Returns when the link is dead (no answer within the deadline) or shutdown is requested.
async fn heartbeat(client: &ibapi::Client, shutdown: &CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(HEARTBEAT_EVERY) => {}
        }
        match tokio::time::timeout(HEARTBEAT_DEADLINE, client.server_time()).await {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "gateway heartbeat failed; reconnecting");
                return;
            }
            Err(_) => {
                tracing::warn!(
                    deadline_s = HEARTBEAT_DEADLINE.as_secs(),
                    "gateway silent; reconnecting"
                );
                return;
            }
        }
    }
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
        for failures in [8, 20, u32::MAX] {
            let d = backoff(failures, &mut rng);
            assert!(
                d <= BACKOFF_MAX && d >= BACKOFF_MAX / 2,
                "{failures}: {d:?}"
            );
        }
    }
}

//! The gateway simulator: a paper exchange that speaks the TWS socket protocol.
//!
//! Layout (modelled on mini-redis): listener (this module) → [`connection`] (framing) →
//! [`codec`] (protobuf | text) → [`session`] (per-client state, rate limit) → [`exchange`]
//! (shared books, account, matching, subscriptions), fed by [`market`] (seeded random walk)
//! over the [`universe`]. [`control`] is the fault-injection HTTP API, [`persist`] the
//! `--state` file.

pub mod clock;
pub mod codec;
pub mod connection;
pub mod control;
pub mod exchange;
pub mod market;
pub mod persist;
pub mod session;
pub mod universe;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rust_decimal::Decimal;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use self::clock::{Clock, SystemClock};
use self::exchange::{Exchange, ExchangeSettings};

/// Settings of one simulator instance; also the flags of `binder sim`.
#[derive(Debug, Clone, clap::Args)]
pub struct SimConfig {
    /// Address `binder sim` listens on; loopback unless a container needs 0.0.0.0. The
    /// simulator has no authentication: do not expose it beyond a private network.
    #[arg(long, env = "SIM_HOST", default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    /// Port the TWS protocol listens on.
    #[arg(long, env = "SIM_PORT", default_value_t = 4002)]
    pub port: u16,
    /// Seed of the deterministic random-walk quotes.
    #[arg(long, env = "SIM_SEED", default_value_t = 42)]
    pub seed: u64,
    /// The paper account id.
    #[arg(long, env = "SIM_ACCOUNT", default_value = "DU1234567")]
    pub account: String,
    /// Port of the fault-injection HTTP API; absent = no control API, 0 = any free port.
    #[arg(long, env = "SIM_CONTROL_PORT")]
    pub control_port: Option<u16>,
    /// Starting cash of the paper account, in USD.
    #[arg(long, env = "SIM_CASH", default_value = "1000000")]
    pub cash: Decimal,
    /// File that keeps orders, positions, executions and the id counter across restarts.
    #[arg(long = "state", env = "SIM_STATE")]
    pub state_file: Option<PathBuf>,
    /// Largest quantity of one execution; orders above it fill in several executions (0 = off).
    #[arg(long, env = "SIM_PARTIAL_FILL_QTY", default_value = "0")]
    pub partial_fill_qty: Decimal,
    /// Commission per share, in USD.
    #[arg(long, env = "SIM_COMMISSION_PER_SHARE", default_value = "0.005")]
    pub commission_per_share: Decimal,
    /// Minimum commission per execution, in USD.
    #[arg(long, env = "SIM_MIN_COMMISSION", default_value = "1")]
    pub min_commission: Decimal,
    /// Milliseconds between market steps; 0 freezes quotes except for control API moves.
    #[arg(long, env = "SIM_TICK_MS", default_value_t = 250)]
    pub tick_ms: u64,
    /// Active orders allowed per contract and side (IB: 20).
    #[arg(long, env = "SIM_MAX_ORDERS_PER_SIDE", default_value_t = 20)]
    pub max_orders_per_side: usize,
    /// Messages per second a client may send before error 100 (IB: 50); 0 = unlimited.
    #[arg(long, env = "SIM_MAX_MSG_RATE", default_value_t = 50)]
    pub max_msg_rate: u32,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            host: std::net::IpAddr::from([127, 0, 0, 1]),
            port: 4002,
            seed: 42,
            account: "DU1234567".to_string(),
            control_port: None,
            cash: Decimal::from(1_000_000),
            state_file: None,
            partial_fill_qty: Decimal::ZERO,
            commission_per_share: Decimal::new(5, 3),
            min_commission: Decimal::ONE,
            tick_ms: 250,
            max_orders_per_side: 20,
            max_msg_rate: session::MAX_MESSAGES_PER_SECOND,
        }
    }
}

/// A bound simulator, ready to serve.
pub struct Simulator {
    listener: TcpListener,
    control: Option<TcpListener>,
    config: SimConfig,
    exchange: Arc<Exchange>,
    gate: Arc<control::Gate>,
}

impl Simulator {
    /// Binds the TWS listener at `addr` (port 0 picks a free port), and the control API on
    /// the same host when `config.control_port` is set.
    pub async fn bind(addr: SocketAddr, config: SimConfig) -> std::io::Result<Self> {
        Self::bind_with_clock(addr, config, Arc::new(SystemClock)).await
    }

    /// [`Simulator::bind`] with an injected clock.
    pub async fn bind_with_clock(
        addr: SocketAddr,
        config: SimConfig,
        clock: Arc<dyn Clock>,
    ) -> std::io::Result<Self> {
        let restored = match &config.state_file {
            Some(path) => persist::load(path)?,
            None => None,
        };
        let listener = TcpListener::bind(addr).await?;
        let control = match config.control_port {
            Some(port) => Some(TcpListener::bind(SocketAddr::new(addr.ip(), port)).await?),
            None => None,
        };
        let settings = ExchangeSettings {
            account: config.account.clone(),
            cash: config.cash,
            seed: config.seed,
            commission_per_share: config.commission_per_share,
            min_commission: config.min_commission,
            partial_fill_qty: config.partial_fill_qty,
            max_orders_per_side: config.max_orders_per_side,
            message_rate_limit: config.max_msg_rate,
        };
        let exchange = Arc::new(Exchange::new(settings, clock, restored));
        Ok(Self {
            listener,
            control,
            config,
            exchange,
            gate: Arc::new(control::Gate::default()),
        })
    }

    /// The address the TWS listener is bound to.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The address of the control API, when enabled.
    pub fn control_addr(&self) -> Option<SocketAddr> {
        self.control.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Serves clients until `shutdown` is cancelled, then closes every connection.
    pub async fn run(self, shutdown: CancellationToken) -> std::io::Result<()> {
        let Self {
            listener,
            control,
            config,
            exchange,
            gate,
        } = self;
        let tracker = TaskTracker::new();
        let tasks = shutdown.child_token();
        info!(addr = ?listener.local_addr().ok(), control = ?control.as_ref().and_then(|l| l.local_addr().ok()), "simulator listening");

        if config.tick_ms > 0 {
            let exchange = Arc::clone(&exchange);
            let stop = tasks.clone();
            let period = Duration::from_millis(config.tick_ms);
            tracker.spawn(async move {
                let mut interval = tokio::time::interval(period);
                interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => break,
                        _ = interval.tick() => exchange.step(),
                    }
                }
            });
        }
        if let Some(path) = config.state_file.clone() {
            tracker.spawn(persist::saver(path, Arc::clone(&exchange), tasks.clone()));
        }
        if let Some(control) = control {
            let state = control::ControlState {
                exchange: Arc::clone(&exchange),
                gate: Arc::clone(&gate),
            };
            let stop = tasks.clone();
            tracker.spawn(async move {
                let app = control::router(state);
                if let Err(e) = axum::serve(control, app)
                    .with_graceful_shutdown(stop.cancelled_owned())
                    .await
                {
                    warn!(error = %e, "control API stopped");
                }
            });
        }

        let next_conn = AtomicU64::new(1);
        loop {
            let accepted = tokio::select! {
                _ = shutdown.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            let (stream, peer) = match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Transient accept errors (e.g. too many open files) must not stop the server.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            if gate.refusing(exchange.now()) {
                info!(?peer, "refusing connection during the simulated restart");
                drop(stream);
                continue;
            }
            let conn_id = next_conn.fetch_add(1, Ordering::Relaxed);
            tracker.spawn(session::serve(
                stream,
                conn_id,
                Arc::clone(&exchange),
                tasks.clone(),
            ));
        }
        drop(listener);
        tasks.cancel();
        tracker.close();
        tracker.wait().await;
        if let Some(path) = &config.state_file {
            persist::save(path, &exchange.snapshot())?;
        }
        info!("simulator stopped");
        Ok(())
    }
}

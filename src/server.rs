//! Start-up and shutdown: the three ways the binary runs (`serve`, `migrate`, `sim`).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use leptos::config::{Env, LeptosOptions};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Auth;
use crate::broker::{IbBroker, IbConfig};
use crate::cache::Cache;
use crate::config::{BrokerMode, Settings};
use crate::desk::{Desk, DeskConfig, spawn_event_consumer};
use crate::simulator::{SimConfig, Simulator};
use crate::state::AppState;
use crate::{api, journal, metrics, telemetry};

/// `binder` / `binder serve`: runs until SIGTERM or Ctrl-C, then shuts down gracefully.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    settings.validate()?;
    telemetry::init(&settings.log_filter, settings.log_format)?;
    tracing::info!(settings = ?settings, "starting binder {}", env!("CARGO_PKG_VERSION"));
    let shutdown = CancellationToken::new();
    let tasks = TaskTracker::new();
    let running = Running::start(settings, &shutdown, &tasks).await?;
    let listener = TcpListener::bind(running.state.settings.addr)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (set BINDER_ADDR to a free address)",
                running.state.settings.addr
            )
        })?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "listening");
    eprintln!(
        "Binder is running at http://{addr}  (broker: {}, trading mode: {}). Press Ctrl-C to stop.",
        running.state.settings.broker_mode_name(),
        running.state.settings.trading_mode.as_str()
    );

    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            wait_for_signal().await;
            tracing::info!("shutdown requested; finishing in-flight requests");
            shutdown.cancel();
        }
    });
    let grace = running.state.settings.shutdown_grace();
    let server = axum::serve(listener, api::app(running.state.clone()))
        .with_graceful_shutdown(shutdown.clone().cancelled_owned());
    let server = tokio::spawn(server.into_future());
    shutdown.cancelled().await;
    match tokio::time::timeout(grace, server).await {
        Ok(Ok(Ok(()))) => tracing::info!("all requests finished"),
        Ok(Ok(Err(err))) => tracing::error!(error = %err, "server error during shutdown"),
        Ok(Err(err)) => tracing::error!(error = %err, "server task failed"),
        Err(_) => tracing::warn!(
            grace_s = grace.as_secs(),
            "requests still running after the grace period; closing anyway"
        ),
    }
    running.stop(&tasks).await;
    tracing::info!("stopped");
    Ok(())
}

/// `binder migrate`: creates the database if needed and applies migrations.
pub async fn migrate(settings: Settings) -> anyhow::Result<()> {
    telemetry::init(&settings.log_filter, settings.log_format)?;
    let pool = journal::open(&settings.database_url).await?;
    let applied = journal::MIGRATOR.iter().count();
    pool.close().await;
    eprintln!("Journal is up to date ({applied} migrations known).");
    Ok(())
}

/// `binder archive`: moves finished orders older than `older_than` to the archive tables.
pub async fn archive(settings: Settings, older_than: chrono::Duration) -> anyhow::Result<()> {
    telemetry::init(&settings.log_filter, settings.log_format)?;
    let pool = journal::open(&settings.database_url).await?;
    let cutoff = chrono::Utc::now() - older_than;
    let moved = journal::archive::archive_finished_before(&pool, cutoff).await?;
    pool.close().await;
    tracing::info!(orders = moved.orders, events = moved.events, fills = moved.fills, %cutoff, "archived");
    eprintln!(
        "Archived {} orders, {} events and {} fills that finished before {}.",
        moved.orders,
        moved.events,
        moved.fills,
        cutoff.format("%Y-%m-%d %H:%M UTC")
    );
    Ok(())
}

/// `binder sim`: the simulator alone, until SIGTERM or Ctrl-C.
pub async fn simulate(settings: Settings, config: SimConfig) -> anyhow::Result<()> {
    telemetry::init(&settings.log_filter, settings.log_format)?;
    let addr = SocketAddr::new(config.host, config.port);
    let simulator = Simulator::bind(addr, config)
        .await
        .with_context(|| format!("cannot listen on {addr} (choose another --port)"))?;
    let bound = simulator.local_addr()?;
    let control = simulator
        .control_addr()
        .map_or_else(|| "off".to_owned(), |a| format!("http://{a}"));
    eprintln!(
        "Gateway simulator listening on {bound} (TWS API); control API: {control}. Press Ctrl-C to stop."
    );
    let shutdown = CancellationToken::new();
    let run = tokio::spawn(simulator.run(shutdown.clone()));
    wait_for_signal().await;
    shutdown.cancel();
    run.await.context("simulator task failed")??;
    Ok(())
}

/// Everything `serve` starts besides the HTTP listener, and how to stop it.
pub struct Running {
    /// The state handlers share.
    pub state: AppState,
    shutdown: CancellationToken,
}

impl Running {
    /// Opens the journal and the cache, starts the simulator (in simulator mode) and the
    /// broker link, and assembles the application state. Background tasks are tracked by
    /// `tasks` and stop when `shutdown` is cancelled.
    pub async fn start(
        settings: Settings,
        shutdown: &CancellationToken,
        tasks: &TaskTracker,
    ) -> anyhow::Result<Self> {
        let db = journal::open(&settings.database_url).await?;
        Self::with_journal(settings, db, shutdown, tasks).await
    }

    /// Like [`Running::start`], with a journal pool opened (or lazily connecting) elsewhere.
    pub async fn with_journal(
        settings: Settings,
        db: PgPool,
        shutdown: &CancellationToken,
        tasks: &TaskTracker,
    ) -> anyhow::Result<Self> {
        let settings = Arc::new(settings);
        let metrics = metrics::install()?;
        let cache = Cache::new(&settings.redis_url);
        if cache.ping().await {
            tracing::info!(url = %cache.shown_url(), "cache connected");
        } else {
            tracing::warn!(
                url = %cache.shown_url(),
                "Redis is unreachable; running degraded without a cache (start it with: redis-server --daemonize yes)"
            );
        }
        let addr = broker_addr(&settings, shutdown, tasks).await?;
        let maintenance = settings.maintenance_window().map_err(anyhow::Error::msg)?;
        let broker = IbBroker::new(IbConfig {
            addr,
            client_id: settings.ib_client_id,
            messages_per_second: settings.ib_messages_per_second,
            queue_capacity: settings.ib_pacing_queue,
            maintenance,
            call_timeout: std::time::Duration::from_secs(15),
            market_data_lines: settings.ib_market_data_lines,
        });
        let auth = Arc::new(Auth::new(&settings, db.clone()));
        auth.bootstrap(&settings).await;
        let desk_config = DeskConfig {
            ack_timeout: settings.order_ack_timeout(),
            maintenance,
            broker_client_id: settings.ib_client_id,
        };
        let desk = Arc::new(Desk::new(
            Arc::clone(&settings),
            desk_config,
            db,
            cache,
            broker.clone(),
        ));
        spawn_event_consumer(&desk, shutdown.clone(), tasks);
        broker.start(desk.clone(), shutdown.clone(), tasks);
        let leptos = leptos_options(&settings);
        Ok(Self {
            state: AppState {
                settings,
                desk,
                auth,
                metrics,
                leptos,
            },
            shutdown: shutdown.clone(),
        })
    }

    /// Stops background tasks (broker link, simulator) and closes the pools.
    pub async fn stop(self, tasks: &TaskTracker) {
        self.shutdown.cancel();
        tasks.close();
        tasks.wait().await;
        self.state.desk.close().await;
    }
}

/// The gateway address: the configured one, or that of a simulator started here.
async fn broker_addr(
    settings: &Settings,
    shutdown: &CancellationToken,
    tasks: &TaskTracker,
) -> anyhow::Result<String> {
    match settings.broker_mode() {
        BrokerMode::Gateway => Ok(settings.gateway_addr()),
        BrokerMode::Simulator => {
            let config = EmbeddedSim::parse_from(["sim"]).config;
            let simulator = Simulator::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config)
                .await
                .context("cannot start the embedded gateway simulator")?;
            let addr = simulator.local_addr()?;
            tracing::info!(%addr, "embedded gateway simulator started");
            let token = shutdown.clone();
            tasks.spawn(async move {
                if let Err(err) = simulator.run(token).await {
                    tracing::error!(error = %err, "embedded simulator stopped with an error");
                }
            });
            Ok(addr.to_string())
        }
    }
}

/// Reads the embedded simulator's settings from `SIM_*` variables, with the same defaults
/// as `binder sim`.
#[derive(Parser)]
struct EmbeddedSim {
    #[command(flatten)]
    config: SimConfig,
}

fn leptos_options(settings: &Settings) -> LeptosOptions {
    // cargo-leptos sets LEPTOS_WATCH while it rebuilds on change; only then is the
    // reload script wanted.
    let env = if std::env::var_os("LEPTOS_WATCH").is_some() {
        Env::DEV
    } else {
        Env::PROD
    };
    LeptosOptions::builder()
        .output_name("binder")
        .site_root(settings.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(settings.addr)
        .env(env)
        .build()
}

/// Resolves on Ctrl-C or SIGTERM.
async fn wait_for_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

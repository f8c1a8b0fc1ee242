//! Shared test support: fresh databases, the real app on a free port, settings from flags.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of this module"
)]

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use clap::Parser;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use app::domain::BrokerState;
use binder::cli::Cli;
use binder::config::Settings;
use binder::server::Running;

/// Server and database of the test Postgres (trust auth); override with BINDER_TEST_PG.
pub fn pg_base() -> String {
    std::env::var("BINDER_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// A database name no other test uses. The database itself is created by the code under test.
pub fn fresh_database_url() -> String {
    format!(
        "{}/binder_test_{}",
        pg_base(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Settings as the binary would parse them from these flags (plus the defaults).
pub fn settings(flags: &[&str]) -> Settings {
    let mut argv = vec!["binder"];
    argv.extend_from_slice(flags);
    Cli::try_parse_from(argv)
        .expect("test flags parse")
        .settings
}

/// Serves `router` on a free loopback port until the returned token is cancelled.
pub async fn serve(router: Router) -> (SocketAddr, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a free port");
    let addr = listener.local_addr().expect("local addr");
    let token = CancellationToken::new();
    let stop = token.clone();
    tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await
            .expect("test server");
    });
    (addr, token)
}

/// The real application (journal, cache, embedded simulator, broker link) on a free port.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// A client for it.
    pub http: reqwest::Client,
    /// What the app was started with.
    pub running_state: binder::state::AppState,
    database_url: Option<String>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    server: CancellationToken,
    running: Option<Running>,
}

impl TestApp {
    /// Starts the app with a fresh database and the given extra flags.
    pub async fn start(flags: &[&str]) -> Self {
        let database_url = fresh_database_url();
        let mut all = vec!["--database-url", database_url.as_str()];
        all.extend(with_default_broker(flags));
        let shutdown = CancellationToken::new();
        let tasks = TaskTracker::new();
        let running = Running::start(settings(&all), &shutdown, &tasks)
            .await
            .expect("app starts");
        Self::finish_start(running, Some(database_url), shutdown, tasks).await
    }

    /// Starts the app on an existing database (kept when the app stops), e.g. to restart it.
    pub async fn start_on(database_url: &str, flags: &[&str]) -> Self {
        let mut all = vec!["--database-url", database_url];
        all.extend(with_default_broker(flags));
        let shutdown = CancellationToken::new();
        let tasks = TaskTracker::new();
        let running = Running::start(settings(&all), &shutdown, &tasks)
            .await
            .expect("app starts");
        Self::finish_start(running, None, shutdown, tasks).await
    }

    /// Starts the app with a journal pool made by the test (e.g. one that cannot connect).
    pub async fn with_journal(db: sqlx::PgPool, flags: &[&str]) -> Self {
        let shutdown = CancellationToken::new();
        let tasks = TaskTracker::new();
        let all = with_default_broker(flags);
        let running = Running::with_journal(settings(&all), db, &shutdown, &tasks)
            .await
            .expect("app starts");
        Self::finish_start(running, None, shutdown, tasks).await
    }

    async fn finish_start(
        running: Running,
        database_url: Option<String>,
        shutdown: CancellationToken,
        tasks: TaskTracker,
    ) -> Self {
        let (addr, server) = serve(binder::api::app(running.state.clone())).await;
        Self {
            addr,
            http: reqwest::Client::new(),
            running_state: running.state.clone(),
            database_url,
            shutdown,
            tasks,
            server,
            running: Some(running),
        }
    }

    /// Absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// GET `path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.expect("request")
    }

    /// Waits (bounded) until the broker link reports `state`.
    pub async fn wait_for_broker(&self, state: BrokerState) {
        let mut watch = self.running_state.desk.watch_broker();
        tokio::time::timeout(Duration::from_secs(15), watch.wait_for(|s| *s == state))
            .await
            .unwrap_or_else(|_| panic!("broker link never reached {state:?}"))
            .expect("broker link alive");
    }

    /// Stops everything and drops the test database.
    pub async fn stop(mut self) {
        self.server.cancel();
        self.shutdown.cancel();
        if let Some(running) = self.running.take() {
            running.stop(&self.tasks).await;
        }
        if let Some(url) = &self.database_url {
            drop_database(url).await;
        }
    }
}

/// Tests run against the embedded simulator unless they choose a broker.
fn with_default_broker<'a>(flags: &[&'a str]) -> Vec<&'a str> {
    let mut all = flags.to_vec();
    if !flags.contains(&"--broker") {
        all.extend(["--broker", "simulator"]);
    }
    all
}

/// Drops a test database (forcefully: pools may still be closing).
pub async fn drop_database(url: &str) {
    let name = url.rsplit('/').next().expect("database name");
    let admin = format!("{}/postgres", pg_base());
    if let Ok(pool) = sqlx::PgPool::connect(&admin).await {
        let _ = sqlx::query(&format!("drop database if exists \"{name}\" with (force)"))
            .execute(&pool)
            .await;
        pool.close().await;
    }
}

//! The desk: the use-case layer that the REST handlers and the UI's server functions share.

use std::sync::Arc;
use std::time::Instant;

use sqlx::PgPool;

use app::domain::{HealthReport, HealthStatus};
use app::ports::BoxFuture;

use crate::broker::BrokerHandle;
use crate::cache::Cache;
use crate::config::Settings;
use crate::{journal, metrics};

/// The use cases; one instance per process, shared behind an `Arc`.
pub struct Desk {
    settings: Arc<Settings>,
    db: PgPool,
    cache: Cache,
    broker: BrokerHandle,
    started_at: Instant,
}

impl Desk {
    /// Assembles the desk from its dependencies.
    pub fn new(settings: Arc<Settings>, db: PgPool, cache: Cache, broker: BrokerHandle) -> Self {
        Self {
            settings,
            db,
            cache,
            broker,
            started_at: Instant::now(),
        }
    }

    /// Checks the journal, the cache and the broker link (concurrently) and reports.
    #[tracing::instrument(skip_all)]
    pub async fn health(&self) -> HealthReport {
        let (db_connected, redis_connected) =
            tokio::join!(journal::ping(&self.db), self.cache.ping());
        metrics::set_dependencies(db_connected, redis_connected);
        let broker_state = self.broker.state();
        HealthReport {
            status: HealthStatus::from_checks(db_connected, redis_connected, broker_state),
            ib_gateway_connected: broker_state.is_connected(),
            db_connected,
            redis_connected,
            broker_state,
            broker: self.settings.broker_mode_name().to_owned(),
            trading_mode: self.settings.trading_mode.as_str().to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            uptime_seconds: self.started_at.elapsed().as_secs(),
            checked_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        }
    }
}

impl app::ports::Desk for Desk {
    fn health(&self) -> BoxFuture<'_, HealthReport> {
        Box::pin(Desk::health(self))
    }
}

impl Desk {
    /// The broker link's handle.
    pub fn broker(&self) -> &BrokerHandle {
        &self.broker
    }

    /// Closes the journal and cache pools (at shutdown).
    pub async fn close(&self) {
        self.db.close().await;
        self.cache.close();
    }
}

//! The cache: Redis through deadpool-redis. Optional by design: when Redis is down, Binder
//! runs degraded and reads fall back to the journal or the broker.

use std::time::Duration;

use deadpool_redis::{Config, Pool, PoolConfig, Runtime, Timeouts};

use crate::config::redact_url;

/// How long a cache operation may wait before the cache counts as down.
const CACHE_TIMEOUT: Duration = Duration::from_millis(500);

/// A handle on the cache; cheap to clone.
#[derive(Clone)]
pub struct Cache {
    pool: Option<Pool>,
    shown_url: String,
}

impl Cache {
    /// Builds the pool (no connection yet). A URL that does not parse leaves the cache
    /// disabled, which is reported by [`Cache::ping`] like an unreachable server.
    pub fn new(url: &str) -> Self {
        let shown_url = redact_url(url);
        let mut config = Config::from_url(url);
        config.pool = Some(PoolConfig {
            max_size: 16,
            timeouts: Timeouts {
                wait: Some(CACHE_TIMEOUT),
                create: Some(CACHE_TIMEOUT),
                recycle: Some(CACHE_TIMEOUT),
            },
            ..PoolConfig::default()
        });
        let pool = match config.create_pool(Some(Runtime::Tokio1)) {
            Ok(pool) => Some(pool),
            Err(err) => {
                tracing::warn!(url = %shown_url, error = %err, "REDIS_URL is not usable; running without a cache");
                None
            }
        };
        Self { pool, shown_url }
    }

    /// The URL, password redacted.
    pub fn shown_url(&self) -> &str {
        &self.shown_url
    }

    /// Whether Redis answers PING in time.
    pub async fn ping(&self) -> bool {
        let Some(pool) = &self.pool else { return false };
        let ping = async {
            let mut conn = pool.get().await.ok()?;
            deadpool_redis::redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .ok()
        };
        matches!(tokio::time::timeout(CACHE_TIMEOUT, ping).await, Ok(Some(pong)) if pong == "PONG")
    }

    /// Closes the pool; later operations fail fast.
    pub fn close(&self) {
        if let Some(pool) = &self.pool {
            pool.close();
        }
    }
}

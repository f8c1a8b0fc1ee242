//! The cache: Redis through deadpool-redis. Optional by design: when Redis is down, Binder
//! runs degraded and reads fall back to the journal or the broker.

use std::time::Duration;

use deadpool_redis::{Config, Pool, PoolConfig, Runtime, Timeouts};

use crate::config::redact_url;

/// How long a cache operation may wait before the cache counts as down.
const CACHE_TIMEOUT: Duration = Duration::from_millis(500);

/// Every key Binder writes starts with this, so a shared Redis stays tidy.
const KEY_PREFIX: &str = "binder:";

/// Why the cache could not answer (callers fall back to the source of truth).
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// REDIS_URL is unusable.
    #[error("the cache is disabled (REDIS_URL is not usable)")]
    Disabled,
    /// Redis did not answer in time.
    #[error("the cache did not answer in time")]
    Timeout,
    /// Redis refused or failed.
    #[error("the cache is unavailable: {0}")]
    Unavailable(String),
}

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

    /// A cached JSON value; `Ok(None)` on a miss, `Err` when Redis cannot answer.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, CacheError> {
        let pool = self.pool.as_ref().ok_or(CacheError::Disabled)?;
        let key = format!("{KEY_PREFIX}{key}");
        let get = async {
            let mut conn = pool
                .get()
                .await
                .map_err(|e| CacheError::Unavailable(e.to_string()))?;
            deadpool_redis::redis::cmd("GET")
                .arg(&key)
                .query_async::<Option<String>>(&mut conn)
                .await
                .map_err(|e| CacheError::Unavailable(e.to_string()))
        };
        let raw = tokio::time::timeout(CACHE_TIMEOUT, get)
            .await
            .map_err(|_| CacheError::Timeout)??;
        // A value that no longer parses (an older format) is a miss, not an error.
        Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
    }

    /// Stores a JSON value for `ttl`.
    pub async fn set_json<T: serde::Serialize>(
        &self,
        key: &str,
        value: &T,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let pool = self.pool.as_ref().ok_or(CacheError::Disabled)?;
        let key = format!("{KEY_PREFIX}{key}");
        let body =
            serde_json::to_string(value).map_err(|e| CacheError::Unavailable(e.to_string()))?;
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let set = async {
            let mut conn = pool
                .get()
                .await
                .map_err(|e| CacheError::Unavailable(e.to_string()))?;
            deadpool_redis::redis::cmd("SET")
                .arg(&key)
                .arg(body)
                .arg("PX")
                .arg(millis)
                .query_async::<()>(&mut conn)
                .await
                .map_err(|e| CacheError::Unavailable(e.to_string()))
        };
        tokio::time::timeout(CACHE_TIMEOUT, set)
            .await
            .map_err(|_| CacheError::Timeout)?
    }

    /// Removes a value (e.g. positions after a fill).
    pub async fn delete(&self, key: &str) -> Result<(), CacheError> {
        let pool = self.pool.as_ref().ok_or(CacheError::Disabled)?;
        let key = format!("{KEY_PREFIX}{key}");
        let del = async {
            let mut conn = pool
                .get()
                .await
                .map_err(|e| CacheError::Unavailable(e.to_string()))?;
            deadpool_redis::redis::cmd("DEL")
                .arg(&key)
                .query_async::<i64>(&mut conn)
                .await
                .map(drop)
                .map_err(|e| CacheError::Unavailable(e.to_string()))
        };
        tokio::time::timeout(CACHE_TIMEOUT, del)
            .await
            .map_err(|_| CacheError::Timeout)?
    }

    /// Closes the pool; later operations fail fast.
    pub fn close(&self) {
        if let Some(pool) = &self.pool {
            pool.close();
        }
    }
}

//! IB's limits, enforced before anything reaches the gateway: the outbound message rate (with
//! a bounded queue), market data lines, and the historical data pacing rules.
//!
//! The message rate itself is kept by ibapi's `RateLimiter` (installed on the client, so
//! every message counts, including cancels ibapi sends on its own); [`Pacer`] bounds how many
//! callers may wait for it, so a burst turns into quick 429s instead of a growing backlog.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::metrics;

/// Why a request was not admitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacingError {
    /// The outbound queue is full.
    #[error("the outbound queue to the gateway is full ({capacity} requests waiting)")]
    QueueFull {
        /// Queue capacity.
        capacity: usize,
    },
    /// All market data lines are in use.
    #[error("all {limit} market data lines are in use")]
    MarketDataLines {
        /// Line limit.
        limit: usize,
    },
    /// A historical data rule would be broken.
    #[error("historical data pacing: {rule}")]
    Historical {
        /// The rule.
        rule: &'static str,
        /// When a retry can succeed.
        retry_after: Duration,
    },
}

impl PacingError {
    /// Seconds a client should wait before retrying.
    pub fn retry_after_secs(&self) -> u64 {
        match self {
            Self::QueueFull { .. } => 1,
            Self::MarketDataLines { .. } => 5,
            Self::Historical { retry_after, .. } => retry_after.as_secs().max(1),
        }
    }
}

/// Admission to the outbound message queue.
#[derive(Debug, Clone)]
pub struct Pacer {
    queued: Arc<AtomicUsize>,
    capacity: usize,
}

/// Held while a request waits for and uses its slot; releases it on drop.
#[derive(Debug)]
pub struct PacerPermit {
    queued: Arc<AtomicUsize>,
    admitted: Instant,
}

impl Pacer {
    /// A queue that holds at most `capacity` waiting requests.
    pub fn new(capacity: usize) -> Self {
        Self {
            queued: Arc::new(AtomicUsize::new(0)),
            capacity,
        }
    }

    /// Takes a place in the queue, or fails at once when it is full.
    pub fn admit(&self) -> Result<PacerPermit, PacingError> {
        let mut current = self.queued.load(Ordering::Relaxed);
        loop {
            if current >= self.capacity {
                return Err(PacingError::QueueFull {
                    capacity: self.capacity,
                });
            }
            match self.queued.compare_exchange_weak(
                current,
                current + 1,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(seen) => current = seen,
            }
        }
        metrics::set_pacing_queue_depth(current + 1);
        Ok(PacerPermit {
            queued: Arc::clone(&self.queued),
            admitted: Instant::now(),
        })
    }

    /// Requests currently waiting or sending.
    pub fn depth(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }
}

impl PacerPermit {
    /// Call once the message has been handed to the client: records the wait.
    pub fn sent(self) {
        metrics::record_pacing_wait(self.admitted.elapsed());
    }
}

impl Drop for PacerPermit {
    fn drop(&mut self) {
        let left = self.queued.fetch_sub(1, Ordering::AcqRel).saturating_sub(1);
        metrics::set_pacing_queue_depth(left);
    }
}

/// Reference-counted market data lines: one line per instrument (keyed by symbol) however
/// many users watch it.
#[derive(Debug)]
pub struct MarketDataLines {
    limit: usize,
    lines: Mutex<HashMap<String, usize>>,
}

impl MarketDataLines {
    /// At most `limit` distinct instruments at once.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            lines: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a reference on the line for `con_id`, opening it if needed and allowed.
    /// Returns whether a new line was opened (the caller must then subscribe).
    pub fn acquire(&self, key: &str) -> Result<bool, PacingError> {
        let mut lines = self
            .lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = lines.get_mut(key) {
            *count += 1;
            return Ok(false);
        }
        if lines.len() >= self.limit {
            return Err(PacingError::MarketDataLines { limit: self.limit });
        }
        lines.insert(key.to_owned(), 1);
        metrics::set_market_data_lines(lines.len());
        Ok(true)
    }

    /// Drops a reference; returns whether the line closed (the caller must then cancel).
    pub fn release(&self, key: &str) -> bool {
        let mut lines = self
            .lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let closed = match lines.get_mut(key) {
            Some(count) if *count > 1 => {
                *count -= 1;
                false
            }
            Some(_) => {
                lines.remove(key);
                true
            }
            None => false,
        };
        metrics::set_market_data_lines(lines.len());
        closed
    }

    /// Lines open now.
    pub fn open(&self) -> usize {
        self.lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

/// One historical data request, as far as pacing is concerned.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HistoricalKey {
    /// The instrument (symbol or contract id).
    pub instrument: String,
    /// Everything else that makes two requests identical (bar size, duration, end, what).
    pub params: String,
}

/// IB's historical data rules: ≤ 60 requests per 10 minutes, no identical request within
/// 15 s, ≤ 5 requests for one contract within 2 s, ≤ 50 open at once. Pure: the caller
/// passes the time.
#[derive(Debug, Default)]
pub struct HistoricalPacer {
    sent: VecDeque<(Instant, HistoricalKey)>,
    open: usize,
}

const WINDOW_10_MIN: Duration = Duration::from_secs(600);
const IDENTICAL_WINDOW: Duration = Duration::from_secs(15);
const SAME_CONTRACT_WINDOW: Duration = Duration::from_secs(2);

impl HistoricalPacer {
    /// Records the request if every rule allows it at `now`.
    pub fn try_start(&mut self, key: HistoricalKey, now: Instant) -> Result<(), PacingError> {
        while self
            .sent
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) >= WINDOW_10_MIN)
        {
            self.sent.pop_front();
        }
        if self.open >= 50 {
            return Err(PacingError::Historical {
                rule: "at most 50 requests open at once",
                retry_after: Duration::from_secs(1),
            });
        }
        if self.sent.len() >= 60 {
            let oldest = self.sent.front().map_or(now, |(t, _)| *t);
            return Err(PacingError::Historical {
                rule: "at most 60 requests in 10 minutes",
                retry_after: WINDOW_10_MIN.saturating_sub(now.duration_since(oldest)),
            });
        }
        if let Some((t, _)) = self
            .sent
            .iter()
            .rev()
            .find(|(t, k)| *k == key && now.duration_since(*t) < IDENTICAL_WINDOW)
        {
            return Err(PacingError::Historical {
                rule: "no identical request within 15 seconds",
                retry_after: IDENTICAL_WINDOW.saturating_sub(now.duration_since(*t)),
            });
        }
        let recent: Vec<Instant> = self
            .sent
            .iter()
            .filter(|(t, k)| {
                k.instrument == key.instrument && now.duration_since(*t) < SAME_CONTRACT_WINDOW
            })
            .map(|(t, _)| *t)
            .collect();
        if recent.len() >= 5 {
            let oldest = recent.first().copied().unwrap_or(now);
            return Err(PacingError::Historical {
                rule: "at most 5 requests for one contract within 2 seconds",
                retry_after: SAME_CONTRACT_WINDOW.saturating_sub(now.duration_since(oldest)),
            });
        }
        self.sent.push_back((now, key));
        self.open += 1;
        Ok(())
    }

    /// Marks one request as answered.
    pub fn finish(&mut self) {
        self.open = self.open.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(instrument: i64, params: &str) -> HistoricalKey {
        HistoricalKey {
            instrument: instrument.to_string(),
            params: params.to_owned(),
        }
    }

    #[test]
    fn the_queue_refuses_beyond_its_capacity_and_frees_on_drop() {
        let pacer = Pacer::new(2);
        let a = pacer.admit().expect("first");
        let _b = pacer.admit().expect("second");
        assert_eq!(
            pacer.admit().expect_err("queue full"),
            PacingError::QueueFull { capacity: 2 }
        );
        drop(a);
        assert!(pacer.admit().is_ok());
    }

    #[test]
    fn market_data_lines_are_shared_and_limited() {
        let lines = MarketDataLines::new(2);
        assert_eq!(lines.acquire("A"), Ok(true));
        assert_eq!(
            lines.acquire("A"),
            Ok(false),
            "second watcher shares the line"
        );
        assert_eq!(lines.acquire("B"), Ok(true));
        assert_eq!(
            lines.acquire("C"),
            Err(PacingError::MarketDataLines { limit: 2 })
        );
        assert!(!lines.release("A"));
        assert!(lines.release("A"), "last watcher closes the line");
        assert_eq!(lines.acquire("C"), Ok(true));
        assert_eq!(lines.open(), 2);
    }

    #[test]
    fn identical_historical_requests_wait_15_seconds() {
        let mut p = HistoricalPacer::default();
        let t0 = Instant::now();
        p.try_start(key(1, "1 day/1 D"), t0).expect("first");
        p.finish();
        let err = p
            .try_start(key(1, "1 day/1 D"), t0 + Duration::from_secs(10))
            .expect_err("identical");
        assert_eq!(err.retry_after_secs(), 5);
        p.try_start(key(1, "1 day/1 D"), t0 + Duration::from_secs(15))
            .expect("after 15 s");
    }

    #[test]
    fn at_most_five_per_contract_in_two_seconds_and_sixty_in_ten_minutes() {
        let mut p = HistoricalPacer::default();
        let t0 = Instant::now();
        for i in 0..5 {
            p.try_start(key(7, &i.to_string()), t0)
                .expect("within five");
            p.finish();
        }
        assert!(
            p.try_start(key(7, "5"), t0 + Duration::from_millis(500))
                .is_err()
        );
        p.try_start(key(8, "other contract"), t0 + Duration::from_millis(500))
            .expect("other contract");
        p.finish();
        let mut t = t0 + Duration::from_secs(3);
        for i in 0..54 {
            p.try_start(key(100 + i, "x"), t).expect("under sixty");
            p.finish();
            t += Duration::from_millis(10);
        }
        let err = p
            .try_start(key(999, "x"), t)
            .expect_err("sixty in ten minutes");
        assert!(matches!(
            err,
            PacingError::Historical {
                rule: "at most 60 requests in 10 minutes",
                ..
            }
        ));
        p.try_start(key(999, "x"), t0 + Duration::from_secs(601))
            .expect("window moved");
    }

    #[test]
    fn at_most_fifty_open() {
        let mut p = HistoricalPacer::default();
        let t0 = Instant::now();
        for i in 0..50 {
            p.try_start(
                key(i, "x"),
                t0 + Duration::from_secs(u64::try_from(i).expect("small") * 3),
            )
            .expect("open");
        }
        assert!(
            p.try_start(key(77, "y"), t0 + Duration::from_secs(200))
                .is_err()
        );
        p.finish();
        assert!(
            p.try_start(key(77, "y"), t0 + Duration::from_secs(200))
                .is_ok()
        );
    }
}

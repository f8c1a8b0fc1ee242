//! Prometheus metrics: the names (constants, bounded labels), the recorder, process gauges.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use app::domain::BrokerState;

/// Requests served, by method, matched route and status.
pub const API_REQUESTS_TOTAL: &str = "api_requests_total";
/// Request latency histogram, by route.
pub const API_REQUEST_DURATION_SECONDS: &str = "api_request_duration_seconds";
/// 1 while the broker link is usable (ready or degraded), else 0.
pub const IB_CONNECTION_STATUS: &str = "ib_connection_status";
/// One-hot gauge of the broker link's state.
pub const BROKER_STATE: &str = "binder_broker_state";
/// Orders sent to the broker, by side and type.
pub const IB_ORDERS_TOTAL: &str = "ib_orders_total";
/// Errors the broker reported for requests, by Binder code (bounded by the code table).
pub const IB_ORDER_ERRORS_TOTAL: &str = "ib_order_errors_total";
/// Errors and warnings the gateway sent outside any request, by Binder code.
pub const IB_GATEWAY_ERRORS_TOTAL: &str = "ib_gateway_errors_total";
/// Market data lines open.
pub const IB_MARKET_DATA_SUBSCRIPTIONS: &str = "ib_market_data_subscriptions";
/// Reconnections of the broker link.
pub const IB_RECONNECTS_TOTAL: &str = "ib_reconnects_total";
/// Messages handed to the gateway connection.
pub const IB_MESSAGES_SENT_TOTAL: &str = "ib_messages_sent_total";
/// Requests waiting for the outbound pacer.
pub const IB_PACING_QUEUE_DEPTH: &str = "ib_pacing_queue_depth";
/// Time requests waited for the pacer.
pub const IB_PACING_WAIT_SECONDS: &str = "ib_pacing_wait_seconds";
/// Round trip of the heartbeat (current-time request).
pub const IB_HEARTBEAT_RTT_SECONDS: &str = "ib_heartbeat_rtt_seconds";
/// Seconds since the last market data tick.
pub const IB_LAST_TICK_AGE_SECONDS: &str = "ib_last_tick_age_seconds";
/// Orders accepted by Binder (journaled), by type and side.
pub const ORDERS_TOTAL: &str = "orders_total";
/// Time from POST /orders to the broker's acknowledgement.
pub const ORDER_LATENCY_SECONDS: &str = "order_latency_seconds";
/// Open positions.
pub const ACTIVE_POSITIONS_TOTAL: &str = "active_positions_total";
/// Unrealized PnL of the account (last reading).
pub const PNL_UNREALIZED_TOTAL: &str = "pnl_unrealized_total";
/// Daily PnL of the account (last reading).
pub const PNL_DAILY_TOTAL: &str = "pnl_daily_total";
/// Reads that fell back from the cache to the journal or the broker.
pub const CACHE_FALLBACKS_TOTAL: &str = "cache_fallbacks_total";
/// Executions recorded in the journal.
pub const FILLS_TOTAL: &str = "fills_total";
/// 1 while Postgres answers.
pub const DB_UP: &str = "binder_db_up";
/// 1 while Redis answers.
pub const REDIS_UP: &str = "binder_redis_up";
/// Always 1: the process is serving metrics.
pub const UP: &str = "binder_up";
/// Refused sign-ins and requests, by bounded reason (see [`AuthFailure`]).
pub const AUTH_FAILURES_TOTAL: &str = "auth_failures_total";
/// CPU time consumed by the process.
pub const PROCESS_CPU_SECONDS: &str = "process_cpu_seconds_total";
/// Resident set size.
pub const PROCESS_RESIDENT_MEMORY: &str = "process_resident_memory_bytes";
/// Virtual memory size.
pub const PROCESS_VIRTUAL_MEMORY: &str = "process_virtual_memory_bytes";
/// Open file descriptors.
pub const PROCESS_OPEN_FDS: &str = "process_open_fds";
/// File descriptor limit.
pub const PROCESS_MAX_FDS: &str = "process_max_fds";
/// Process start time, seconds since the epoch.
pub const PROCESS_START_TIME: &str = "process_start_time_seconds";

/// Latency buckets for HTTP requests, in seconds.
const LATENCY_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Metrics exported as histograms (with [`LATENCY_BUCKETS`]) rather than summaries.
const HISTOGRAMS: [&str; 4] = [
    API_REQUEST_DURATION_SECONDS,
    IB_PACING_WAIT_SECONDS,
    IB_HEARTBEAT_RTT_SECONDS,
    ORDER_LATENCY_SECONDS,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder once and returns the handle that renders `/metrics`.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let mut builder = PrometheusBuilder::new();
    for histogram in HISTOGRAMS {
        builder =
            builder.set_buckets_for_metric(Matcher::Full(histogram.into()), &LATENCY_BUCKETS)?;
    }
    let handle = builder.install_recorder()?;
    let handle = HANDLE.get_or_init(|| handle).clone();
    metrics::gauge!(UP).set(1.0);
    metrics::gauge!(PROCESS_START_TIME).set(process::start_time_seconds());
    Ok(handle)
}

/// Records one served request.
pub fn record_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    let labels = [
        ("method", method.to_owned()),
        ("route", route.to_owned()),
        ("status", status.to_string()),
    ];
    metrics::counter!(API_REQUESTS_TOTAL, &labels).increment(1);
    metrics::histogram!(API_REQUEST_DURATION_SECONDS, "route" => route.to_owned())
        .record(elapsed.as_secs_f64());
}

/// Why an authentication or authorisation attempt failed: the `reason` label's only values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// Wrong password for an existing account.
    BadPassword,
    /// No such account.
    UnknownUser,
    /// The account is disabled.
    Disabled,
    /// The account is locked.
    Locked,
    /// The attempt came before the account's delay ran out.
    Throttled,
    /// A token (JWT, API token, refresh token) that does not verify.
    InvalidToken,
    /// An expired access or refresh token.
    ExpiredToken,
    /// A rotated refresh token presented again.
    RefreshReused,
    /// Authenticated, but the role does not allow the route.
    Forbidden,
    /// A cross-origin or non-JSON state-changing browser request.
    Csrf,
}

impl AuthFailure {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadPassword => "bad_password",
            Self::UnknownUser => "unknown_user",
            Self::Disabled => "disabled",
            Self::Locked => "locked",
            Self::Throttled => "throttled",
            Self::InvalidToken => "invalid_token",
            Self::ExpiredToken => "expired_token",
            Self::RefreshReused => "refresh_reused",
            Self::Forbidden => "forbidden",
            Self::Csrf => "csrf",
        }
    }
}

/// Counts one authentication failure.
pub fn record_auth_failure(reason: AuthFailure) {
    metrics::counter!(AUTH_FAILURES_TOTAL, "reason" => reason.as_str()).increment(1);
}

/// Publishes the broker link's state.
pub fn set_broker_state(state: BrokerState) {
    let usable = matches!(state, BrokerState::Ready | BrokerState::Degraded);
    metrics::gauge!(IB_CONNECTION_STATUS).set(if usable { 1.0 } else { 0.0 });
    for s in BrokerState::ALL {
        let value = if s == state { 1.0 } else { 0.0 };
        metrics::gauge!(BROKER_STATE, "state" => s.as_str()).set(value);
    }
}

/// Publishes the pacer's queue depth.
pub fn set_pacing_queue_depth(depth: usize) {
    metrics::gauge!(IB_PACING_QUEUE_DEPTH).set(depth as f64);
}

/// Records how long a request waited before its message was sent.
pub fn record_pacing_wait(waited: Duration) {
    metrics::histogram!(IB_PACING_WAIT_SECONDS).record(waited.as_secs_f64());
    metrics::counter!(IB_MESSAGES_SENT_TOTAL).increment(1);
}

/// Publishes the number of open market data lines.
pub fn set_market_data_lines(open: usize) {
    metrics::gauge!(IB_MARKET_DATA_SUBSCRIPTIONS).set(open as f64);
}

/// Counts a reconnection of the broker link.
pub fn count_reconnect() {
    metrics::counter!(IB_RECONNECTS_TOTAL).increment(1);
}

/// Records a heartbeat round trip.
pub fn record_heartbeat(rtt: Duration) {
    metrics::histogram!(IB_HEARTBEAT_RTT_SECONDS).record(rtt.as_secs_f64());
}

/// Counts an order sent to the broker.
pub fn count_broker_order(side: &'static str, order_type: &'static str) {
    metrics::counter!(IB_ORDERS_TOTAL, "side" => side, "type" => order_type).increment(1);
}

/// Counts an error the broker reported, by Binder code.
pub fn count_broker_error(code: &'static str) {
    metrics::counter!(IB_ORDER_ERRORS_TOTAL, "code" => code).increment(1);
}

/// Counts an error the gateway sent outside a request, by Binder code.
pub fn count_gateway_error(code: &'static str) {
    metrics::counter!(IB_GATEWAY_ERRORS_TOTAL, "code" => code).increment(1);
}

/// Publishes the age of the last market data tick (absent until one arrived).
pub fn set_last_tick_age(age: Option<Duration>) {
    if let Some(age) = age {
        metrics::gauge!(IB_LAST_TICK_AGE_SECONDS).set(age.as_secs_f64());
    }
}

/// Counts a recorded execution.
pub fn count_fill(side: &'static str) {
    metrics::counter!(FILLS_TOTAL, "side" => side).increment(1);
}

/// Publishes the account's unrealized and daily PnL.
pub fn set_pnl(unrealized: Option<rust_decimal::Decimal>, daily: Option<rust_decimal::Decimal>) {
    use rust_decimal::prelude::ToPrimitive;
    if let Some(u) = unrealized.and_then(|d| d.to_f64()) {
        metrics::gauge!(PNL_UNREALIZED_TOTAL).set(u);
    }
    if let Some(d) = daily.and_then(|d| d.to_f64()) {
        metrics::gauge!(PNL_DAILY_TOTAL).set(d);
    }
}

/// Publishes the number of open positions.
pub fn set_active_positions(count: usize) {
    metrics::gauge!(ACTIVE_POSITIONS_TOTAL).set(count as f64);
}

/// Counts an order accepted by Binder, by type and side.
pub fn count_order(order_type: &'static str, side: &'static str) {
    metrics::counter!(ORDERS_TOTAL, "type" => order_type, "side" => side).increment(1);
}

/// Records the time from POST /orders to the broker's acknowledgement.
pub fn record_order_latency(elapsed: Duration) {
    metrics::histogram!(ORDER_LATENCY_SECONDS).record(elapsed.as_secs_f64());
}

/// Counts a read that could not use the cache and went to the source of truth.
pub fn count_cache_fallback(what: &'static str) {
    metrics::counter!(CACHE_FALLBACKS_TOTAL, "what" => what).increment(1);
}

/// Publishes dependency checks.
pub fn set_dependencies(db: bool, redis: bool) {
    metrics::gauge!(DB_UP).set(if db { 1.0 } else { 0.0 });
    metrics::gauge!(REDIS_UP).set(if redis { 1.0 } else { 0.0 });
}

/// Samples the process gauges; called when `/metrics` is scraped.
pub fn sample_process() {
    let sample = process::sample();
    if let Some(cpu) = sample.cpu_seconds {
        metrics::gauge!(PROCESS_CPU_SECONDS).set(cpu);
    }
    if let Some(rss) = sample.resident_bytes {
        metrics::gauge!(PROCESS_RESIDENT_MEMORY).set(rss);
    }
    if let Some(vsz) = sample.virtual_bytes {
        metrics::gauge!(PROCESS_VIRTUAL_MEMORY).set(vsz);
    }
    if let Some(fds) = sample.open_fds {
        metrics::gauge!(PROCESS_OPEN_FDS).set(fds);
    }
    if let Some(max) = sample.max_fds {
        metrics::gauge!(PROCESS_MAX_FDS).set(max);
    }
}

/// Reads the process's own figures from `/proc` (Linux); absent elsewhere.
pub mod process {
    use std::fs;

    /// Clock ticks per second of `/proc/self/stat` times; fixed at 100 by the Linux ABI.
    const USER_HZ: f64 = 100.0;
    const PAGE_SIZE: f64 = 4096.0;

    /// One reading of the process gauges.
    #[derive(Debug, Default)]
    pub struct Sample {
        /// User + system CPU seconds.
        pub cpu_seconds: Option<f64>,
        /// Resident set size in bytes.
        pub resident_bytes: Option<f64>,
        /// Virtual memory in bytes.
        pub virtual_bytes: Option<f64>,
        /// Open file descriptors.
        pub open_fds: Option<f64>,
        /// Soft limit on file descriptors.
        pub max_fds: Option<f64>,
    }

    /// Reads `/proc/self`.
    pub fn sample() -> Sample {
        let stat = fs::read_to_string("/proc/self/stat").ok();
        let fields = stat.as_deref().map(stat_fields).unwrap_or_default();
        let field = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
        // Field numbers follow proc(5), counted from the first field after the command name.
        let cpu_seconds = field(11).zip(field(12)).map(|(u, s)| (u + s) / USER_HZ);
        Sample {
            cpu_seconds,
            virtual_bytes: field(20),
            resident_bytes: field(21).map(|pages| pages * PAGE_SIZE),
            open_fds: fs::read_dir("/proc/self/fd").ok().map(|d| d.count() as f64),
            max_fds: max_open_files(),
        }
    }

    /// Seconds since the epoch at which the process started (approximated at first call).
    pub fn start_time_seconds() -> f64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default()
    }

    /// The fields of `/proc/self/stat` after `(comm)`, which may itself contain spaces.
    fn stat_fields(stat: &str) -> Vec<String> {
        stat.rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    fn max_open_files() -> Option<f64> {
        let limits = fs::read_to_string("/proc/self/limits").ok()?;
        let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
        line.split_whitespace().nth(3)?.parse().ok()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn reads_this_process() {
            let s = sample();
            assert!(s.resident_bytes.is_some_and(|b| b > 1_000_000.0), "{s:?}");
            assert!(s.open_fds.is_some_and(|n| n >= 3.0), "{s:?}");
            assert!(s.max_fds.is_some_and(|n| n >= 64.0), "{s:?}");
            assert!(s.cpu_seconds.is_some(), "{s:?}");
        }

        #[test]
        fn command_names_with_spaces_and_parens_are_skipped() {
            let f = stat_fields("42 (a b) c) S 1 2");
            assert_eq!(f, ["S", "1", "2"]);
        }
    }
}

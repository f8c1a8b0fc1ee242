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
/// 1 while Postgres answers.
pub const DB_UP: &str = "binder_db_up";
/// 1 while Redis answers.
pub const REDIS_UP: &str = "binder_redis_up";
/// Always 1: the process is serving metrics.
pub const UP: &str = "binder_up";
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

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder once and returns the handle that renders `/metrics`.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(API_REQUEST_DURATION_SECONDS.into()),
            &LATENCY_BUCKETS,
        )?
        .install_recorder()?;
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

/// Publishes the broker link's state.
pub fn set_broker_state(state: BrokerState) {
    let usable = matches!(state, BrokerState::Ready | BrokerState::Degraded);
    metrics::gauge!(IB_CONNECTION_STATUS).set(if usable { 1.0 } else { 0.0 });
    for s in BrokerState::ALL {
        let value = if s == state { 1.0 } else { 0.0 };
        metrics::gauge!(BROKER_STATE, "state" => s.as_str()).set(value);
    }
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

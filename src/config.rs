//! Settings: one typed struct, read once from flags, the environment and an optional `.env`.
//!
//! Every field is a flag and an environment variable (clap's `env`), documented here so that
//! `binder --help` is the reference. Secrets are `SecretString`, and URLs that may carry a
//! password are shown through [`redact_url`], so `Debug` never prints a secret.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

/// Where the broker link connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BrokerMode {
    /// Start the built-in gateway simulator on a loopback port and connect to it.
    Simulator,
    /// Connect to a real IB Gateway or TWS at IB_GATEWAY_HOST:IB_GATEWAY_PORT.
    Gateway,
}

/// Paper or live account. Paper is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TradingMode {
    /// A paper-trading account (IB Gateway port 4002 by default).
    Paper,
    /// A live account: real money.
    Live,
}

impl TradingMode {
    /// The lowercase name, as shown in `/health` and the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Paper => "paper",
            Self::Live => "live",
        }
    }
}

/// Deployment environment; production refuses weak settings and hides error details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    /// Local development: generated secrets are allowed, with a warning.
    Development,
    /// Production: weak or missing secrets stop start-up.
    Production,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line (for log shippers).
    Json,
    /// Human-readable lines (for a terminal).
    Pretty,
}

/// Binder's settings. Flags win over environment variables, which win over `.env`.
#[derive(Clone, Args)]
pub struct Settings {
    /// Address the HTTP server (UI, API, metrics) listens on.
    #[arg(
        long = "addr",
        env = "BINDER_ADDR",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub addr: SocketAddr,

    /// Postgres URL of the journal. The database is created if it does not exist.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/binder",
        global = true
    )]
    pub database_url: String,

    /// Redis URL of the cache. Binder runs degraded without it.
    #[arg(
        long,
        env = "REDIS_URL",
        default_value = "redis://127.0.0.1:6379",
        global = true
    )]
    pub redis_url: String,

    /// Broker to connect to: `simulator` (built in) or `gateway` (IB Gateway / TWS).
    /// Default: `gateway` when IB_GATEWAY_HOST is set, else `simulator`.
    #[arg(long, env = "BINDER_BROKER", value_enum, global = true)]
    pub broker: Option<BrokerMode>,

    /// Host of IB Gateway / TWS (gateway mode).
    #[arg(long, env = "IB_GATEWAY_HOST", global = true)]
    pub ib_gateway_host: Option<String>,

    /// API port of IB Gateway / TWS: 4002 paper and 4001 live for IB Gateway, 7497 / 7496 for TWS.
    #[arg(long, env = "IB_GATEWAY_PORT", default_value_t = 4002, global = true)]
    pub ib_gateway_port: u16,

    /// Client id Binder uses on the TWS API connection; unique per gateway.
    #[arg(long, env = "IB_CLIENT_ID", default_value_t = 1, global = true)]
    pub ib_client_id: i32,

    /// Trading mode of the account: `paper` (default) or `live`.
    #[arg(
        long,
        env = "TRADING_MODE",
        value_enum,
        default_value = "paper",
        global = true
    )]
    pub trading_mode: TradingMode,

    /// The second switch for live trading: with TRADING_MODE=live, Binder refuses to start
    /// unless this is also set to `I_UNDERSTAND_THIS_TRADES_REAL_MONEY`.
    #[arg(
        long,
        env = "BINDER_LIVE_TRADING",
        hide_env_values = true,
        global = true
    )]
    pub live_trading_confirmation: Option<String>,

    /// Outbound messages per second to the gateway (IB allows 50; a margin avoids error 100).
    #[arg(long, env = "IB_MESSAGES_PER_SECOND", default_value_t = 45, value_parser = clap::value_parser!(u32).range(1..=50), global = true)]
    pub ib_messages_per_second: u32,

    /// Requests that may wait for the outbound pacer before new ones get 429 PACING_LIMIT.
    #[arg(long, env = "IB_PACING_QUEUE", default_value_t = 100, global = true)]
    pub ib_pacing_queue: usize,

    /// Market data lines Binder may hold open at once (IB's default allowance is 100).
    #[arg(
        long,
        env = "IB_MARKET_DATA_LINES",
        default_value_t = 100,
        global = true
    )]
    pub ib_market_data_lines: usize,

    /// Daily window around the gateway's automatic restart in which new orders are refused,
    /// `HH:MM[:SS]-HH:MM[:SS]` in IB_GATEWAY_TIMEZONE.
    #[arg(
        long,
        env = "IB_MAINTENANCE_WINDOW",
        default_value = "23:44:30-23:50",
        global = true
    )]
    pub ib_maintenance_window: String,

    /// The gateway's time zone (IANA name), for the maintenance window.
    #[arg(
        long,
        env = "IB_GATEWAY_TIMEZONE",
        default_value = "America/New_York",
        global = true
    )]
    pub ib_gateway_timezone: String,

    /// How long POST /orders waits for the broker's acknowledgement before answering 202.
    #[arg(
        long,
        env = "BINDER_ORDER_ACK_TIMEOUT_MS",
        default_value_t = 5000,
        global = true
    )]
    pub order_ack_timeout_ms: u64,

    /// Secret that signs session tokens (HS256), at least 32 bytes. Required in production;
    /// generated at start-up in development.
    #[arg(long, env = "BINDER_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<SecretString>,

    /// Password for the first admin: on a start with no users, creates `admin` with it.
    /// Unset or empty: no account is created and the log says how to create one.
    #[arg(
        long,
        env = "BINDER_ADMIN_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub admin_password: Option<SecretString>,

    /// The address people use to reach Binder, e.g. `https://binder.example.com`. An `https`
    /// URL turns on Secure `__Host-` cookies and HSTS, and fixes the origin that
    /// state-changing browser requests must come from.
    #[arg(long, env = "BINDER_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Consecutive failed logins that lock an account until an admin unlocks it (1-100).
    /// From the 5th failure on, each further attempt must also wait a doubling delay.
    #[arg(
        long,
        env = "BINDER_LOGIN_LOCK_AFTER",
        default_value_t = 10,
        value_parser = clap::value_parser!(u32).range(1..=100),
        global = true
    )]
    pub login_lock_after: u32,

    /// Lifetime of access tokens (JWT), in seconds (30-900).
    #[arg(
        long,
        env = "BINDER_ACCESS_TOKEN_TTL_SECS",
        default_value_t = 900,
        value_parser = clap::value_parser!(u64).range(30..=900),
        global = true
    )]
    pub access_token_ttl_secs: u64,

    /// Lifetime of refresh tokens (and of a UI session without activity), in seconds.
    #[arg(
        long,
        env = "BINDER_REFRESH_TOKEN_TTL_SECS",
        default_value_t = 12 * 3600,
        value_parser = clap::value_parser!(u64).range(60..=30 * 24 * 3600),
        global = true
    )]
    pub refresh_token_ttl_secs: u64,

    /// Whether `/metrics` needs a token or session (any role). Open by default for Prometheus.
    #[arg(
        long,
        env = "BINDER_METRICS_REQUIRE_AUTH",
        default_value_t = false,
        action = clap::ArgAction::Set,
        global = true
    )]
    pub metrics_require_auth: bool,

    /// `development` or `production` (production hides error details and refuses weak settings).
    #[arg(
        long,
        env = "ENVIRONMENT",
        value_enum,
        default_value = "development",
        global = true
    )]
    pub environment: Environment,

    /// Log filter in tracing's syntax, e.g. `info` or `binder=debug,info`.
    #[arg(
        long = "log",
        env = "BINDER_LOG",
        default_value = "info",
        global = true
    )]
    pub log_filter: String,

    /// Log format: `json` (default) or `pretty`.
    #[arg(
        long,
        env = "BINDER_LOG_FORMAT",
        value_enum,
        default_value = "json",
        global = true
    )]
    pub log_format: LogFormat,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "BINDER_MAX_BODY_BYTES", default_value_t = 64 * 1024, global = true)]
    pub max_body_bytes: usize,

    /// Time limit for one HTTP request, in seconds (streams are exempt).
    #[arg(
        long,
        env = "BINDER_REQUEST_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub request_timeout_secs: u64,

    /// On SIGTERM / Ctrl-C, how long in-flight requests may take to finish, in seconds.
    #[arg(
        long,
        env = "BINDER_SHUTDOWN_GRACE_SECS",
        default_value_t = 20,
        global = true
    )]
    pub shutdown_grace_secs: u64,

    /// Directory of the built site (WASM bundle, CSS, assets). cargo-leptos sets it.
    #[arg(
        long,
        env = "LEPTOS_SITE_ROOT",
        default_value = "target/site",
        global = true
    )]
    pub site_root: String,
}

impl Settings {
    /// The broker mode in force: explicit, or `gateway` exactly when a gateway host is configured.
    pub fn broker_mode(&self) -> BrokerMode {
        self.broker.unwrap_or(if self.ib_gateway_host.is_some() {
            BrokerMode::Gateway
        } else {
            BrokerMode::Simulator
        })
    }

    /// The gateway address in gateway mode (`127.0.0.1` when no host is set).
    pub fn gateway_addr(&self) -> String {
        let host = self.ib_gateway_host.as_deref().unwrap_or("127.0.0.1");
        format!("{host}:{}", self.ib_gateway_port)
    }

    /// `simulator` or `gateway`, as shown to people.
    pub fn broker_mode_name(&self) -> &'static str {
        match self.broker_mode() {
            BrokerMode::Simulator => "simulator",
            BrokerMode::Gateway => "gateway",
        }
    }

    /// The gateway's daily restart window.
    pub fn maintenance_window(&self) -> Result<crate::broker::window::MaintenanceWindow, String> {
        crate::broker::window::MaintenanceWindow::parse(
            &self.ib_maintenance_window,
            &self.ib_gateway_timezone,
        )
    }

    /// How long POST /orders waits for the broker's acknowledgement.
    pub fn order_ack_timeout(&self) -> Duration {
        Duration::from_millis(self.order_ack_timeout_ms)
    }

    /// Request time limit.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    /// Grace period for in-flight requests at shutdown.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    /// Whether error responses may carry internal details.
    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    /// Whether Binder is reached over HTTPS (cookies get `Secure` and the `__Host-` prefix).
    pub fn behind_https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.to_ascii_lowercase().starts_with("https://"))
    }

    /// The first admin's password, if one was given (an empty value counts as unset).
    pub fn first_admin_password(&self) -> Option<&SecretString> {
        self.admin_password
            .as_ref()
            .filter(|p| !p.expose_secret().is_empty())
    }

    /// Checks settings that clap cannot: secrets' strength in production.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let secret_len = self.jwt_secret.as_ref().map(|s| s.expose_secret().len());
        if self.is_production() && secret_len.is_none_or(|len| len < 32) {
            return Err(SettingsError::WeakJwtSecret);
        }
        if self.trading_mode == TradingMode::Live
            && self.live_trading_confirmation.as_deref() != Some(LIVE_TRADING_CONFIRMATION)
        {
            return Err(SettingsError::LiveTradingNotConfirmed);
        }
        self.maintenance_window()
            .map_err(SettingsError::MaintenanceWindow)?;
        if let Some(url) = &self.public_url {
            let lower = url.to_ascii_lowercase();
            if !(lower.starts_with("https://") || lower.starts_with("http://")) {
                return Err(SettingsError::InvalidPublicUrl);
            }
        }
        Ok(())
    }
}

/// The value BINDER_LIVE_TRADING must have for TRADING_MODE=live.
pub const LIVE_TRADING_CONFIRMATION: &str = "I_UNDERSTAND_THIS_TRADES_REAL_MONEY";

/// A setting that parses but cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    /// Live trading needs its second switch.
    #[error(
        "TRADING_MODE=live trades real money: also set BINDER_LIVE_TRADING=I_UNDERSTAND_THIS_TRADES_REAL_MONEY \
         to confirm, or use TRADING_MODE=paper"
    )]
    LiveTradingNotConfirmed,
    /// The maintenance window does not parse.
    #[error("IB_MAINTENANCE_WINDOW / IB_GATEWAY_TIMEZONE: {0}")]
    MaintenanceWindow(String),
    /// Production needs a strong signing secret.
    #[error(
        "BINDER_JWT_SECRET must be set to at least 32 bytes when ENVIRONMENT=production \
         (generate one with: openssl rand -base64 48)"
    )]
    WeakJwtSecret,
    /// The public URL must be an absolute http(s) URL.
    #[error(
        "BINDER_PUBLIC_URL must start with https:// or http://, e.g. https://binder.example.com"
    )]
    InvalidPublicUrl,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("addr", &self.addr)
            .field("database_url", &redact_url(&self.database_url))
            .field("redis_url", &redact_url(&self.redis_url))
            .field("broker", &self.broker_mode())
            .field("ib_gateway_host", &self.ib_gateway_host)
            .field("ib_gateway_port", &self.ib_gateway_port)
            .field("ib_client_id", &self.ib_client_id)
            .field("trading_mode", &self.trading_mode)
            .field(
                "live_trading_confirmed",
                &self.live_trading_confirmation.is_some(),
            )
            .field("ib_messages_per_second", &self.ib_messages_per_second)
            .field("ib_pacing_queue", &self.ib_pacing_queue)
            .field("ib_market_data_lines", &self.ib_market_data_lines)
            .field("ib_maintenance_window", &self.ib_maintenance_window)
            .field("ib_gateway_timezone", &self.ib_gateway_timezone)
            .field("order_ack_timeout_ms", &self.order_ack_timeout_ms)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "[redacted]"),
            )
            .field(
                "admin_password",
                &self.admin_password.as_ref().map(|_| "[redacted]"),
            )
            .field("public_url", &self.public_url)
            .field("login_lock_after", &self.login_lock_after)
            .field("access_token_ttl_secs", &self.access_token_ttl_secs)
            .field("refresh_token_ttl_secs", &self.refresh_token_ttl_secs)
            .field("metrics_require_auth", &self.metrics_require_auth)
            .field("environment", &self.environment)
            .field("log_filter", &self.log_filter)
            .field("log_format", &self.log_format)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("shutdown_grace_secs", &self.shutdown_grace_secs)
            .field("site_root", &self.site_root)
            .finish()
    }
}

/// A URL with any password replaced by `***`, safe for logs and error messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;

    fn parse(args: &[&str]) -> Settings {
        let mut argv = vec!["binder"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).expect("valid arguments").settings
    }

    #[test]
    fn defaults_are_local_and_safe() {
        // Parsing runs with whatever the test process has in its environment; these flags
        // have no env var set in CI, and the assertions below are about clap's defaults.
        let s = parse(&[]);
        assert_eq!(s.addr, "127.0.0.1:3000".parse().expect("addr"));
        assert_eq!(s.ib_gateway_port, 4002);
        assert_eq!(s.trading_mode, TradingMode::Paper);
        assert_eq!(s.environment, Environment::Development);
        assert_eq!(s.broker_mode(), BrokerMode::Simulator);
        assert_eq!(s.database_url, "postgres://postgres@127.0.0.1:5432/binder");
        assert_eq!(s.redis_url, "redis://127.0.0.1:6379");
    }

    #[test]
    fn a_gateway_host_selects_gateway_mode_unless_overridden() {
        let s = parse(&["--ib-gateway-host", "gw"]);
        assert_eq!(s.broker_mode(), BrokerMode::Gateway);
        assert_eq!(s.gateway_addr(), "gw:4002");
        let s = parse(&["--ib-gateway-host", "gw", "--broker", "simulator"]);
        assert_eq!(s.broker_mode(), BrokerMode::Simulator);
    }

    #[test]
    fn flags_work_after_the_subcommand() {
        let s = parse(&["serve", "--addr", "0.0.0.0:8080", "--trading-mode", "live"]);
        assert_eq!(s.addr.port(), 8080);
        assert_eq!(s.trading_mode, TradingMode::Live);
    }

    #[test]
    fn invalid_values_are_refused() {
        assert!(Cli::try_parse_from(["binder", "--broker", "ftp"]).is_err());
        assert!(Cli::try_parse_from(["binder", "--addr", "nowhere"]).is_err());
    }

    #[test]
    fn production_needs_a_strong_secret() {
        let s = parse(&["--environment", "production", "--jwt-secret", "short"]);
        assert_eq!(s.validate(), Err(SettingsError::WeakJwtSecret));
        let s = parse(&["--environment", "production"]);
        assert_eq!(s.validate(), Err(SettingsError::WeakJwtSecret));
        let strong = "x".repeat(32);
        let s = parse(&["--environment", "production", "--jwt-secret", &strong]);
        assert_eq!(s.validate(), Ok(()));
        let s = parse(&["--jwt-secret", "short"]);
        assert_eq!(s.validate(), Ok(()), "development tolerates a short secret");
    }

    #[test]
    fn live_trading_needs_the_second_switch() {
        let s = parse(&["--trading-mode", "live"]);
        assert_eq!(s.validate(), Err(SettingsError::LiveTradingNotConfirmed));
        let s = parse(&[
            "--trading-mode",
            "live",
            "--live-trading-confirmation",
            "yes",
        ]);
        assert_eq!(s.validate(), Err(SettingsError::LiveTradingNotConfirmed));
        let s = parse(&[
            "--trading-mode",
            "live",
            "--live-trading-confirmation",
            LIVE_TRADING_CONFIRMATION,
        ]);
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn a_bad_maintenance_window_is_refused_and_pacing_is_capped_at_fifty() {
        let s = parse(&["--ib-maintenance-window", "soon"]);
        assert!(matches!(
            s.validate(),
            Err(SettingsError::MaintenanceWindow(_))
        ));
        assert!(Cli::try_parse_from(["binder", "--ib-messages-per-second", "51"]).is_err());
    }

    #[test]
    fn auth_settings_are_checked() {
        let s = parse(&["--public-url", "ftp://binder"]);
        assert_eq!(s.validate(), Err(SettingsError::InvalidPublicUrl));
        let s = parse(&["--public-url", "https://binder.example.com"]);
        assert!(s.behind_https());
        assert_eq!(s.validate(), Ok(()));
        assert!(!parse(&["--public-url", "http://127.0.0.1:3000"]).behind_https());
        assert!(
            parse(&["--admin-password", ""])
                .first_admin_password()
                .is_none()
        );
        assert!(
            parse(&["--admin-password", "pw-123456"])
                .first_admin_password()
                .is_some()
        );
        assert!(Cli::try_parse_from(["binder", "--login-lock-after", "101"]).is_err());
        assert!(Cli::try_parse_from(["binder", "--access-token-ttl-secs", "3600"]).is_err());
    }

    #[test]
    fn debug_never_prints_secrets() {
        let s = parse(&[
            "--jwt-secret",
            "super-secret-signing-key-0123456789",
            "--database-url",
            "postgres://binder:hunter2@db:5432/binder",
            "--redis-url",
            "redis://:redispw@cache:6379",
            "--admin-password",
            "first-admin-pw",
        ]);
        let shown = format!("{s:?}");
        for secret in [
            "super-secret-signing-key",
            "hunter2",
            "redispw",
            "first-admin-pw",
        ] {
            assert!(!shown.contains(secret), "{secret} leaked in {shown}");
        }
        assert!(shown.contains("postgres://binder:***@db:5432/binder"));
    }

    #[test]
    fn redaction_keeps_urls_without_passwords() {
        assert_eq!(
            redact_url("postgres://postgres@h/db"),
            "postgres://postgres@h/db"
        );
        assert_eq!(redact_url("redis://h:6379"), "redis://h:6379");
        assert_eq!(redact_url("not a url"), "not a url");
        assert_eq!(redact_url("redis://:pw@h:6379/0"), "redis://:***@h:6379/0");
    }
}

//! The command line: `binder [serve]`, `binder migrate`, `binder sim`, `binder user`.

use clap::{Parser, Subcommand};

use crate::auth::cli::UserCommand;
use crate::config::Settings;
use crate::simulator::SimConfig;

/// Binder: a self-hosted trading gateway for Interactive Brokers.
///
/// With no subcommand, Binder serves the web UI, the JSON API and metrics, connected to the
/// built-in gateway simulator unless a gateway is configured (IB_GATEWAY_HOST or
/// BINDER_BROKER=gateway). Every flag is also an environment variable, and a `.env` file in
/// the working directory is read first.
#[derive(Debug, Parser)]
#[command(name = "binder", version, about, long_about)]
pub struct Cli {
    /// What to run; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Settings shared by every subcommand.
    #[command(flatten)]
    pub settings: Settings,
}

/// Binder's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: web UI, REST API, server functions, metrics and the broker link.
    Serve,
    /// Create the database if needed, apply pending migrations, and exit.
    Migrate,
    /// Run the gateway simulator alone: a paper exchange speaking the TWS socket protocol.
    Sim(SimConfig),
    /// Move orders that finished before the cutoff (with their events and fills) to the
    /// archive tables, so everyday queries stay fast.
    Archive {
        /// Age of finished orders to move, e.g. `90d` or `12h`.
        #[arg(long, value_parser = parse_age, default_value = "90d")]
        older_than: chrono::Duration,
    },
    /// Manage users: add (password from stdin), list, unlock, passwd, set-role, disable, enable.
    User {
        /// What to do.
        #[command(subcommand)]
        command: UserCommand,
    },
}

/// Parses an age such as `90d`, `12h` or `30m`.
fn parse_age(raw: &str) -> Result<chrono::Duration, String> {
    let (digits, unit) = raw.trim().split_at(raw.trim().len().saturating_sub(1));
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("{raw:?} is not an age like 90d, 12h or 30m"))?;
    match unit {
        "d" => Ok(chrono::Duration::days(n)),
        "h" => Ok(chrono::Duration::hours(n)),
        "m" => Ok(chrono::Duration::minutes(n)),
        _ => Err(format!("{raw:?}: the unit must be d, h or m")),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_age;

    #[test]
    fn ages_parse() {
        assert_eq!(parse_age("90d"), Ok(chrono::Duration::days(90)));
        assert_eq!(parse_age("12h"), Ok(chrono::Duration::hours(12)));
        assert!(parse_age("90").is_err());
        assert!(parse_age("d").is_err());
        assert!(parse_age("5y").is_err());
    }
}

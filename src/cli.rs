//! The command line: `binder [serve]`, `binder migrate`, `binder sim`.

use clap::{Parser, Subcommand};

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
}

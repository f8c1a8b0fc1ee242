//! Binder: a self-hosted trading gateway for Interactive Brokers.
//!
//! The server binary (`src/main.rs`) is a thin shell over this library so that integration
//! tests can start the real router, the real broker link and the simulator in-process.

pub mod api;
pub mod auth;
pub mod broker;
pub mod cache;
pub mod cli;
pub mod config;
pub mod desk;
pub mod journal;
pub mod metrics;
pub mod server;
pub mod simulator;
pub mod state;
pub mod telemetry;

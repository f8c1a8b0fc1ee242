//! The broker port and its IB adapter. For now: the supervised connection and its state.

mod link;

pub use link::{BrokerHandle, LinkConfig, spawn_link};

//! Domain types shared by the server and the browser.

pub mod account;
pub mod failure;
pub mod order;
pub mod position;
pub mod quote;

use serde::{Deserialize, Serialize};

/// State of the connection to the broker, as published by the broker link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum BrokerState {
    /// No connection, and none being attempted right now (waiting to retry).
    Disconnected,
    /// A connection attempt is in progress.
    Connecting,
    /// Connected; catching up with orders, fills and positions before trading resumes.
    Reconciling,
    /// Connected and reconciled: orders may be sent.
    Ready,
    /// Connected, but the gateway reports a problem (lost connectivity to IB, a data farm down).
    Degraded,
}

impl BrokerState {
    /// Every state, in the order of a healthy start.
    pub const ALL: [Self; 5] = [
        Self::Disconnected,
        Self::Connecting,
        Self::Reconciling,
        Self::Ready,
        Self::Degraded,
    ];

    /// The lowercase name used in JSON, metrics labels and the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disconnected => "disconnected",
            Self::Connecting => "connecting",
            Self::Reconciling => "reconciling",
            Self::Ready => "ready",
            Self::Degraded => "degraded",
        }
    }

    /// Whether a TCP session with the gateway is established.
    pub fn is_connected(self) -> bool {
        matches!(self, Self::Reconciling | Self::Ready | Self::Degraded)
    }
}

/// Overall health: `ok` when everything answers, `degraded` when Binder works with reduced
/// function (no cache, broker not ready), `down` when the journal is unreachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum HealthStatus {
    /// All dependencies answer and the broker is ready.
    Ok,
    /// Running with reduced function.
    Degraded,
    /// The journal (Postgres) is unreachable: nothing can be traded safely.
    Down,
}

impl HealthStatus {
    /// Derives the overall status from the individual checks.
    pub fn from_checks(db: bool, redis: bool, broker: BrokerState) -> Self {
        if !db {
            Self::Down
        } else if redis && broker == BrokerState::Ready {
            Self::Ok
        } else {
            Self::Degraded
        }
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Degraded => "degraded",
            Self::Down => "down",
        }
    }
}

/// The body of `GET /health`, also shown live on the status page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthReport {
    /// Overall status.
    pub status: HealthStatus,
    /// Whether the TWS API session with the gateway (or simulator) is up.
    pub ib_gateway_connected: bool,
    /// Whether Postgres answered.
    pub db_connected: bool,
    /// Whether Redis answered.
    pub redis_connected: bool,
    /// The broker link's state.
    pub broker_state: BrokerState,
    /// `simulator` or `gateway`.
    pub broker: String,
    /// `paper` or `live`.
    pub trading_mode: String,
    /// Binder's version.
    pub version: String,
    /// Seconds since the process started.
    pub uptime_seconds: u64,
    /// When the checks ran (RFC 3339, UTC).
    pub checked_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_the_checks() {
        assert_eq!(
            HealthStatus::from_checks(true, true, BrokerState::Ready),
            HealthStatus::Ok
        );
        assert_eq!(
            HealthStatus::from_checks(true, false, BrokerState::Ready),
            HealthStatus::Degraded
        );
        assert_eq!(
            HealthStatus::from_checks(true, true, BrokerState::Reconciling),
            HealthStatus::Degraded
        );
        for broker in BrokerState::ALL {
            assert_eq!(
                HealthStatus::from_checks(false, true, broker),
                HealthStatus::Down
            );
        }
    }

    #[test]
    fn states_serialise_as_their_names() {
        for state in BrokerState::ALL {
            let json = serde_json::to_string(&state).expect("serialise");
            assert_eq!(json, format!("\"{}\"", state.as_str()));
        }
    }
}

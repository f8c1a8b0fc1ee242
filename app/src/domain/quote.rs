//! Quotes: the latest bid, ask and trade of an instrument.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A top-of-book quote. Fields the market has not reported yet are `null`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quote {
    /// Symbol.
    pub symbol: String,
    /// Best bid.
    pub bid: Option<Decimal>,
    /// Best ask.
    pub ask: Option<Decimal>,
    /// Last trade.
    pub last: Option<Decimal>,
    /// Shares bid.
    pub bid_size: Option<Decimal>,
    /// Shares offered.
    pub ask_size: Option<Decimal>,
    /// Shares in the last trade.
    pub last_size: Option<Decimal>,
    /// Day volume.
    pub volume: Option<Decimal>,
    /// Previous close.
    pub close: Option<Decimal>,
    /// When the last tick arrived (RFC 3339, UTC).
    pub updated_at: Option<String>,
}

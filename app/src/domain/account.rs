//! Accounts as the broker reports them: summary values and profit and loss.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The account summary values Binder reads (null when the broker did not send one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountSummary {
    /// Account id.
    pub account: String,
    /// Currency of the values.
    pub currency: String,
    /// Net liquidation value.
    pub net_liquidation: Option<Decimal>,
    /// Cash.
    pub total_cash_value: Option<Decimal>,
    /// Buying power.
    pub buying_power: Option<Decimal>,
    /// Funds available for trading.
    pub available_funds: Option<Decimal>,
    /// Absolute value of all positions.
    pub gross_position_value: Option<Decimal>,
    /// Maintenance margin requirement.
    pub maint_margin_req: Option<Decimal>,
    /// Excess liquidity.
    pub excess_liquidity: Option<Decimal>,
}

/// Profit and loss of an account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pnl {
    /// Account id.
    pub account: String,
    /// Today's PnL.
    pub daily: Option<Decimal>,
    /// Unrealized PnL of open positions.
    pub unrealized: Option<Decimal>,
    /// Realized PnL.
    pub realized: Option<Decimal>,
}

/// One price bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Bar {
    /// Start of the bar (RFC 3339) or trading day (YYYY-MM-DD) for daily and longer bars.
    pub time: String,
    /// Open.
    pub open: Decimal,
    /// High.
    pub high: Decimal,
    /// Low.
    pub low: Decimal,
    /// Close.
    pub close: Decimal,
    /// Volume.
    pub volume: Decimal,
}

/// A tradable contract found by a search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContractInfo {
    /// IB contract id.
    pub con_id: i64,
    /// Symbol.
    pub symbol: String,
    /// Security type (STK, …).
    pub sec_type: String,
    /// Routing exchange.
    pub exchange: String,
    /// Primary listing exchange.
    pub primary_exchange: String,
    /// Currency.
    pub currency: String,
    /// Company or fund name.
    pub long_name: String,
    /// Minimum price increment.
    pub min_tick: Option<Decimal>,
}

//! Positions and executions as the UI and the REST API report them.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One holding, as the broker reports it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PositionView {
    /// Account.
    pub account: String,
    /// Symbol.
    pub symbol: String,
    /// IB contract id.
    pub con_id: i64,
    /// Signed quantity (negative when short).
    pub qty: Decimal,
    /// Average cost per share (IB includes commissions).
    pub avg_cost: Decimal,
}

impl PositionView {
    /// Value at `mark` (negative when short).
    pub fn market_value(&self, mark: Decimal) -> Decimal {
        self.qty * mark
    }

    /// Gain or loss against the average cost if the position were closed at `mark`; the
    /// signed quantity makes a short gain when the price falls.
    pub fn unrealized_pnl(&self, mark: Decimal) -> Decimal {
        self.qty * (mark - self.avg_cost)
    }
}

/// One execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FillView {
    /// IB's execution id.
    pub exec_id: String,
    /// Binder's order id, when the order is known.
    pub order_id: Option<String>,
    /// Account.
    pub account: String,
    /// Symbol.
    pub symbol: String,
    /// `buy` or `sell`.
    pub side: String,
    /// Shares.
    pub qty: Decimal,
    /// Price.
    pub price: Decimal,
    /// Commission, once reported.
    pub commission: Option<Decimal>,
    /// Realized PnL of a closing execution.
    pub realized_pnl: Option<Decimal>,
    /// When it happened (RFC 3339, UTC).
    pub executed_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position(qty: i64, avg_cost: i64) -> PositionView {
        PositionView {
            account: "DU1".to_owned(),
            symbol: "AAPL".to_owned(),
            con_id: 265_598,
            qty: Decimal::from(qty),
            avg_cost: Decimal::from(avg_cost),
        }
    }

    #[test]
    fn longs_gain_when_the_price_rises_and_shorts_when_it_falls() {
        let long = position(10, 100);
        assert_eq!(long.market_value(Decimal::from(110)), Decimal::from(1100));
        assert_eq!(long.unrealized_pnl(Decimal::from(110)), Decimal::from(100));
        let short = position(-10, 100);
        assert_eq!(short.market_value(Decimal::from(90)), Decimal::from(-900));
        assert_eq!(short.unrealized_pnl(Decimal::from(90)), Decimal::from(100));
        assert_eq!(
            short.unrealized_pnl(Decimal::from(110)),
            Decimal::from(-100)
        );
    }
}

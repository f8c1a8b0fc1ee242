//! The paper account: cash, positions with average cost, realized and unrealized PnL.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::simulator::codec::Outgoing;

/// Margin rate used for the maintenance and initial requirements (Reg T-like 25%).
const MARGIN_RATE: Decimal = Decimal::from_parts(25, 0, 0, false, 2);
/// Buying power is this multiple of available funds (a 4:1 day-trading margin account).
const LEVERAGE: Decimal = Decimal::from_parts(4, 0, 0, false, 0);

fn direction(quantity: Decimal) -> Decimal {
    if quantity.is_sign_negative() {
        Decimal::NEGATIVE_ONE
    } else {
        Decimal::ONE
    }
}

/// One position.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionState {
    /// Signed quantity (negative = short).
    pub quantity: Decimal,
    /// Average cost per share, commissions included (as IB reports it).
    pub avg_cost: Decimal,
    /// Realized PnL of this position, commissions deducted.
    pub realized: Decimal,
}

impl PositionState {
    /// Unrealized PnL at `mark`.
    pub fn unrealized(&self, mark: Decimal) -> Decimal {
        (mark - self.avg_cost) * self.quantity
    }
}

/// The account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Cash balance.
    pub cash: Decimal,
    /// Positions by instrument index.
    pub positions: BTreeMap<usize, PositionState>,
    /// Realized PnL over all positions.
    pub realized: Decimal,
    /// Commissions paid.
    pub commissions: Decimal,
}

impl Account {
    /// An account holding `cash`.
    pub fn new(cash: Decimal) -> Self {
        Self {
            cash,
            ..Self::default()
        }
    }

    /// Books a fill of `signed` shares (positive buys) at `price`; returns the realized PnL
    /// when the fill closed (part of) a position.
    pub fn apply_fill(
        &mut self,
        index: usize,
        signed: Decimal,
        price: Decimal,
        commission: Decimal,
    ) -> Option<Decimal> {
        self.cash -= signed * price + commission;
        self.commissions += commission;
        let position = self.positions.entry(index).or_default();
        let old = position.quantity;
        let new = old + signed;
        let closing = !old.is_zero() && old.is_sign_positive() != signed.is_sign_positive();
        let realized = if closing {
            let closed = signed.abs().min(old.abs());
            // The commission is charged against the closing part, as IB does.
            let pnl = (price - position.avg_cost) * closed * direction(old) - commission;
            position.realized += pnl;
            self.realized += pnl;
            if new.is_zero() {
                position.avg_cost = Decimal::ZERO;
            } else if new.is_sign_positive() != old.is_sign_positive() {
                // Flipped: the remainder opens at the fill price.
                position.avg_cost = price;
            }
            Some(pnl.round_dp(4))
        } else {
            let cost = position.avg_cost * old.abs() + price * signed.abs() + commission;
            position.avg_cost = (cost / new.abs()).round_dp(8);
            None
        };
        position.quantity = new;
        if new.is_zero() && position.realized.is_zero() {
            self.positions.remove(&index);
        }
        realized
    }

    /// Market value of all positions at `marks`.
    fn values_at(&self, marks: &[Decimal]) -> (Decimal, Decimal, Decimal) {
        let mut net = Decimal::ZERO;
        let mut gross = Decimal::ZERO;
        let mut unrealized = Decimal::ZERO;
        for (&index, p) in &self.positions {
            let mark = marks.get(index).copied().unwrap_or_default();
            net += p.quantity * mark;
            gross += (p.quantity * mark).abs();
            unrealized += p.unrealized(mark);
        }
        (net, gross, unrealized)
    }

    /// Buying power at `marks`.
    pub fn buying_power(&self, marks: &[Decimal]) -> Decimal {
        let (net, gross, _) = self.values_at(marks);
        let available = self.cash + net - gross * MARGIN_RATE;
        (available * LEVERAGE).max(Decimal::ZERO)
    }

    /// Account values by IB tag, as strings with two decimals.
    pub fn values(&self, marks: &[Decimal]) -> Vec<(&'static str, String)> {
        let (net, gross, unrealized) = self.values_at(marks);
        let net_liquidation = self.cash + net;
        let margin = gross * MARGIN_RATE;
        let available = net_liquidation - margin;
        let money = |d: Decimal| format!("{:.2}", d.round_dp(2));
        vec![
            ("AccountType", "INDIVIDUAL".to_string()),
            ("NetLiquidation", money(net_liquidation)),
            ("TotalCashValue", money(self.cash)),
            ("CashBalance", money(self.cash)),
            ("SettledCash", money(self.cash)),
            ("EquityWithLoanValue", money(net_liquidation)),
            ("GrossPositionValue", money(gross)),
            ("InitMarginReq", money(margin)),
            ("MaintMarginReq", money(margin)),
            ("AvailableFunds", money(available)),
            ("ExcessLiquidity", money(available)),
            ("FullAvailableFunds", money(available)),
            ("FullExcessLiquidity", money(available)),
            (
                "BuyingPower",
                money((available * LEVERAGE).max(Decimal::ZERO)),
            ),
            ("UnrealizedPnL", money(unrealized)),
            ("RealizedPnL", money(self.realized)),
        ]
    }

    /// The account PnL message. Daily PnL counts everything since the simulator started,
    /// as the simulator's trading day begins at start-up.
    pub fn pnl_message(&self, req_id: i32, marks: &[Decimal]) -> Outgoing {
        let (_, _, unrealized) = self.values_at(marks);
        Outgoing::PnL {
            req_id,
            daily: (unrealized + self.realized).round_dp(2),
            unrealized: unrealized.round_dp(2),
            realized: self.realized.round_dp(2),
        }
    }

    /// The PnL message of one position.
    pub fn pnl_single_message(&self, req_id: i32, index: usize, marks: &[Decimal]) -> Outgoing {
        let position = self.positions.get(&index).cloned().unwrap_or_default();
        let mark = marks.get(index).copied().unwrap_or_default();
        let unrealized = position.unrealized(mark);
        Outgoing::PnLSingle {
            req_id,
            position: position.quantity,
            daily: (unrealized + position.realized).round_dp(2),
            unrealized: unrealized.round_dp(2),
            realized: position.realized.round_dp(2),
            value: (position.quantity * mark).round_dp(2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().expect("test decimal")
    }

    #[test]
    fn round_trip_realizes_pnl_net_of_commissions() {
        let mut account = Account::new(d("100000"));
        assert_eq!(account.apply_fill(0, d("100"), d("10"), d("1")), None);
        assert_eq!(account.positions[&0].avg_cost, d("10.01"));
        let realized = account
            .apply_fill(0, d("-100"), d("11"), d("1"))
            .expect("closing fill");
        assert_eq!(realized, d("98"));
        assert_eq!(account.cash, d("100098"));
        assert!(account.positions[&0].quantity.is_zero());
    }

    #[test]
    fn flipping_a_position_opens_the_rest_at_the_fill_price() {
        let mut account = Account::new(d("100000"));
        account.apply_fill(3, d("50"), d("20"), d("0"));
        account.apply_fill(3, d("-80"), d("22"), d("0"));
        let p = &account.positions[&3];
        assert_eq!(p.quantity, d("-30"));
        assert_eq!(p.avg_cost, d("22"));
        assert_eq!(p.realized, d("100"));
    }
}

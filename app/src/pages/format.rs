//! How the trading pages print numbers, times and order fields: pure functions, so the
//! server and the browser render the same text and hydration matches.

use rust_decimal::Decimal;

use crate::domain::order::{OrderStatus, OrderView};

/// A quantity or price as entered: no trailing zeros.
pub fn dec(value: Decimal) -> String {
    value.normalize().to_string()
}

/// An optional price; a dash when absent.
pub fn opt_dec(value: Option<Decimal>) -> String {
    value.map_or_else(|| "—".to_owned(), dec)
}

/// An amount of money: two decimals, thousands not grouped (tabular numerals align them).
pub fn money(value: Decimal) -> String {
    format!("{:.2}", value.round_dp(2))
}

/// The time of day of an RFC 3339 timestamp (UTC), `HH:MM:SS`; the input when it does not parse.
pub fn clock(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.format("%H:%M:%S").to_string())
        .unwrap_or_else(|_| rfc3339.to_owned())
}

/// The order's prices as a trader reads them: limit, stop, `stop / limit`, or the trail.
pub fn prices(order: &OrderView) -> String {
    match (
        order.limit_price,
        order.stop_price,
        order.trail_amount,
        order.trail_percent,
    ) {
        (Some(limit), None, _, _) => dec(limit),
        (None, Some(stop), _, _) => dec(stop),
        (Some(limit), Some(stop), _, _) => format!("{} / {}", dec(stop), dec(limit)),
        (None, None, Some(amount), _) => format!("trail {}", dec(amount)),
        (None, None, None, Some(percent)) => format!("trail {}%", dec(percent)),
        (None, None, None, None) => "—".to_owned(),
    }
}

/// Filled quantity at the average price, or a dash when nothing filled.
pub fn filled(order: &OrderView) -> String {
    match order.filled_avg_price {
        Some(avg) if !order.filled_qty.is_zero() => {
            format!("{} @ {}", dec(order.filled_qty), dec(avg))
        }
        _ => "—".to_owned(),
    }
}

/// The status in words: `partially filled`, not `partially_filled`.
pub fn status(status: OrderStatus) -> String {
    status.as_str().replace('_', " ")
}

/// The tone a status is shown in.
pub fn status_tone(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Filled => "good",
        OrderStatus::Rejected | OrderStatus::Denied => "bad",
        OrderStatus::Canceled | OrderStatus::Expired | OrderStatus::Replaced => "muted",
        _ => "open",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::order::{OrderType, Side, TimeInForce};

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).expect("decimal")
    }

    fn order() -> OrderView {
        OrderView {
            id: "1".to_owned(),
            client_order_id: "c".to_owned(),
            account: "DU1".to_owned(),
            symbol: "AAPL".to_owned(),
            con_id: None,
            side: Side::Buy,
            qty: d("10"),
            order_type: OrderType::Limit,
            limit_price: Some(d("150.50")),
            stop_price: None,
            trail_amount: None,
            trail_percent: None,
            time_in_force: TimeInForce::Day,
            outside_rth: false,
            status: OrderStatus::PartiallyFilled,
            filled_qty: d("4"),
            filled_avg_price: Some(d("150.25")),
            created_at: "2026-11-25T08:12:03.123Z".to_owned(),
            updated_at: "2026-11-25T08:12:04.000Z".to_owned(),
            submitted_at: None,
            filled_at: None,
            canceled_at: None,
            legs: Vec::new(),
            broker_order_id: 7,
            perm_id: None,
            external: false,
            reject_reason: None,
        }
    }

    #[test]
    fn order_fields_read_like_a_blotter() {
        let mut o = order();
        assert_eq!(prices(&o), "150.5");
        assert_eq!(filled(&o), "4 @ 150.25");
        assert_eq!(status(o.status), "partially filled");
        assert_eq!(clock(&o.created_at), "08:12:03");
        o.stop_price = Some(d("149"));
        assert_eq!(prices(&o), "149 / 150.5");
        o.limit_price = None;
        o.stop_price = None;
        o.trail_percent = Some(d("1.5"));
        assert_eq!(prices(&o), "trail 1.5%");
        o.filled_qty = Decimal::ZERO;
        assert_eq!(filled(&o), "—");
    }

    #[test]
    fn money_has_two_decimals() {
        assert_eq!(money(d("1234.5")), "1234.50");
        assert_eq!(money(d("-2.5")), "-2.50");
        assert_eq!(clock("not a time"), "not a time");
    }
}

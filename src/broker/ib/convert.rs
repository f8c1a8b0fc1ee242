//! The one place where IB's types and `f64` meet Binder's decimals and domain types.

use chrono::{DateTime, NaiveDateTime, Utc};
use ibapi::contracts::Contract;
use ibapi::orders::{Action, ExecutionSide, Order, OrderStatusKind};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use app::domain::order::{Instrument, OrderStatus, Pricing, Side, TimeInForce};

use crate::broker::{BrokerFill, BrokerOrder, BrokerOrderView, BrokerPosition, Commission};

/// Decimal places kept when IB's doubles come back; IB's prices have at most 8.
const SCALE: u32 = 8;

/// A decimal as the double IB's wire format needs.
pub fn to_f64(value: Decimal) -> f64 {
    value.to_f64().unwrap_or(f64::NAN)
}

/// A double from IB as a decimal, rounded to [`SCALE`] places; IB's "unset" (`f64::MAX`) and
/// non-finite values are `None`.
pub fn from_f64(value: f64) -> Option<Decimal> {
    if !value.is_finite() || value == f64::MAX {
        return None;
    }
    Decimal::try_from(value)
        .ok()
        .map(|d| d.round_dp(SCALE).normalize())
}

/// Like [`from_f64`] for quantities that IB always sets.
pub fn qty_from_f64(value: f64) -> Decimal {
    from_f64(value).unwrap_or_default()
}

/// The IB contract for an instrument: US stocks and ETFs routed SMART in USD.
pub fn contract(instrument: &Instrument) -> Contract {
    match instrument {
        Instrument::Symbol(symbol) => Contract::stock(symbol.as_str()).build(),
        Instrument::ConId(con_id) => Contract {
            contract_id: i32::try_from(*con_id).unwrap_or(i32::MAX),
            exchange: "SMART".into(),
            ..Contract::default()
        },
    }
}

/// The IB order for a Binder order.
pub fn order(o: &BrokerOrder) -> Order {
    let (order_type, limit_price, aux_price, trailing_percent) = match o.pricing {
        Pricing::Market => ("MKT", None, None, None),
        Pricing::Limit { limit } => ("LMT", Some(to_f64(limit.get())), None, None),
        Pricing::Stop { stop } => ("STP", None, Some(to_f64(stop.get())), None),
        Pricing::StopLimit { stop, limit } => (
            "STP LMT",
            Some(to_f64(limit.get())),
            Some(to_f64(stop.get())),
            None,
        ),
        Pricing::TrailAmount { amount } => ("TRAIL", None, Some(to_f64(amount.get())), None),
        Pricing::TrailPercent { percent } => ("TRAIL", None, None, Some(to_f64(percent))),
    };
    Order {
        order_id: o.broker_order_id,
        action: match o.side {
            Side::Buy => Action::Buy,
            Side::Sell => Action::Sell,
        },
        total_quantity: to_f64(o.qty.get()),
        order_type: order_type.to_owned(),
        limit_price,
        aux_price,
        trailing_percent,
        tif: match o.time_in_force {
            TimeInForce::Day => ibapi::orders::TimeInForce::Day,
            TimeInForce::Gtc => ibapi::orders::TimeInForce::GoodTillCanceled,
            TimeInForce::Ioc => ibapi::orders::TimeInForce::ImmediateOrCancel,
            TimeInForce::Fok => ibapi::orders::TimeInForce::FillOrKill,
        },
        outside_rth: o.outside_rth,
        order_ref: o.order_ref.clone(),
        account: o.account.clone().unwrap_or_default(),
        parent_id: o.parent_broker_id.unwrap_or_default(),
        oca_group: o.oca_group.clone().unwrap_or_default(),
        oca_type: if o.oca_group.is_some() {
            ibapi::orders::OcaType::CancelWithBlock
        } else {
            ibapi::orders::OcaType::None
        },
        transmit: o.transmit,
        ..Order::default()
    }
}

/// Binder's status for IB's, given how much has filled.
pub fn status(kind: &OrderStatusKind, filled: Decimal) -> OrderStatus {
    match kind {
        OrderStatusKind::ApiPending | OrderStatusKind::PendingSubmit => OrderStatus::PendingNew,
        OrderStatusKind::PreSubmitted | OrderStatusKind::Submitted if filled > Decimal::ZERO => {
            OrderStatus::PartiallyFilled
        }
        OrderStatusKind::PreSubmitted | OrderStatusKind::Submitted => OrderStatus::Accepted,
        OrderStatusKind::PendingCancel => OrderStatus::PendingCancel,
        OrderStatusKind::ApiCancelled | OrderStatusKind::Cancelled => OrderStatus::Canceled,
        OrderStatusKind::Filled => OrderStatus::Filled,
        OrderStatusKind::Inactive => OrderStatus::Rejected,
        // The enum is non-exhaustive: a kind IB adds later counts as still working until the
        // next status says otherwise.
        _ => OrderStatus::Accepted,
    }
}

/// Binder's side for an IB action (short-sale variants are sells).
pub fn side(action: &Action) -> Side {
    match action {
        Action::Buy => Side::Buy,
        Action::Sell | Action::SellShort | Action::SellLong => Side::Sell,
    }
}

/// An open or completed order as Binder sees it.
pub fn order_view(data: &ibapi::orders::OrderData) -> BrokerOrderView {
    let filled = Decimal::ZERO;
    BrokerOrderView {
        broker_order_id: data.order_id,
        client_id: data.order.client_id,
        perm_id: data.order.perm_id,
        order_ref: data.order.order_ref.clone(),
        account: data.order.account.clone(),
        symbol: data.contract.symbol.to_string(),
        con_id: i64::from(data.contract.contract_id),
        side: side(&data.order.action),
        qty: qty_from_f64(data.order.total_quantity),
        ib_order_type: data.order.order_type.clone(),
        limit_price: data.order.limit_price.and_then(from_f64),
        stop_price: data.order.aux_price.and_then(from_f64),
        status: status(&data.order_state.status, filled),
    }
}

/// An execution as Binder sees it.
pub fn fill(data: &ibapi::orders::ExecutionData) -> BrokerFill {
    let e = &data.execution;
    BrokerFill {
        exec_id: e.execution_id.clone(),
        broker_order_id: e.order_id,
        client_id: e.client_id,
        perm_id: e.perm_id,
        order_ref: e.order_reference.clone(),
        account: e.account_number.clone(),
        symbol: data.contract.symbol.to_string(),
        con_id: i64::from(data.contract.contract_id),
        side: match e.side {
            ExecutionSide::Bought => Side::Buy,
            ExecutionSide::Sold => Side::Sell,
        },
        qty: qty_from_f64(e.shares),
        price: from_f64(e.price).unwrap_or_default(),
        time: execution_time(&e.time).unwrap_or_else(Utc::now),
    }
}

/// A commission report.
pub fn commission(report: &ibapi::orders::CommissionReport) -> Commission {
    Commission {
        exec_id: report.execution_id.clone(),
        commission: from_f64(report.commission).unwrap_or_default(),
        realized_pnl: report.realized_pnl.and_then(from_f64),
    }
}

/// A position.
pub fn position(p: &ibapi::accounts::Position) -> BrokerPosition {
    BrokerPosition {
        account: p.account.clone(),
        symbol: p.contract.symbol.to_string(),
        con_id: i64::from(p.contract.contract_id),
        qty: qty_from_f64(p.position),
        avg_cost: from_f64(p.average_cost).unwrap_or_default(),
    }
}

/// IB's execution times look like `20261125 14:30:01` optionally followed by a zone name;
/// the API reports them in UTC when no zone is given.
pub fn execution_time(raw: &str) -> Option<DateTime<Utc>> {
    let mut parts = raw.split_whitespace();
    let date = parts.next()?;
    let time = parts.next()?;
    let naive = NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y%m%d %H:%M:%S").ok()?;
    match parts.next() {
        None | Some("UTC" | "GMT" | "Etc/UTC") => Some(naive.and_utc()),
        Some(zone) => {
            let tz: chrono_tz::Tz = zone.parse().ok()?;
            naive
                .and_local_timezone(tz)
                .single()
                .map(|t| t.with_timezone(&Utc))
        }
    }
}

/// The gateway's clock reading as a chrono time.
pub fn server_time(t: time::OffsetDateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(t.unix_timestamp(), t.nanosecond()).unwrap_or_else(Utc::now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_doubles_are_none_and_others_round() {
        assert_eq!(from_f64(f64::MAX), None);
        assert_eq!(from_f64(f64::NAN), None);
        assert_eq!(
            from_f64(187.33000000001).map(|d| d.to_string()),
            Some("187.33".to_owned())
        );
        assert_eq!(qty_from_f64(100.0).to_string(), "100");
    }

    #[test]
    fn execution_times_parse_with_and_without_zones() {
        let utc = execution_time("20261125 14:30:01").expect("plain");
        assert_eq!(utc.to_rfc3339(), "2026-11-25T14:30:01+00:00");
        let ny = execution_time("20261125 09:30:01 America/New_York").expect("zoned");
        assert_eq!(ny.to_rfc3339(), "2026-11-25T14:30:01+00:00");
        assert!(execution_time("garbage").is_none());
    }

    #[test]
    fn statuses_map_with_fills() {
        assert_eq!(
            status(&OrderStatusKind::Submitted, Decimal::ZERO),
            OrderStatus::Accepted
        );
        assert_eq!(
            status(&OrderStatusKind::Submitted, Decimal::ONE),
            OrderStatus::PartiallyFilled
        );
        assert_eq!(
            status(&OrderStatusKind::Cancelled, Decimal::ONE),
            OrderStatus::Canceled
        );
        assert_eq!(
            status(&OrderStatusKind::Inactive, Decimal::ZERO),
            OrderStatus::Rejected
        );
    }
}

//! Orders as the exchange keeps them: parsing a ticket, trigger and fill decisions, fills.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::simulator::codec::{ExecutionFilter, OrderTicket};
use crate::simulator::market::Quote;
use crate::simulator::universe::Instrument;

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Side {
    /// BUY.
    Buy,
    /// SELL.
    Sell,
}

impl Side {
    /// The order action string.
    pub fn action(self) -> &'static str {
        match self {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        }
    }

    /// The execution side string.
    pub fn exec_side(self) -> &'static str {
        match self {
            Side::Buy => "BOT",
            Side::Sell => "SLD",
        }
    }
}

/// Supported order types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderType {
    /// Market.
    Market,
    /// Limit.
    Limit,
    /// Stop (becomes a market order when triggered).
    Stop,
    /// Stop limit (becomes a limit order when triggered).
    StopLimit,
    /// Trailing stop, by amount (aux price) or percent.
    Trail,
}

impl OrderType {
    /// IB's name.
    pub fn code(self) -> &'static str {
        match self {
            OrderType::Market => "MKT",
            OrderType::Limit => "LMT",
            OrderType::Stop => "STP",
            OrderType::StopLimit => "STP LMT",
            OrderType::Trail => "TRAIL",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_uppercase().as_str() {
            "MKT" => Some(OrderType::Market),
            "LMT" => Some(OrderType::Limit),
            "STP" => Some(OrderType::Stop),
            "STP LMT" => Some(OrderType::StopLimit),
            "TRAIL" => Some(OrderType::Trail),
            _ => None,
        }
    }
}

/// Time in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tif {
    /// Day.
    Day,
    /// Good till cancelled.
    Gtc,
    /// Immediate or cancel.
    Ioc,
    /// Fill or kill.
    Fok,
}

impl Tif {
    /// IB's name.
    pub fn code(self) -> &'static str {
        match self {
            Tif::Day => "DAY",
            Tif::Gtc => "GTC",
            Tif::Ioc => "IOC",
            Tif::Fok => "FOK",
        }
    }

    /// Whether the order must not rest.
    pub fn immediate(self) -> bool {
        matches!(self, Tif::Ioc | Tif::Fok)
    }

    fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_uppercase().as_str() {
            "" | "DAY" => Some(Tif::Day),
            "GTC" => Some(Tif::Gtc),
            "IOC" => Some(Tif::Ioc),
            "FOK" => Some(Tif::Fok),
            _ => None,
        }
    }
}

/// Order states as IB names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Accepted, waiting (bracket child before its parent fills).
    PreSubmitted,
    /// Working.
    Submitted,
    /// Cancelled.
    Cancelled,
    /// Completely filled.
    Filled,
}

impl Status {
    /// IB's name.
    pub fn code(self) -> &'static str {
        match self {
            Status::PreSubmitted => "PreSubmitted",
            Status::Submitted => "Submitted",
            Status::Cancelled => "Cancelled",
            Status::Filled => "Filled",
        }
    }
}

/// Why an order was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reject {
    /// 201 with a reason.
    #[error("Order rejected - reason:{0}")]
    Invalid(String),
    /// 110.
    #[error("The price does not conform to the minimum price variation for this contract.")]
    OffTick,
}

impl Reject {
    /// IB's error code.
    pub fn code(&self) -> i32 {
        match self {
            Reject::Invalid(_) => 201,
            Reject::OffTick => 110,
        }
    }
}

/// An order at the exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimOrder {
    /// The client's order id.
    pub order_id: i32,
    /// The placing client.
    pub client_id: i32,
    /// The exchange-wide permanent id.
    pub perm_id: i64,
    /// Bracket parent, 0 for none.
    pub parent_id: i32,
    /// Instrument index in the universe.
    pub index: usize,
    /// The instrument.
    #[serde(skip, default = "placeholder_instrument")]
    pub instrument: Instrument,
    /// Buy or sell.
    pub side: Side,
    /// Total quantity.
    pub quantity: Decimal,
    /// Order type.
    pub order_type: OrderType,
    /// Limit price.
    pub lmt_price: Option<Decimal>,
    /// Stop price, or trailing amount for TRAIL.
    pub aux_price: Option<Decimal>,
    /// Trailing percent for TRAIL.
    pub trailing_percent: Option<Decimal>,
    /// Current trailing stop price.
    pub trail_stop: Option<Decimal>,
    /// Whether a stop has triggered.
    pub triggered: bool,
    /// Time in force.
    pub tif: Tif,
    /// Account.
    pub account: String,
    /// OCA group.
    pub oca_group: String,
    /// The client's reference.
    pub order_ref: String,
    /// false while held for a bracket.
    pub transmit: bool,
    /// Outside regular trading hours.
    pub outside_rth: bool,
    /// Status.
    pub status: Status,
    /// Filled so far.
    pub filled: Decimal,
    /// Average fill price.
    pub avg_fill_price: Decimal,
    /// Last fill price.
    pub last_fill_price: Decimal,
    /// Commissions so far.
    pub commission: Decimal,
    /// When it completed, IB format.
    pub completed_time: String,
}

fn placeholder_instrument() -> Instrument {
    crate::simulator::universe::Universe::default().all()[0].clone()
}

impl SimOrder {
    /// Parses a ticket into an order, or says why not.
    pub fn from_ticket(
        client_id: i32,
        order_id: i32,
        index: usize,
        instrument: Instrument,
        ticket: &OrderTicket,
        account: &str,
    ) -> Result<Self, Reject> {
        let side = match ticket.action.trim().to_ascii_uppercase().as_str() {
            "BUY" => Side::Buy,
            "SELL" | "SSHORT" => Side::Sell,
            other => {
                return Err(Reject::Invalid(format!(
                    "action must be BUY or SELL, not '{other}'"
                )));
            }
        };
        if !ticket.account.is_empty() && ticket.account != account {
            return Err(Reject::Invalid(format!(
                "account {} is not managed by this login (use {account})",
                ticket.account
            )));
        }
        let mut order = Self {
            order_id,
            client_id,
            perm_id: 0,
            parent_id: ticket.parent_id,
            index,
            instrument,
            side,
            quantity: Decimal::ZERO,
            order_type: OrderType::Market,
            lmt_price: None,
            aux_price: None,
            trailing_percent: None,
            trail_stop: None,
            triggered: false,
            tif: Tif::Day,
            account: account.to_string(),
            oca_group: ticket.oca_group.clone(),
            order_ref: ticket.order_ref.clone(),
            transmit: ticket.transmit,
            outside_rth: ticket.outside_rth,
            status: Status::PreSubmitted,
            filled: Decimal::ZERO,
            avg_fill_price: Decimal::ZERO,
            last_fill_price: Decimal::ZERO,
            commission: Decimal::ZERO,
            completed_time: String::new(),
        };
        order.apply_terms(ticket)?;
        Ok(order)
    }

    /// The order after a modification (same id), or why the modification is refused.
    pub fn modified(&self, ticket: &OrderTicket) -> Result<Self, Reject> {
        let mut order = self.clone();
        order.apply_terms(ticket)?;
        if order.quantity < self.filled {
            return Err(Reject::Invalid(format!(
                "the new quantity {} is below the {} already filled",
                order.quantity, self.filled
            )));
        }
        order.order_ref = ticket.order_ref.clone();
        order.oca_group = ticket.oca_group.clone();
        order.transmit = self.transmit || ticket.transmit;
        order.triggered = self.triggered && order.order_type == self.order_type;
        Ok(order)
    }

    fn apply_terms(&mut self, ticket: &OrderTicket) -> Result<(), Reject> {
        let quantity: Decimal = ticket.total_quantity.trim().parse().map_err(|_| {
            Reject::Invalid(format!(
                "quantity '{}' is not a number",
                ticket.total_quantity
            ))
        })?;
        if quantity <= Decimal::ZERO {
            return Err(Reject::Invalid(format!(
                "quantity must be positive, got {quantity}"
            )));
        }
        if !quantity.fract().is_zero() {
            return Err(Reject::Invalid(format!(
                "quantity must be whole shares, got {quantity}"
            )));
        }
        let order_type = OrderType::parse(&ticket.order_type).ok_or_else(|| {
            Reject::Invalid(format!(
                "order type '{}' is not supported (MKT, LMT, STP, STP LMT, TRAIL)",
                ticket.order_type
            ))
        })?;
        let tif = Tif::parse(&ticket.tif).ok_or_else(|| {
            Reject::Invalid(format!(
                "time in force '{}' is not supported (DAY, GTC, IOC, FOK)",
                ticket.tif
            ))
        })?;
        let lmt = ticket.lmt_price;
        let aux = ticket.aux_price;
        let pct = ticket.trailing_percent;
        let trail_stop = ticket.trail_stop_price;
        let needs = |value: Option<Decimal>, what: &str| {
            value
                .filter(|v| *v > Decimal::ZERO)
                .map(|_| ())
                .ok_or_else(|| {
                    Reject::Invalid(format!(
                        "{} orders need a positive {what}",
                        order_type.code()
                    ))
                })
        };
        match order_type {
            OrderType::Market => {}
            OrderType::Limit => needs(lmt, "limit price")?,
            OrderType::Stop => needs(aux, "stop (aux) price")?,
            OrderType::StopLimit => {
                needs(lmt, "limit price")?;
                needs(aux, "stop (aux) price")?;
            }
            OrderType::Trail => {
                if aux.filter(|v| *v > Decimal::ZERO).is_none()
                    && pct.filter(|v| *v > Decimal::ZERO).is_none()
                {
                    return Err(Reject::Invalid(
                        "TRAIL orders need a trailing amount (aux price) or a trailing percent"
                            .to_string(),
                    ));
                }
            }
        }
        let on_tick = |p: Option<Decimal>| p.is_none_or(|p| self.instrument.on_tick(p));
        let stop_checked = order_type != OrderType::Trail || pct.is_some();
        if (matches!(order_type, OrderType::Limit | OrderType::StopLimit) && !on_tick(lmt))
            || (matches!(order_type, OrderType::Stop | OrderType::StopLimit) && !on_tick(aux))
            || (order_type == OrderType::Trail && !stop_checked && !on_tick(aux))
        {
            return Err(Reject::OffTick);
        }
        self.quantity = quantity;
        self.order_type = order_type;
        self.tif = tif;
        self.lmt_price = if matches!(order_type, OrderType::Limit | OrderType::StopLimit) {
            lmt
        } else {
            None
        };
        self.aux_price = if matches!(order_type, OrderType::Market | OrderType::Limit) {
            None
        } else {
            aux
        };
        self.trailing_percent = if order_type == OrderType::Trail {
            pct.filter(|p| *p > Decimal::ZERO)
        } else {
            None
        };
        if order_type == OrderType::Trail {
            if self.trailing_percent.is_some() {
                self.aux_price = None;
            }
            self.trail_stop = trail_stop
                .filter(|p| *p > Decimal::ZERO)
                .or(self.trail_stop);
        } else {
            self.trail_stop = None;
        }
        Ok(())
    }

    /// Quantity still to fill.
    pub fn remaining(&self) -> Decimal {
        self.quantity - self.filled
    }

    /// Decides whether the order fills against `quote`, updating trailing stops and triggers.
    pub fn evaluate(&mut self, quote: &Quote) -> Decision {
        let buy = self.side == Side::Buy;
        let touch = if buy { quote.ask } else { quote.bid };
        let limit_ok = |limit: Decimal| if buy { touch <= limit } else { touch >= limit };
        match self.order_type {
            OrderType::Market => Decision::Fill(touch),
            OrderType::Limit => match self.lmt_price {
                Some(limit) if limit_ok(limit) => Decision::Fill(touch),
                _ => Decision::Rest,
            },
            OrderType::Stop | OrderType::StopLimit => {
                if !self.triggered {
                    let stop = self.aux_price.unwrap_or(Decimal::MAX);
                    self.triggered = if buy { touch >= stop } else { touch <= stop };
                }
                if !self.triggered {
                    return Decision::Rest;
                }
                match (self.order_type, self.lmt_price) {
                    (OrderType::StopLimit, Some(limit)) if !limit_ok(limit) => Decision::Rest,
                    _ => Decision::Fill(touch),
                }
            }
            OrderType::Trail => {
                let tick = self.instrument.tick_size;
                let offset = match (self.trailing_percent, self.aux_price) {
                    (Some(pct), _) => (touch * pct / Decimal::ONE_HUNDRED / tick).round() * tick,
                    (None, Some(amount)) => amount,
                    (None, None) => return Decision::Rest,
                };
                let candidate = if buy { touch + offset } else { touch - offset };
                let stop = match self.trail_stop {
                    Some(current) if buy => current.min(candidate),
                    Some(current) => current.max(candidate),
                    None => candidate,
                };
                self.trail_stop = Some(stop);
                let hit = if buy { touch >= stop } else { touch <= stop };
                if hit {
                    Decision::Fill(touch)
                } else {
                    Decision::Rest
                }
            }
        }
    }

    /// Books a fill.
    pub fn record_fill(&mut self, quantity: Decimal, price: Decimal, commission: Decimal) {
        let total = self.filled + quantity;
        self.avg_fill_price =
            ((self.avg_fill_price * self.filled + price * quantity) / total).round_dp(8);
        self.filled = total;
        self.last_fill_price = price;
        self.commission += commission;
    }
}

/// What an order does against the current quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Nothing (yet).
    Rest,
    /// Fill at this price.
    Fill(Decimal),
}

/// IB's completed-time format.
pub fn completed_time(at: DateTime<Utc>) -> String {
    at.format("%Y%m%d %H:%M:%S UTC").to_string()
}

/// One execution (fill).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Execution {
    /// IB-style execution id.
    pub exec_id: String,
    /// Order id.
    pub order_id: i32,
    /// Client that placed the order.
    pub client_id: i32,
    /// Permanent id of the order.
    pub perm_id: i64,
    /// Instrument index.
    pub index: usize,
    /// The instrument.
    #[serde(skip, default = "placeholder_instrument")]
    pub instrument: Instrument,
    /// Side.
    pub side: Side,
    /// Shares in this execution.
    pub shares: Decimal,
    /// Price.
    pub price: Decimal,
    /// Cumulative quantity of the order.
    pub cum_qty: Decimal,
    /// Average price of the order so far.
    pub avg_price: Decimal,
    /// When.
    pub time: DateTime<Utc>,
    /// Account.
    pub account: String,
    /// Order reference.
    pub order_ref: String,
    /// Commission of this execution.
    pub commission: Decimal,
    /// Realized PnL of this execution, when it closed a position.
    pub realized_pnl: Option<Decimal>,
}

impl Execution {
    /// Whether the execution passes a reqExecutions filter.
    pub fn matches(&self, filter: &ExecutionFilter) -> bool {
        let text_ok =
            |wanted: &str, actual: &str| wanted.is_empty() || wanted.eq_ignore_ascii_case(actual);
        let side_ok = filter.side.is_empty()
            || filter.side.eq_ignore_ascii_case(self.side.action())
            || filter.side.eq_ignore_ascii_case(self.side.exec_side());
        let time_ok = filter.time.is_empty()
            || crate::simulator::exchange::parse_end(&filter.time)
                .is_none_or(|from| self.time >= from);
        (filter.client_id == 0 || filter.client_id == self.client_id)
            && text_ok(&filter.account, &self.account)
            && text_ok(&filter.symbol, self.instrument.symbol)
            && text_ok(&filter.sec_type, "STK")
            && (filter.exchange.is_empty()
                || filter.exchange.eq_ignore_ascii_case("SMART")
                || filter
                    .exchange
                    .eq_ignore_ascii_case(self.instrument.primary_exchange))
            && side_ok
            && time_ok
    }
}

//! Orders as a trader states them, validated on construction, and their life cycle.
//!
//! The same types validate the order ticket in the browser and the JSON body on the server:
//! an [`OrderRequest`] that exists is valid, and every rejection names the field and why.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One reason an order request is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The JSON field at fault.
    pub field: String,
    /// Why, in words a trader understands.
    pub reason: String,
}

impl FieldError {
    fn new(field: &str, reason: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// Largest number of decimal places accepted in prices and quantities.
const MAX_SCALE: u32 = 8;

macro_rules! positive_decimal {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(Decimal);

        impl $name {
            /// Accepts a strictly positive decimal with at most eight decimal places.
            pub fn new(value: Decimal) -> Result<Self, String> {
                if value <= Decimal::ZERO {
                    return Err("must be greater than zero".to_owned());
                }
                if value.normalize().scale() > MAX_SCALE {
                    return Err(format!("must have at most {MAX_SCALE} decimal places"));
                }
                Ok(Self(value.normalize()))
            }

            /// The value.
            pub fn get(self) -> Decimal {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let value = <Decimal as Deserialize>::deserialize(d)?;
                Self::new(value).map_err(serde::de::Error::custom)
            }
        }
    };
}

positive_decimal!(
    /// A price in the contract's currency.
    Price
);
positive_decimal!(
    /// A quantity of shares or contracts.
    Quantity
);

/// A ticker symbol, upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Symbol(String);

impl Symbol {
    /// Accepts 1–12 letters, digits, dots or spaces; stores it upper case.
    pub fn new(raw: &str) -> Result<Self, String> {
        let s = raw.trim().to_ascii_uppercase();
        if s.is_empty() || s.len() > 12 {
            return Err("must be 1 to 12 characters".to_owned());
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == ' ')
        {
            return Err("may contain only letters, digits, dots and spaces".to_owned());
        }
        Ok(Self(s))
    }

    /// The symbol.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The caller's id for an order, unique per account; also sent to IB as `orderRef`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientOrderId(String);

impl ClientOrderId {
    /// Longest accepted id.
    pub const MAX_LEN: usize = 48;

    /// Accepts 1–48 characters of letters, digits and `-_.:`.
    pub fn new(raw: &str) -> Result<Self, String> {
        if raw.is_empty() || raw.len() > Self::MAX_LEN {
            return Err(format!("must be 1 to {} characters", Self::MAX_LEN));
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
        {
            return Err("may contain only letters, digits and - _ . :".to_owned());
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The name used in JSON and the journal.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s { $($text => Ok(Self::$variant),)+ _ => Err(format!(
                    "must be one of: {}",
                    [$($text),+].join(", ")
                )) }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_enum!(
    /// Buy or sell.
    Side { Buy = "buy", Sell = "sell" }
);

named_enum!(
    /// How the order is priced.
    OrderType {
        /// At the market.
        Market = "market",
        /// At `limit_price` or better.
        Limit = "limit",
        /// A market order once `stop_price` trades.
        Stop = "stop",
        /// A limit order at `limit_price` once `stop_price` trades.
        StopLimit = "stop_limit",
        /// A stop that follows the market by `trail_amount` or `trail_percent`.
        TrailingStop = "trailing_stop",
    }
);

named_enum!(
    /// How long the order stays working.
    TimeInForce {
        /// Until the end of the trading day.
        Day = "day",
        /// Until canceled.
        Gtc = "gtc",
        /// Fill what is possible at once, cancel the rest.
        Ioc = "ioc",
        /// Fill all at once or nothing.
        Fok = "fok",
    }
);

named_enum!(
    /// An order's state. Transitions follow [`OrderStatus::can_become`].
    OrderStatus {
        /// Journaled; not yet acknowledged by the broker.
        PendingNew = "pending_new",
        /// Working at the broker.
        Accepted = "accepted",
        /// Some of it has filled; the rest is working.
        PartiallyFilled = "partially_filled",
        /// Completely filled.
        Filled = "filled",
        /// Canceled before completely filling.
        Canceled = "canceled",
        /// Its time in force ran out.
        Expired = "expired",
        /// The broker refused it.
        Rejected = "rejected",
        /// A cancel was requested; the broker has not confirmed it yet.
        PendingCancel = "pending_cancel",
        /// A modification was requested; the broker has not confirmed it yet.
        PendingReplace = "pending_replace",
        /// Superseded by another order.
        Replaced = "replaced",
        /// Refused by Binder's own risk checks; never sent.
        Denied = "denied",
    }
);

impl OrderStatus {
    /// Whether the order can no longer change.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Filled
                | Self::Canceled
                | Self::Expired
                | Self::Rejected
                | Self::Replaced
                | Self::Denied
        )
    }

    /// Whether the order is still working (or about to be).
    pub fn is_open(self) -> bool {
        !self.is_terminal()
    }

    /// The legal transitions. A partially filled order may partially fill again; a pending
    /// cancel may still fill or, if the cancel is refused, go back to working.
    pub fn can_become(self, next: Self) -> bool {
        use OrderStatus::*;
        match self {
            PendingNew => matches!(
                next,
                Accepted | PartiallyFilled | Filled | Canceled | Expired | Rejected | Denied
            ),
            Accepted => matches!(
                next,
                PartiallyFilled
                    | Filled
                    | Canceled
                    | Expired
                    | Rejected
                    | PendingCancel
                    | PendingReplace
            ),
            PartiallyFilled => matches!(
                next,
                PartiallyFilled | Filled | Canceled | Expired | PendingCancel | PendingReplace
            ),
            PendingCancel => matches!(
                next,
                Accepted | PartiallyFilled | Filled | Canceled | Expired
            ),
            PendingReplace => matches!(
                next,
                Accepted | PartiallyFilled | Filled | Canceled | Expired | Replaced | Rejected
            ),
            Filled | Canceled | Expired | Rejected | Replaced | Denied => false,
        }
    }

    /// `next` if the transition is legal.
    pub fn advance(self, next: Self) -> Result<Self, IllegalTransition> {
        if self.can_become(next) {
            Ok(next)
        } else {
            Err(IllegalTransition {
                from: self,
                to: next,
            })
        }
    }
}

/// A transition the state machine forbids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an order cannot go from {from} to {to}")]
pub struct IllegalTransition {
    /// Current state.
    pub from: OrderStatus,
    /// Requested state.
    pub to: OrderStatus,
}

/// A decimal field as it may arrive in JSON: a string (preferred) or a number.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DecimalInput {
    /// `"12.34"`.
    Text(String),
    /// `12.34`.
    Number(serde_json::Number),
}

impl DecimalInput {
    fn parse(&self) -> Result<Decimal, String> {
        let text = match self {
            Self::Text(s) => s.trim().to_owned(),
            Self::Number(n) => n.to_string(),
        };
        Decimal::from_str_exact(&text)
            .or_else(|_| Decimal::from_scientific(&text))
            .map_err(|_| format!("{text:?} is not a decimal number"))
    }
}

/// An order request exactly as it arrives (every field optional, nothing checked yet).
/// Serializable so the order ticket can send what it checked to the server function.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderRequestInput {
    /// Ticker symbol (or give `con_id`).
    pub symbol: Option<String>,
    /// IB contract id (or give `symbol`).
    pub con_id: Option<i64>,
    /// `buy` or `sell`.
    pub side: Option<String>,
    /// Quantity, > 0.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "10"))]
    pub qty: Option<DecimalInput>,
    /// `market`, `limit`, `stop`, `stop_limit` or `trailing_stop`.
    #[serde(rename = "type")]
    pub order_type: Option<String>,
    /// Limit price (limit, stop_limit).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "10"))]
    pub limit_price: Option<DecimalInput>,
    /// Stop price (stop, stop_limit).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "10"))]
    pub stop_price: Option<DecimalInput>,
    /// Trailing amount in price units (trailing_stop).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "10"))]
    pub trail_amount: Option<DecimalInput>,
    /// Trailing percentage (trailing_stop).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "10"))]
    pub trail_percent: Option<DecimalInput>,
    /// `day` (default), `gtc`, `ioc`, `fok`.
    pub time_in_force: Option<String>,
    /// Allow filling outside regular trading hours.
    pub outside_rth: Option<bool>,
    /// Caller's id, ≤ 48 characters; generated when absent.
    pub client_order_id: Option<String>,
    /// `simple` (default), `bracket` (entry + take_profit + stop_loss) or `oco` (this limit
    /// order + a stop_loss in one cancels-other group).
    pub order_class: Option<String>,
    /// Bracket: the profit-taking limit order.
    pub take_profit: Option<LegInput>,
    /// Bracket and oco: the protective stop (optionally stop-limit).
    pub stop_loss: Option<LegInput>,
    /// Account id; optional when there is one account.
    pub account: Option<String>,
}

/// A leg of a bracket or oco order, as it arrives.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LegInput {
    /// Limit price (take_profit; optional for stop_loss, making it a stop-limit).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "210.00"))]
    pub limit_price: Option<DecimalInput>,
    /// Stop price (stop_loss).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "190.00"))]
    pub stop_price: Option<DecimalInput>,
}

/// The protective stop of a bracket or oco order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopLoss {
    /// Trigger price.
    pub stop: Price,
    /// Limit once triggered (a stop-limit), or `None` for a stop (market) order.
    pub limit: Option<Price>,
}

impl StopLoss {
    /// The stop as an order's pricing.
    pub fn pricing(self) -> Pricing {
        match self.limit {
            Some(limit) => Pricing::StopLimit {
                stop: self.stop,
                limit,
            },
            None => Pricing::Stop { stop: self.stop },
        }
    }
}

/// Simple, bracket or one-cancels-other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderClass {
    /// One order.
    Simple,
    /// An entry order; once it fills, a take-profit limit and a stop-loss on the other side,
    /// one cancelling the other.
    Bracket {
        /// Limit price of the profit-taking order.
        take_profit: Price,
        /// The protective stop.
        stop_loss: StopLoss,
    },
    /// This limit order and a stop on the same side; whichever fills first cancels the other.
    Oco {
        /// The protective stop.
        stop_loss: StopLoss,
    },
}

impl OrderClass {
    /// The name used in JSON and the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Simple => "simple",
            Self::Bracket { .. } => "bracket",
            Self::Oco { .. } => "oco",
        }
    }
}

/// What the order refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Instrument {
    /// A ticker symbol, resolved to a US stock or ETF.
    Symbol(Symbol),
    /// An IB contract id.
    ConId(i64),
}

/// How the order is priced, with exactly the prices its type needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pricing {
    /// Market order.
    Market,
    /// Limit order.
    Limit {
        /// Limit price.
        limit: Price,
    },
    /// Stop order.
    Stop {
        /// Stop (trigger) price.
        stop: Price,
    },
    /// Stop-limit order.
    StopLimit {
        /// Stop (trigger) price.
        stop: Price,
        /// Limit price once triggered.
        limit: Price,
    },
    /// Trailing stop by a price amount.
    TrailAmount {
        /// Distance from the best price.
        amount: Price,
    },
    /// Trailing stop by a percentage.
    TrailPercent {
        /// Distance in percent (0 < p < 100).
        percent: Decimal,
    },
}

impl Pricing {
    /// The order type this pricing belongs to.
    pub fn order_type(self) -> OrderType {
        match self {
            Self::Market => OrderType::Market,
            Self::Limit { .. } => OrderType::Limit,
            Self::Stop { .. } => OrderType::Stop,
            Self::StopLimit { .. } => OrderType::StopLimit,
            Self::TrailAmount { .. } | Self::TrailPercent { .. } => OrderType::TrailingStop,
        }
    }

    /// Limit price, if the type has one.
    pub fn limit_price(self) -> Option<Price> {
        match self {
            Self::Limit { limit } | Self::StopLimit { limit, .. } => Some(limit),
            _ => None,
        }
    }

    /// Stop price, if the type has one.
    pub fn stop_price(self) -> Option<Price> {
        match self {
            Self::Stop { stop } | Self::StopLimit { stop, .. } => Some(stop),
            _ => None,
        }
    }
}

/// A valid order request. Only [`OrderRequest::parse`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRequest {
    instrument: Instrument,
    side: Side,
    qty: Quantity,
    pricing: Pricing,
    time_in_force: TimeInForce,
    outside_rth: bool,
    client_order_id: Option<ClientOrderId>,
    account: Option<String>,
    class: OrderClass,
}

impl OrderRequest {
    /// Checks every field; returns all problems at once, each naming its field.
    pub fn parse(input: &OrderRequestInput) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut check = |field: &str, result: Result<(), String>| {
            if let Err(reason) = result {
                errors.push(FieldError::new(field, reason));
            }
        };

        let instrument = match (&input.symbol, input.con_id) {
            (Some(_), Some(_)) => {
                check(
                    "symbol",
                    Err("give either symbol or con_id, not both".to_owned()),
                );
                None
            }
            (None, None) => {
                check("symbol", Err("is required (or give con_id)".to_owned()));
                None
            }
            (Some(s), None) => match Symbol::new(s) {
                Ok(sym) => Some(Instrument::Symbol(sym)),
                Err(e) => {
                    check("symbol", Err(e));
                    None
                }
            },
            (None, Some(id)) if id > 0 => Some(Instrument::ConId(id)),
            (None, Some(_)) => {
                check("con_id", Err("must be a positive contract id".to_owned()));
                None
            }
        };

        let side = required(&input.side, "side", &mut check, |s| s.parse::<Side>());
        let qty = decimal_field(&input.qty, "qty", true, &mut check)
            .and_then(|d| Quantity::new(d).map_err(|e| check("qty", Err(e))).ok());
        let order_type = required(&input.order_type, "type", &mut check, |s| {
            s.parse::<OrderType>()
        });
        let time_in_force = match &input.time_in_force {
            None => Some(TimeInForce::Day),
            Some(s) => s
                .parse::<TimeInForce>()
                .map_err(|e| check("time_in_force", Err(e)))
                .ok(),
        };
        let client_order_id = match &input.client_order_id {
            None => None,
            Some(raw) => ClientOrderId::new(raw)
                .map_err(|e| check("client_order_id", Err(e)))
                .ok(),
        };

        let mut price = |field: &'static str, value: &Option<DecimalInput>| -> Option<Price> {
            decimal_field(value, field, false, &mut check)
                .and_then(|d| Price::new(d).map_err(|e| check(field, Err(e))).ok())
        };
        let limit = price("limit_price", &input.limit_price);
        let stop = price("stop_price", &input.stop_price);
        let trail_amount = price("trail_amount", &input.trail_amount);
        let trail_percent = decimal_field(&input.trail_percent, "trail_percent", false, &mut check);

        let pricing = order_type.and_then(|t| {
            let mut forbid = |field: &str, present: bool| {
                if present {
                    check(field, Err(format!("is not used by {t} orders")));
                }
            };
            let needs = |field: &str,
                         v: Option<Price>,
                         present: bool,
                         check: &mut dyn FnMut(&str, Result<(), String>)| {
                if v.is_none() && !present {
                    check(field, Err(format!("is required for {t} orders")));
                }
                v
            };
            let (has_limit, has_stop) = (input.limit_price.is_some(), input.stop_price.is_some());
            let (has_amount, has_percent) =
                (input.trail_amount.is_some(), input.trail_percent.is_some());
            match t {
                OrderType::Market => {
                    forbid("limit_price", has_limit);
                    forbid("stop_price", has_stop);
                    forbid("trail_amount", has_amount);
                    forbid("trail_percent", has_percent);
                    Some(Pricing::Market)
                }
                OrderType::Limit => {
                    forbid("stop_price", has_stop);
                    forbid("trail_amount", has_amount);
                    forbid("trail_percent", has_percent);
                    needs("limit_price", limit, has_limit, &mut check)
                        .map(|limit| Pricing::Limit { limit })
                }
                OrderType::Stop => {
                    forbid("limit_price", has_limit);
                    forbid("trail_amount", has_amount);
                    forbid("trail_percent", has_percent);
                    needs("stop_price", stop, has_stop, &mut check)
                        .map(|stop| Pricing::Stop { stop })
                }
                OrderType::StopLimit => {
                    forbid("trail_amount", has_amount);
                    forbid("trail_percent", has_percent);
                    let stop = needs("stop_price", stop, has_stop, &mut check);
                    let limit = needs("limit_price", limit, has_limit, &mut check);
                    stop.zip(limit)
                        .map(|(stop, limit)| Pricing::StopLimit { stop, limit })
                }
                OrderType::TrailingStop => {
                    forbid("limit_price", has_limit);
                    forbid("stop_price", has_stop);
                    match (has_amount, has_percent) {
                        (true, true) => {
                            check(
                                "trail_amount",
                                Err("give trail_amount or trail_percent, not both".to_owned()),
                            );
                            None
                        }
                        (false, false) => {
                            check(
                                "trail_amount",
                                Err("trail_amount or trail_percent is required".to_owned()),
                            );
                            None
                        }
                        (true, false) => trail_amount.map(|amount| Pricing::TrailAmount { amount }),
                        (false, true) => match trail_percent {
                            Some(p) if p > Decimal::ZERO && p < Decimal::ONE_HUNDRED => {
                                Some(Pricing::TrailPercent {
                                    percent: p.normalize(),
                                })
                            }
                            Some(_) => {
                                check("trail_percent", Err("must be between 0 and 100".to_owned()));
                                None
                            }
                            None => None,
                        },
                    }
                }
            }
        });

        let class = parse_class(input, side, pricing, &mut check);

        if !errors.is_empty() {
            return Err(errors);
        }
        match (instrument, side, qty, pricing, time_in_force, class) {
            (
                Some(instrument),
                Some(side),
                Some(qty),
                Some(pricing),
                Some(time_in_force),
                Some(class),
            ) => Ok(Self {
                class,
                instrument,
                side,
                qty,
                pricing,
                time_in_force,
                outside_rth: input.outside_rth.unwrap_or(false),
                client_order_id,
                account: input.account.clone().filter(|a| !a.is_empty()),
            }),
            // Every missing piece recorded an error above; this arm is unreachable in practice
            // but stays total rather than panicking.
            _ => Err(vec![FieldError::new("body", "is incomplete")]),
        }
    }

    /// What to trade.
    pub fn instrument(&self) -> &Instrument {
        &self.instrument
    }
    /// Buy or sell.
    pub fn side(&self) -> Side {
        self.side
    }
    /// How much.
    pub fn qty(&self) -> Quantity {
        self.qty
    }
    /// Type and prices.
    pub fn pricing(&self) -> Pricing {
        self.pricing
    }
    /// Time in force.
    pub fn time_in_force(&self) -> TimeInForce {
        self.time_in_force
    }
    /// Outside regular trading hours allowed.
    pub fn outside_rth(&self) -> bool {
        self.outside_rth
    }
    /// The caller's id, if given.
    pub fn client_order_id(&self) -> Option<&ClientOrderId> {
        self.client_order_id.as_ref()
    }
    /// The account, if given.
    pub fn account(&self) -> Option<&str> {
        self.account.as_deref()
    }
    /// Simple, bracket or oco, with the legs' prices.
    pub fn order_class(&self) -> OrderClass {
        self.class
    }
}

/// Reads `order_class`, `take_profit` and `stop_loss`, checking that the legs' prices make
/// sense for the side (a take-profit above the stop when protecting a long, below when short).
fn parse_class(
    input: &OrderRequestInput,
    side: Option<Side>,
    pricing: Option<Pricing>,
    check: &mut impl FnMut(&str, Result<(), String>),
) -> Option<OrderClass> {
    let class = input.order_class.as_deref().unwrap_or("simple");
    let leg_price = |value: &Option<DecimalInput>,
                     field: &str,
                     required: bool,
                     check: &mut dyn FnMut(&str, Result<(), String>)| {
        let mut adapt = |f: &str, r: Result<(), String>| check(f, r);
        decimal_field(value, field, required, &mut adapt)
            .and_then(|d| Price::new(d).map_err(|e| check(field, Err(e))).ok())
    };
    let stop_loss = |check: &mut dyn FnMut(&str, Result<(), String>)| match &input.stop_loss {
        None => {
            check("stop_loss", Err(format!("is required for {class} orders")));
            None
        }
        Some(leg) => {
            let stop = leg_price(&leg.stop_price, "stop_loss.stop_price", true, check);
            let limit = leg_price(&leg.limit_price, "stop_loss.limit_price", false, check);
            stop.map(|stop| StopLoss { stop, limit })
        }
    };
    // The profit-taking price must sit on the far side of the stop.
    let ordered = |profit: Price, stop: Price, protecting_long: bool| {
        if protecting_long {
            profit > stop
        } else {
            profit < stop
        }
    };
    match class {
        "simple" => {
            for (field, present) in [
                ("take_profit", input.take_profit.is_some()),
                ("stop_loss", input.stop_loss.is_some()),
            ] {
                if present {
                    check(
                        field,
                        Err("is only used by bracket and oco orders".to_owned()),
                    );
                }
            }
            Some(OrderClass::Simple)
        }
        "bracket" => {
            let take_profit = match &input.take_profit {
                None => {
                    check(
                        "take_profit",
                        Err("is required for bracket orders".to_owned()),
                    );
                    None
                }
                Some(leg) => {
                    if leg.stop_price.is_some() {
                        check(
                            "take_profit.stop_price",
                            Err("is not used: give take_profit.limit_price".to_owned()),
                        );
                    }
                    leg_price(&leg.limit_price, "take_profit.limit_price", true, check)
                }
            };
            let stop_loss = stop_loss(check);
            let (take_profit, stop_loss, side) = (take_profit?, stop_loss?, side?);
            if !ordered(take_profit, stop_loss.stop, side == Side::Buy) {
                let reason = if side == Side::Buy {
                    "must be above"
                } else {
                    "must be below"
                };
                check(
                    "take_profit.limit_price",
                    Err(format!("{reason} stop_loss.stop_price for a {side} entry")),
                );
            }
            Some(OrderClass::Bracket {
                take_profit,
                stop_loss,
            })
        }
        "oco" => {
            if input.take_profit.is_some() {
                check(
                    "take_profit",
                    Err(
                        "is not used by oco orders: this order's limit_price takes profit"
                            .to_owned(),
                    ),
                );
            }
            let stop_loss = stop_loss(check);
            match pricing {
                Some(Pricing::Limit { limit }) => {
                    let (stop_loss, side) = (stop_loss?, side?);
                    // Both legs are on `side`: selling protects a long, buying covers a short.
                    if !ordered(limit, stop_loss.stop, side == Side::Sell) {
                        let reason = if side == Side::Sell {
                            "must be above"
                        } else {
                            "must be below"
                        };
                        check(
                            "limit_price",
                            Err(format!("{reason} stop_loss.stop_price for a {side} oco")),
                        );
                    }
                    Some(OrderClass::Oco { stop_loss })
                }
                Some(_) => {
                    check("type", Err("must be limit for oco orders".to_owned()));
                    None
                }
                None => None,
            }
        }
        _ => {
            check(
                "order_class",
                Err("must be simple, bracket or oco".to_owned()),
            );
            None
        }
    }
}

fn required<T>(
    value: &Option<String>,
    field: &str,
    check: &mut impl FnMut(&str, Result<(), String>),
    parse: impl Fn(&str) -> Result<T, String>,
) -> Option<T> {
    match value {
        None => {
            check(field, Err("is required".to_owned()));
            None
        }
        Some(s) => parse(s).map_err(|e| check(field, Err(e))).ok(),
    }
}

fn decimal_field(
    value: &Option<DecimalInput>,
    field: &str,
    is_required: bool,
    check: &mut impl FnMut(&str, Result<(), String>),
) -> Option<Decimal> {
    match value {
        None => {
            if is_required {
                check(field, Err("is required".to_owned()));
            }
            None
        }
        Some(v) => v.parse().map_err(|e| check(field, Err(e))).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> OrderRequestInput {
        serde_json::from_value(json).expect("input shape")
    }

    fn fields(json: serde_json::Value) -> Vec<String> {
        OrderRequest::parse(&input(json))
            .expect_err("invalid")
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn a_market_order_parses_with_defaults() {
        let req = OrderRequest::parse(&input(serde_json::json!({
            "symbol": "aapl", "side": "buy", "qty": "10", "type": "market"
        })))
        .expect("valid");
        assert_eq!(
            req.instrument(),
            &Instrument::Symbol(Symbol::new("AAPL").expect("symbol"))
        );
        assert_eq!(req.time_in_force(), TimeInForce::Day);
        assert_eq!(req.pricing(), Pricing::Market);
        assert_eq!(req.qty().get(), Decimal::TEN);
        assert!(req.client_order_id().is_none());
    }

    #[test]
    fn each_type_needs_its_prices_and_refuses_others() {
        assert_eq!(
            fields(serde_json::json!({"symbol":"A","side":"buy","qty":1,"type":"limit"})),
            ["limit_price"]
        );
        assert_eq!(
            fields(
                serde_json::json!({"symbol":"A","side":"buy","qty":1,"type":"market","limit_price":"1"})
            ),
            ["limit_price"]
        );
        assert_eq!(
            fields(
                serde_json::json!({"symbol":"A","side":"buy","qty":1,"type":"stop_limit","stop_price":"2"})
            ),
            ["limit_price"]
        );
        assert_eq!(
            fields(serde_json::json!({"symbol":"A","side":"sell","qty":1,"type":"trailing_stop"})),
            ["trail_amount"]
        );
        assert_eq!(
            fields(
                serde_json::json!({"symbol":"A","side":"sell","qty":1,"type":"trailing_stop","trail_percent":"150"})
            ),
            ["trail_percent"]
        );
        let ok = OrderRequest::parse(&input(serde_json::json!({
            "symbol":"A","side":"sell","qty":1,"type":"trailing_stop","trail_percent":"1.5"
        })))
        .expect("valid");
        assert_eq!(ok.pricing().order_type(), OrderType::TrailingStop);
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let mut got = fields(serde_json::json!({
            "side": "hold", "qty": "-1", "type": "limit", "limit_price": "abc",
            "time_in_force": "forever", "client_order_id": "x".repeat(49)
        }));
        got.sort();
        assert_eq!(
            got,
            [
                "client_order_id",
                "limit_price",
                "qty",
                "side",
                "symbol",
                "time_in_force"
            ]
        );
    }

    #[test]
    fn symbol_and_con_id_are_exclusive() {
        assert_eq!(
            fields(
                serde_json::json!({"symbol":"A","con_id":5,"side":"buy","qty":1,"type":"market"})
            ),
            ["symbol"]
        );
        assert!(
            OrderRequest::parse(&input(
                serde_json::json!({"con_id":265598,"side":"buy","qty":1,"type":"market"})
            ))
            .is_ok()
        );
    }

    #[test]
    fn brackets_need_both_legs_in_the_right_order() {
        assert_eq!(
            fields(
                serde_json::json!({"symbol":"A","side":"buy","qty":1,"type":"market","order_class":"bracket"})
            ),
            ["take_profit", "stop_loss"]
        );
        assert_eq!(
            fields(
                serde_json::json!({"symbol":"A","side":"buy","qty":1,"type":"market","order_class":"bracket",
                "take_profit":{"limit_price":"90"},"stop_loss":{"stop_price":"95"}})
            ),
            ["take_profit.limit_price"]
        );
        let ok = OrderRequest::parse(&input(serde_json::json!({"symbol":"A","side":"sell","qty":1,"type":"limit","limit_price":"100",
            "order_class":"bracket","take_profit":{"limit_price":"90"},"stop_loss":{"stop_price":"105","limit_price":"106"}})))
        .expect("valid short bracket");
        let OrderClass::Bracket {
            take_profit,
            stop_loss,
        } = ok.order_class()
        else {
            panic!("bracket")
        };
        assert_eq!(take_profit.to_string(), "90");
        assert_eq!(stop_loss.pricing().order_type(), OrderType::StopLimit);
    }

    #[test]
    fn oco_is_a_limit_order_with_a_stop_on_the_same_side() {
        assert_eq!(
            fields(
                serde_json::json!({"symbol":"A","side":"sell","qty":1,"type":"market","order_class":"oco","stop_loss":{"stop_price":"90"}})
            ),
            ["type"]
        );
        assert_eq!(
            fields(
                serde_json::json!({"symbol":"A","side":"sell","qty":1,"type":"limit","limit_price":"80","order_class":"oco","stop_loss":{"stop_price":"90"}})
            ),
            ["limit_price"]
        );
        let ok = OrderRequest::parse(&input(serde_json::json!({"symbol":"A","side":"sell","qty":1,"type":"limit","limit_price":"110",
            "order_class":"oco","stop_loss":{"stop_price":"90"}})))
        .expect("valid oco");
        assert!(matches!(ok.order_class(), OrderClass::Oco { .. }));
        assert_eq!(
            fields(
                serde_json::json!({"symbol":"A","side":"buy","qty":1,"type":"market","order_class":"triangle"})
            ),
            ["order_class"]
        );
        assert_eq!(
            fields(
                serde_json::json!({"symbol":"A","side":"buy","qty":1,"type":"market","stop_loss":{"stop_price":"1"}})
            ),
            ["stop_loss"]
        );
    }

    #[test]
    fn decimals_keep_their_precision() {
        let q = Quantity::new(Decimal::from_str_exact("0.10000").expect("dec")).expect("qty");
        assert_eq!(q.to_string(), "0.1");
        assert!(Price::new(Decimal::from_str_exact("0.000000001").expect("dec")).is_err());
    }

    #[test]
    fn terminal_states_never_change_and_the_machine_is_closed() {
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                if from.is_terminal() {
                    assert!(from.advance(*to).is_err(), "{from} -> {to}");
                }
            }
            assert!(OrderStatus::Denied.advance(*from).is_err());
        }
        assert!(OrderStatus::PendingNew.can_become(OrderStatus::Accepted));
        assert!(OrderStatus::PartiallyFilled.can_become(OrderStatus::PartiallyFilled));
        assert!(!OrderStatus::Accepted.can_become(OrderStatus::PendingNew));
        assert!(
            !OrderStatus::Accepted.can_become(OrderStatus::Denied),
            "denied happens before sending"
        );
    }
}

/// An order as Binder reports it (REST API, server functions, event stream).
/// Decimals are JSON strings; times are RFC 3339 UTC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderView {
    /// Binder's id.
    pub id: String,
    /// The caller's id (IB's `orderRef`).
    pub client_order_id: String,
    /// Account.
    pub account: String,
    /// Symbol.
    pub symbol: String,
    /// IB contract id, once known.
    pub con_id: Option<i64>,
    /// Buy or sell.
    pub side: Side,
    /// Quantity.
    pub qty: Decimal,
    /// Order type.
    #[serde(rename = "type")]
    pub order_type: OrderType,
    /// Limit price.
    pub limit_price: Option<Decimal>,
    /// Stop price.
    pub stop_price: Option<Decimal>,
    /// Trailing amount.
    pub trail_amount: Option<Decimal>,
    /// Trailing percentage.
    pub trail_percent: Option<Decimal>,
    /// Time in force.
    pub time_in_force: TimeInForce,
    /// Outside regular trading hours.
    pub outside_rth: bool,
    /// Current state.
    pub status: OrderStatus,
    /// Filled so far.
    pub filled_qty: Decimal,
    /// Average fill price.
    pub filled_avg_price: Option<Decimal>,
    /// When Binder journaled it.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
    /// When the broker acknowledged it.
    pub submitted_at: Option<String>,
    /// When it completely filled.
    pub filled_at: Option<String>,
    /// When it was canceled.
    pub canceled_at: Option<String>,
    /// Child orders (brackets); empty for simple orders.
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub legs: Vec<OrderView>,
    /// The broker's order id.
    pub broker_order_id: i32,
    /// IB's permanent id, once known.
    pub perm_id: Option<i64>,
    /// Placed outside Binder (TWS or another API client) and adopted.
    pub external: bool,
    /// Why the broker or the risk checks refused it.
    pub reject_reason: Option<String>,
}

/// One order's outcome in a cancel-all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CancelOutcomeView {
    /// The order.
    pub id: String,
    /// HTTP-like status: 200 requested, 409 not cancelable, 500 failed.
    pub status: u16,
    /// Stable code when it failed.
    pub error_code: Option<String>,
}

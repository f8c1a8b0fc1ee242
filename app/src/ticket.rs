//! The order ticket's form: what the trader typed, turned into the same
//! [`OrderRequestInput`] the server parses, so the browser checks an order with exactly the
//! rules the server applies ([`OrderRequest::parse`]).

use crate::domain::order::{
    DecimalInput, FieldError, OrderRequest, OrderRequestInput, OrderType, Pricing, Side,
    TimeInForce,
};

/// The ticket's fields as typed (text fields unparsed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketForm {
    /// Ticker symbol.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// Quantity.
    pub qty: String,
    /// Order type.
    pub order_type: OrderType,
    /// Limit price (limit, stop limit).
    pub limit_price: String,
    /// Stop price (stop, stop limit).
    pub stop_price: String,
    /// Trailing amount (trailing stop).
    pub trail_amount: String,
    /// Trailing percentage (trailing stop).
    pub trail_percent: String,
    /// Time in force.
    pub time_in_force: TimeInForce,
    /// Allow filling outside regular trading hours.
    pub outside_rth: bool,
}

impl Default for TicketForm {
    fn default() -> Self {
        Self {
            symbol: String::new(),
            side: Side::Buy,
            qty: String::new(),
            order_type: OrderType::Market,
            limit_price: String::new(),
            stop_price: String::new(),
            trail_amount: String::new(),
            trail_percent: String::new(),
            time_in_force: TimeInForce::Day,
            outside_rth: false,
        }
    }
}

/// Which price fields an order type shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceFields {
    /// Limit price.
    pub limit: bool,
    /// Stop price.
    pub stop: bool,
    /// Trailing amount and percentage.
    pub trail: bool,
}

impl PriceFields {
    /// The fields `order_type` uses; the others are hidden and not sent.
    pub fn of(order_type: OrderType) -> Self {
        let (limit, stop, trail) = match order_type {
            OrderType::Market => (false, false, false),
            OrderType::Limit => (true, false, false),
            OrderType::Stop => (false, true, false),
            OrderType::StopLimit => (true, true, false),
            OrderType::TrailingStop => (false, false, true),
        };
        Self { limit, stop, trail }
    }
}

/// A text field as the request sends it: blank is absent, so the parser says "is required".
fn text(value: &str) -> Option<String> {
    let trimmed = value.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

fn decimal(value: &str, shown: bool) -> Option<DecimalInput> {
    if shown {
        text(value).map(DecimalInput::Text)
    } else {
        None
    }
}

impl TicketForm {
    /// The request as the server function receives it. Price fields the type does not use
    /// are left out, so switching type does not leave a stale price behind.
    pub fn input(&self) -> OrderRequestInput {
        let shown = PriceFields::of(self.order_type);
        OrderRequestInput {
            symbol: text(&self.symbol),
            side: Some(self.side.as_str().to_owned()),
            qty: text(&self.qty).map(DecimalInput::Text),
            order_type: Some(self.order_type.as_str().to_owned()),
            limit_price: decimal(&self.limit_price, shown.limit),
            stop_price: decimal(&self.stop_price, shown.stop),
            trail_amount: decimal(&self.trail_amount, shown.trail),
            trail_percent: decimal(&self.trail_percent, shown.trail),
            time_in_force: Some(self.time_in_force.as_str().to_owned()),
            outside_rth: Some(self.outside_rth),
            ..OrderRequestInput::default()
        }
    }

    /// Checks the ticket with the server's rules.
    pub fn check(&self) -> Result<OrderRequest, Vec<FieldError>> {
        OrderRequest::parse(&self.input())
    }
}

/// The short name traders read on blotters.
pub fn type_label(order_type: OrderType) -> &'static str {
    match order_type {
        OrderType::Market => "MKT",
        OrderType::Limit => "LMT",
        OrderType::Stop => "STP",
        OrderType::StopLimit => "STP LMT",
        OrderType::TrailingStop => "TRAIL",
    }
}

/// One line saying what will be sent, for the confirm step: `BUY 10 AAPL LMT 150.25 DAY`.
pub fn summary(request: &OrderRequest) -> String {
    let instrument = match request.instrument() {
        crate::domain::order::Instrument::Symbol(s) => s.as_str().to_owned(),
        crate::domain::order::Instrument::ConId(id) => format!("conId {id}"),
    };
    let pricing = match request.pricing() {
        Pricing::Market => "MKT".to_owned(),
        Pricing::Limit { limit } => format!("LMT {limit}"),
        Pricing::Stop { stop } => format!("STP {stop}"),
        Pricing::StopLimit { stop, limit } => format!("STP {stop} LMT {limit}"),
        Pricing::TrailAmount { amount } => format!("TRAIL {amount}"),
        Pricing::TrailPercent { percent } => format!("TRAIL {percent}%"),
    };
    let mut line = format!(
        "{} {} {} {} {}",
        request.side().as_str().to_uppercase(),
        request.qty(),
        instrument,
        pricing,
        request.time_in_force().as_str().to_uppercase(),
    );
    if request.outside_rth() {
        line.push_str(" outside RTH");
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(order_type: OrderType) -> TicketForm {
        TicketForm {
            symbol: " aapl ".to_owned(),
            qty: "10".to_owned(),
            order_type,
            ..TicketForm::default()
        }
    }

    fn fields(form: &TicketForm) -> Vec<String> {
        form.check()
            .expect_err("invalid")
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn a_market_ticket_is_a_valid_request() {
        let request = form(OrderType::Market).check().expect("valid");
        assert_eq!(summary(&request), "BUY 10 AAPL MKT DAY");
    }

    #[test]
    fn zero_and_blank_quantities_are_refused_by_the_shared_rules() {
        let mut f = form(OrderType::Market);
        f.qty = "0".to_owned();
        let errors = f.check().expect_err("invalid");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "qty");
        assert_eq!(errors[0].reason, "must be greater than zero");
        f.qty = "  ".to_owned();
        assert_eq!(fields(&f), ["qty"]);
        f.symbol.clear();
        assert_eq!(fields(&f), ["symbol", "qty"]);
    }

    #[test]
    fn hidden_price_fields_are_not_sent() {
        let mut f = form(OrderType::Market);
        f.limit_price = "150".to_owned();
        f.stop_price = "140".to_owned();
        let input = f.input();
        assert!(input.limit_price.is_none() && input.stop_price.is_none());
        assert!(f.check().is_ok());

        f.order_type = OrderType::StopLimit;
        f.side = Side::Sell;
        f.time_in_force = TimeInForce::Gtc;
        f.outside_rth = true;
        let request = f.check().expect("valid");
        assert_eq!(
            summary(&request),
            "SELL 10 AAPL STP 140 LMT 150 GTC outside RTH"
        );
    }

    #[test]
    fn each_type_asks_for_its_prices() {
        assert_eq!(fields(&form(OrderType::Limit)), ["limit_price"]);
        assert_eq!(fields(&form(OrderType::Stop)), ["stop_price"]);
        assert_eq!(fields(&form(OrderType::TrailingStop)), ["trail_amount"]);
        let mut f = form(OrderType::TrailingStop);
        f.trail_percent = "2.5".to_owned();
        assert_eq!(
            summary(&f.check().expect("valid")),
            "BUY 10 AAPL TRAIL 2.5% DAY"
        );
        f.trail_amount = "1".to_owned();
        assert_eq!(fields(&f), ["trail_amount"]);
        let mut f = form(OrderType::Limit);
        f.limit_price = "abc".to_owned();
        assert_eq!(fields(&f), ["limit_price"]);
    }

    #[test]
    fn the_input_survives_the_trip_to_the_server_function() {
        // The server function receives the input as JSON and parses it again.
        let mut f = form(OrderType::StopLimit);
        f.stop_price = "140.5".to_owned();
        f.limit_price = "141".to_owned();
        let json = serde_json::to_string(&f.input()).expect("serialise");
        let back: OrderRequestInput = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(OrderRequest::parse(&back), f.check());
    }

    #[test]
    fn each_type_shows_exactly_the_prices_it_uses() {
        assert_eq!(
            PriceFields::of(OrderType::StopLimit),
            PriceFields {
                limit: true,
                stop: true,
                trail: false
            }
        );
        assert_eq!(
            PriceFields::of(OrderType::Market),
            PriceFields {
                limit: false,
                stop: false,
                trail: false
            }
        );
    }
}

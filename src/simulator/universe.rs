//! The built-in instrument universe: liquid US stocks and ETFs the simulator can trade.

use rust_decimal::Decimal;

/// One tradable instrument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instrument {
    /// IB's contract id (the real one for these symbols, so logs look familiar).
    pub con_id: i32,
    /// Ticker symbol.
    pub symbol: &'static str,
    /// Primary listing exchange.
    pub primary_exchange: &'static str,
    /// Long name shown in contract details.
    pub long_name: &'static str,
    /// "STK" for everything here; ETFs are stocks to IB.
    pub stock_type: &'static str,
    /// Minimum price increment.
    pub tick_size: Decimal,
    /// Opening price of the random walk.
    pub start_price: Decimal,
}

impl Instrument {
    /// Whether `price` lies on this instrument's tick grid.
    pub fn on_tick(&self, price: Decimal) -> bool {
        (price % self.tick_size).is_zero()
    }
}

/// (conId, symbol, primary exchange, long name, stock type, start price in cents).
const TABLE: &[(i32, &str, &str, &str, &str, i64)] = &[
    (265598, "AAPL", "NASDAQ", "APPLE INC", "COMMON", 19_000),
    (272093, "MSFT", "NASDAQ", "MICROSOFT CORP", "COMMON", 42_000),
    (
        3691937,
        "AMZN",
        "NASDAQ",
        "AMAZON.COM INC",
        "COMMON",
        18_500,
    ),
    (
        208813720,
        "GOOGL",
        "NASDAQ",
        "ALPHABET INC-CL A",
        "COMMON",
        17_000,
    ),
    (
        107113386,
        "META",
        "NASDAQ",
        "META PLATFORMS INC-CLASS A",
        "COMMON",
        50_000,
    ),
    (4815747, "NVDA", "NASDAQ", "NVIDIA CORP", "COMMON", 12_000),
    (76792991, "TSLA", "NASDAQ", "TESLA INC", "COMMON", 25_000),
    (
        1520593,
        "JPM",
        "NYSE",
        "JPMORGAN CHASE & CO",
        "COMMON",
        20_000,
    ),
    (9408, "XOM", "NYSE", "EXXON MOBIL CORP", "COMMON", 11_500),
    (8894, "JNJ", "NYSE", "JOHNSON & JOHNSON", "COMMON", 15_500),
    (
        13096,
        "PG",
        "NYSE",
        "PROCTER & GAMBLE CO/THE",
        "COMMON",
        16_500,
    ),
    (
        49462172,
        "V",
        "NYSE",
        "VISA INC-CLASS A SHARES",
        "COMMON",
        27_500,
    ),
    (13435, "KO", "NYSE", "COCA-COLA CO/THE", "COMMON", 6_200),
    (12087792, "WMT", "NYSE", "WALMART INC", "COMMON", 6_800),
    (4661, "BAC", "NYSE", "BANK OF AMERICA CORP", "COMMON", 3_900),
    (270639, "INTC", "NASDAQ", "INTEL CORP", "COMMON", 3_100),
    (
        4391,
        "AMD",
        "NASDAQ",
        "ADVANCED MICRO DEVICES",
        "COMMON",
        16_000,
    ),
    (15124833, "NFLX", "NASDAQ", "NETFLIX INC", "COMMON", 62_000),
    (
        756733,
        "SPY",
        "ARCA",
        "SPDR S&P 500 ETF TRUST",
        "ETF",
        52_000,
    ),
    (
        320227571,
        "QQQ",
        "NASDAQ",
        "INVESCO QQQ TRUST SERIES 1",
        "ETF",
        44_000,
    ),
    (
        9579970,
        "IWM",
        "ARCA",
        "ISHARES RUSSELL 2000 ETF",
        "ETF",
        20_500,
    ),
    (15547841, "DIA", "ARCA", "SPDR DJIA TRUST", "ETF", 39_000),
    (51529211, "GLD", "ARCA", "SPDR GOLD SHARES", "ETF", 21_500),
    (
        15547816,
        "TLT",
        "NASDAQ",
        "ISHARES 20+ YEAR TREASURY BD",
        "ETF",
        9_200,
    ),
];

/// The fixed set of instruments, indexed by position.
#[derive(Debug, Clone)]
pub struct Universe {
    instruments: Vec<Instrument>,
}

impl Default for Universe {
    fn default() -> Self {
        let instruments = TABLE
            .iter()
            .map(
                |&(con_id, symbol, primary_exchange, long_name, stock_type, cents)| Instrument {
                    con_id,
                    symbol,
                    primary_exchange,
                    long_name,
                    stock_type,
                    tick_size: Decimal::new(1, 2),
                    start_price: Decimal::new(cents, 2),
                },
            )
            .collect();
        Self { instruments }
    }
}

impl Universe {
    /// All instruments, in a stable order (the index is the instrument's handle).
    pub fn all(&self) -> &[Instrument] {
        &self.instruments
    }

    /// The instrument at `index`.
    pub fn get(&self, index: usize) -> Option<&Instrument> {
        self.instruments.get(index)
    }

    /// Finds an instrument the way TWS resolves a request's contract: by conId when given,
    /// otherwise by symbol, with secType/currency/exchange checked when present.
    pub fn resolve(&self, query: &ContractQuery) -> Option<usize> {
        if query.con_id > 0 {
            return self
                .instruments
                .iter()
                .position(|i| i.con_id == query.con_id);
        }
        let sec_ok = query.sec_type.is_empty() || query.sec_type.eq_ignore_ascii_case("STK");
        let ccy_ok = query.currency.is_empty() || query.currency.eq_ignore_ascii_case("USD");
        if !sec_ok || !ccy_ok {
            return None;
        }
        let index = self
            .instruments
            .iter()
            .position(|i| i.symbol.eq_ignore_ascii_case(&query.symbol))?;
        let exchange_ok = query.exchange.is_empty()
            || query.exchange.eq_ignore_ascii_case("SMART")
            || query
                .exchange
                .eq_ignore_ascii_case(self.instruments[index].primary_exchange);
        exchange_ok.then_some(index)
    }
}

/// The identifying fields of a contract in a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContractQuery {
    /// 0 when absent.
    pub con_id: i32,
    /// Ticker symbol.
    pub symbol: String,
    /// "STK", or empty.
    pub sec_type: String,
    /// "SMART", a primary exchange, or empty.
    pub exchange: String,
    /// "USD", or empty.
    pub currency: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn universe_has_at_least_twenty_unique_instruments() {
        let universe = Universe::default();
        assert!(universe.all().len() >= 20);
        let mut ids: Vec<_> = universe.all().iter().map(|i| i.con_id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), universe.all().len());
    }

    #[test]
    fn resolves_by_symbol_and_con_id() {
        let universe = Universe::default();
        let by_symbol = ContractQuery {
            symbol: "aapl".into(),
            sec_type: "STK".into(),
            exchange: "SMART".into(),
            currency: "USD".into(),
            ..Default::default()
        };
        let index = universe
            .resolve(&by_symbol)
            .expect("AAPL is in the universe");
        let by_id = ContractQuery {
            con_id: universe.all()[index].con_id,
            ..Default::default()
        };
        assert_eq!(universe.resolve(&by_id), Some(index));
        let wrong = ContractQuery {
            symbol: "AAPL".into(),
            sec_type: "OPT".into(),
            ..Default::default()
        };
        assert_eq!(universe.resolve(&wrong), None);
    }
}

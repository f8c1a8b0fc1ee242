//! Quotes: a seeded, deterministic random walk per instrument, plus bar generation.
//!
//! Prices are kept as whole ticks so every quote lies on the instrument's tick grid, and
//! each instrument has its own RNG so the walk of one symbol does not depend on how many
//! others are quoted.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;

use super::codec::Bar;
use super::universe::Instrument;

/// The top of book and day statistics of one instrument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// Best bid.
    pub bid: Decimal,
    /// Best ask.
    pub ask: Decimal,
    /// Last trade.
    pub last: Decimal,
    /// Bid size (shares).
    pub bid_size: Decimal,
    /// Ask size (shares).
    pub ask_size: Decimal,
    /// Last trade size.
    pub last_size: Decimal,
    /// Day volume.
    pub volume: Decimal,
    /// Previous close (the walk's starting price).
    pub close: Decimal,
    /// Day open.
    pub open: Decimal,
    /// Day high.
    pub high: Decimal,
    /// Day low.
    pub low: Decimal,
}

impl Quote {
    /// The mid price, used as the mark for PnL and account values.
    pub fn mid(&self) -> Decimal {
        (self.bid + self.ask) / Decimal::TWO
    }
}

/// The random walk of one instrument.
#[derive(Debug, Clone)]
pub struct Walk {
    tick: Decimal,
    /// Bid in ticks.
    bid_ticks: i64,
    spread_ticks: i64,
    rng: SmallRng,
    quote: Quote,
}

impl Walk {
    /// A walk starting at the instrument's start price, seeded by `seed` and the instrument.
    pub fn new(instrument: &Instrument, seed: u64) -> Self {
        let rng = SmallRng::seed_from_u64(
            seed ^ (instrument.con_id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let tick = instrument.tick_size;
        let start_ticks = to_ticks(instrument.start_price, tick);
        let mut walk = Self {
            tick,
            bid_ticks: start_ticks,
            spread_ticks: 1,
            rng,
            quote: Quote {
                bid: Decimal::ZERO,
                ask: Decimal::ZERO,
                last: instrument.start_price,
                bid_size: Decimal::from(500),
                ask_size: Decimal::from(500),
                last_size: Decimal::from(100),
                volume: Decimal::ZERO,
                close: instrument.start_price,
                open: instrument.start_price,
                high: instrument.start_price,
                low: instrument.start_price,
            },
        };
        walk.refresh(false);
        walk
    }

    /// The current quote.
    pub fn quote(&self) -> &Quote {
        &self.quote
    }

    /// Advances one step: the bid moves by a few ticks, the spread is one or two ticks, and
    /// a trade prints at the bid or the ask.
    pub fn step(&mut self) {
        let max_move = (self.bid_ticks / 2000).clamp(1, 25);
        let delta = self.rng.random_range(-max_move..=max_move);
        self.bid_ticks = (self.bid_ticks + delta).max(1);
        self.spread_ticks = self.rng.random_range(1..=2);
        self.refresh(true);
    }

    /// Jumps the market: the bid to `price` (rounded to the tick grid), the ask one tick above.
    pub fn set_price(&mut self, price: Decimal) {
        let ticks = to_ticks(price, self.tick).max(1);
        self.spread_ticks = 1;
        self.bid_ticks = ticks;
        self.refresh(true);
    }

    /// Records a fill of `shares` at `price` in the day statistics.
    pub fn record_trade(&mut self, price: Decimal, shares: Decimal) {
        self.quote.last = price;
        self.quote.last_size = shares;
        self.quote.volume += shares;
        self.quote.high = self.quote.high.max(price);
        self.quote.low = self.quote.low.min(price);
    }

    fn refresh(&mut self, trade: bool) {
        let bid = Decimal::from(self.bid_ticks) * self.tick;
        let ask = Decimal::from(self.bid_ticks + self.spread_ticks) * self.tick;
        self.quote.bid = bid;
        self.quote.ask = ask;
        self.quote.bid_size = Decimal::from(self.rng.random_range(1..=20) * 100);
        self.quote.ask_size = Decimal::from(self.rng.random_range(1..=20) * 100);
        if trade {
            let price = if self.rng.random_bool(0.5) { bid } else { ask };
            let size = Decimal::from(self.rng.random_range(1..=5) * 100);
            self.record_trade(price, size);
        }
    }
}

fn to_ticks(price: Decimal, tick: Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    (price / tick).round().to_i64().unwrap_or(1)
}

/// Generates `count` bars of `seconds` each, ending with the bar that starts at `last_start`,
/// deterministically from the seed, the instrument and the bar layout.
pub fn bars(
    instrument: &Instrument,
    seed: u64,
    last_start: i64,
    seconds: i64,
    count: usize,
) -> Vec<Bar> {
    let mut rng = SmallRng::seed_from_u64(
        seed ^ (instrument.con_id as u64).rotate_left(17)
            ^ (seconds as u64).wrapping_mul(0x2545_F491_4F6C_DD1D),
    );
    let tick = instrument.tick_size;
    let mut price = to_ticks(instrument.start_price, tick);
    // Bars scale their moves with the bar length so daily bars move more than 5-second bars.
    let scale = ((seconds as f64).sqrt() as i64).clamp(1, 200);
    let first_start = last_start - seconds * (count as i64 - 1);
    (0..count)
        .map(|i| {
            let open = price;
            let mut high = open;
            let mut low = open;
            for _ in 0..4 {
                price = (price + rng.random_range(-scale..=scale)).max(1);
                high = high.max(price);
                low = low.min(price);
            }
            let volume = Decimal::from(rng.random_range(10..=500) * 100);
            let to_price = |t: i64| Decimal::from(t) * tick;
            let wap =
                ((to_price(high) + to_price(low) + to_price(price)) / Decimal::from(3)).round_dp(4);
            Bar {
                time: first_start + seconds * i as i64,
                open: to_price(open),
                high: to_price(high),
                low: to_price(low),
                close: to_price(price),
                volume,
                wap,
                count: rng.random_range(10..=400),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::universe::Universe;

    #[test]
    fn walk_is_deterministic_and_on_tick() {
        let universe = Universe::default();
        let instrument = &universe.all()[0];
        let mut a = Walk::new(instrument, 7);
        let mut b = Walk::new(instrument, 7);
        for _ in 0..1000 {
            a.step();
            b.step();
            assert_eq!(a.quote(), b.quote());
            assert!(instrument.on_tick(a.quote().bid) && instrument.on_tick(a.quote().ask));
            assert!(a.quote().bid < a.quote().ask);
        }
        let mut c = Walk::new(instrument, 8);
        c.step();
        let mut d = Walk::new(instrument, 7);
        d.step();
        assert_ne!(c.quote(), d.quote(), "another seed walks elsewhere");
    }

    #[test]
    fn bars_are_consistent() {
        let universe = Universe::default();
        let bars = bars(&universe.all()[1], 1, 1_700_000_000, 300, 50);
        assert_eq!(bars.len(), 50);
        assert_eq!(bars[49].time, 1_700_000_000);
        for bar in &bars {
            assert!(bar.low <= bar.open && bar.open <= bar.high);
            assert!(bar.low <= bar.close && bar.close <= bar.high);
        }
    }
}

//! `/positions`: holdings as the broker reports them, live, with a mark, market value and
//! unrealized PnL from quote snapshots.

use std::collections::HashMap;
use std::time::Duration;

use leptos::prelude::*;
use rust_decimal::Decimal;

use super::format::{dec, money};
use super::live::{REFRESH, every};
use crate::domain::position::PositionView;
use crate::domain::quote::Quote;
use crate::trading::{get_quote, list_positions};

/// Marks cost one market data snapshot per symbol, so they refresh less often than the table.
const MARK_REFRESH: Duration = Duration::from_secs(10);
/// Beyond this many positions no marks are fetched (each is a snapshot at the broker).
const MAX_MARKED: usize = 20;

/// The price a position is valued at: the last trade, else the bid/ask midpoint.
pub fn mark(quote: &Quote) -> Option<Decimal> {
    quote.last.or_else(|| {
        quote
            .bid
            .zip(quote.ask)
            .map(|(b, a)| (b + a) / Decimal::TWO)
    })
}

/// The positions page.
#[component]
pub fn PositionsPage() -> impl IntoView {
    let tick = every(REFRESH);
    let mark_tick = every(MARK_REFRESH);
    let positions = Resource::new(move || tick.get(), |_| list_positions());
    // Only a change in the set of symbols (or the slow tick) fetches marks again.
    let symbols = Memo::new(move |_| {
        let mut symbols: Vec<String> = positions
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.symbol)
            .collect();
        symbols.sort();
        symbols.dedup();
        symbols
    });
    // Fetched by an effect into a plain signal (browser only), so the rows render on the
    // server and a slow quote never holds the table back.
    let marks = RwSignal::new(HashMap::<String, Decimal>::new());
    Effect::new(move |_| {
        let symbols = symbols.get();
        mark_tick.track();
        if symbols.len() > MAX_MARKED {
            return;
        }
        leptos::task::spawn_local(async move {
            let mut fresh = HashMap::new();
            for symbol in symbols {
                if let Ok(q) = get_quote(symbol.clone()).await
                    && let Some(m) = mark(&q)
                {
                    fresh.insert(symbol, m);
                }
            }
            marks.try_set(fresh);
        });
    });
    let mark_of = move |symbol: &str| marks.with(|m| m.get(symbol).copied());
    let rows = move || positions.get().and_then(Result::ok).unwrap_or_default();

    view! {
        <h1>"Positions"</h1>
        <section class="panel">
            <div class="table-wrap">
                <table class="grid" data-testid="positions">
                    <thead>
                        <tr>
                            <th scope="col">"Account"</th>
                            <th scope="col">"Symbol"</th>
                            <th scope="col" class="num">"Qty"</th>
                            <th scope="col" class="num">"Avg cost"</th>
                            <th scope="col" class="num">"Mark"</th>
                            <th scope="col" class="num">"Market value"</th>
                            <th scope="col" class="num">"Unrealized PnL"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <Transition fallback=|| ()>
                            <For
                                each=rows
                                key=|p| (p.account.clone(), p.con_id, p.qty, p.avg_cost)
                                let:position
                            >
                                <PositionRow position mark_of />
                            </For>
                        </Transition>
                    </tbody>
                </table>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    positions
                        .get()
                        .and_then(|r| match r {
                            Err(f) => Some(
                                view! { <p class="error">"Could not load positions: " {f.message}</p> }
                                    .into_any(),
                            ),
                            Ok(list) if list.is_empty() => Some(
                                view! {
                                    <p class="muted empty" data-testid="positions-empty">
                                        "No positions."
                                    </p>
                                }
                                    .into_any(),
                            ),
                            Ok(_) => None,
                        })
                }}
            </Transition>
        </section>
    }
}

/// One holding; the valuation cells fill in when the mark arrives.
#[component]
fn PositionRow(
    position: PositionView,
    mark_of: impl Fn(&str) -> Option<Decimal> + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let symbol = position.symbol.clone();
    let valued = {
        let position = position.clone();
        move || mark_of(&symbol).map(|m| (m, position.market_value(m), position.unrealized_pnl(m)))
    };
    let valued = Signal::derive(valued);
    let pnl_tone = move || match valued.get() {
        Some((_, _, pnl)) if pnl > Decimal::ZERO => "num tone-text-good",
        Some((_, _, pnl)) if pnl < Decimal::ZERO => "num tone-text-bad",
        _ => "num",
    };
    let dash = || "—".to_owned();
    view! {
        <tr data-testid="position-row" data-symbol=position.symbol.clone()>
            <td class="mono">{position.account.clone()}</td>
            <td class="sym">{position.symbol.clone()}</td>
            <td
                class=if position.qty < Decimal::ZERO { "num side-text-sell" } else { "num" }
                data-testid="position-qty"
            >
                {dec(position.qty)}
            </td>
            <td class="num">{money(position.avg_cost)}</td>
            <td class="num" data-testid="position-mark">
                {move || valued.get().map_or_else(dash, |(m, _, _)| dec(m))}
            </td>
            <td class="num" data-testid="position-value">
                {move || valued.get().map_or_else(dash, |(_, v, _)| money(v))}
            </td>
            <td class=pnl_tone>{move || valued.get().map_or_else(dash, |(_, _, p)| money(p))}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mark_is_the_last_trade_else_the_midpoint() {
        let mut q = Quote {
            bid: Some(Decimal::from(100)),
            ask: Some(Decimal::from(101)),
            ..Quote::default()
        };
        assert_eq!(
            mark(&q),
            Some(Decimal::from_str_exact("100.5").expect("dec"))
        );
        q.last = Some(Decimal::from(99));
        assert_eq!(mark(&q), Some(Decimal::from(99)));
        assert_eq!(mark(&Quote::default()), None);
    }
}

//! A clock for live pages: a counter that the browser bumps on an interval, so resources
//! keyed on it re-fetch without a page reload. On the server it never moves.

use std::time::Duration;

use leptos::prelude::*;

/// How often live pages ask the server for fresh data.
pub const REFRESH: Duration = Duration::from_secs(2);

/// A counter that increases every `period` once the page is hydrated; the interval is
/// cleared when the component that asked for it goes away.
pub fn every(period: Duration) -> ReadSignal<u64> {
    let (tick, set_tick) = signal(0_u64);
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(move || set_tick.update(|t| *t += 1), period) {
            on_cleanup(move || handle.clear());
        }
    });
    tick
}

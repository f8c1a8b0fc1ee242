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

/// How often the orders page polls when its event stream is quiet (the stream pushes every
/// order and fill change; the poll only covers a stream that cannot connect).
pub const FALLBACK_REFRESH: Duration = Duration::from_secs(15);

/// A counter bumped whenever the server's event stream (`/api/v1/events`) reports an order or
/// fill change, so a page updates as soon as the journal records it rather than at the next
/// poll. The stream is closed when the component that asked for it goes away.
pub fn journal_events() -> ReadSignal<u64> {
    let (events, set_events) = signal(0_u64);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;
        let Ok(source) = web_sys::EventSource::new("/api/v1/events") else {
            return;
        };
        let bump = Closure::<dyn Fn(web_sys::Event)>::new(move |_: web_sys::Event| {
            set_events.update(|n| *n += 1);
        });
        for name in ["order", "fill"] {
            // Registration only fails for a closed source; the poll then keeps the page fresh.
            let _ = source.add_event_listener_with_callback(name, bump.as_ref().unchecked_ref());
        }
        // The browser is single-threaded; the wrapper only satisfies cleanup's Send bound.
        let held = send_wrapper::SendWrapper::new((source, bump));
        on_cleanup(move || held.0.close());
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = set_events;
    events
}

//! `/orders`: the order ticket, the blotter (live, filterable, with cancel and cancel-all)
//! and the latest fills.

use leptos::prelude::*;

use super::format::{clock, dec, filled, money, prices, status, status_tone};
use super::live::{FALLBACK_REFRESH, REFRESH, every, journal_events};
use crate::access::Role;
use crate::domain::failure::Failure;
use crate::domain::order::{FieldError, OrderStatus, OrderType, OrderView, Side, TimeInForce};
use crate::domain::quote::Quote;
use crate::server_fns::whoami;
use crate::ticket::{PriceFields, TicketForm, summary, type_label};
use crate::trading::{
    CancelAll, CancelOrder, OrderFilter, PlaceOrder, get_quote, list_fills, list_orders,
};

/// Whether the signed-in person may place and cancel orders; false until known.
fn trader_signal() -> Signal<bool> {
    let me = Resource::new(|| (), |()| whoami());
    Signal::derive(move || {
        me.get()
            .and_then(Result::ok)
            .is_some_and(|u| u.role.allows(Role::Trader))
    })
}

/// The order entry page.
#[component]
pub fn OrdersPage() -> impl IntoView {
    let tick = every(FALLBACK_REFRESH);
    // Bumped after the page's own actions and on every order or fill event the server pushes,
    // so the blotter shows changes at once.
    let bump = RwSignal::new(0_u64);
    let pushed = journal_events();
    Effect::new(move |_| {
        if pushed.get() > 0 {
            bump.update(|b| *b += 1);
        }
    });
    // The ticket's quote keeps its own, faster clock.
    let quote_tick = every(REFRESH);
    let can_trade = trader_signal();
    view! {
        <h1>"Orders"</h1>
        <div class="trade-layout">
            <section class="panel" aria-labelledby="ticket-title">
                <h2 id="ticket-title">"Order ticket"</h2>
                <Suspense fallback=|| ()>
                    {move || {
                        if can_trade.get() {
                            view! { <Ticket tick=quote_tick bump /> }.into_any()
                        } else {
                            view! {
                                <p class="muted" data-testid="ticket-readonly">
                                    "Your role can read orders but not place them."
                                </p>
                            }
                                .into_any()
                        }
                    }}
                </Suspense>
            </section>
            <div class="stack">
                <Blotter tick bump can_trade />
                <Fills tick bump />
            </div>
        </div>
    }
}

/// The reason for `field`, if the last check found it at fault.
fn reason(errors: RwSignal<Vec<FieldError>>, field: &'static str) -> Option<String> {
    errors.with(|all| {
        all.iter()
            .find(|e| e.field == field)
            .map(|e| e.reason.clone())
    })
}

/// The message under a field, when it is at fault.
#[component]
fn FieldNote(errors: RwSignal<Vec<FieldError>>, field: &'static str) -> impl IntoView {
    move || {
        reason(errors, field).map(|r| {
            view! {
                <span class="field-error" id=format!("err-{field}") data-testid=format!("error-{field}")>
                    {r}
                </span>
            }
        })
    }
}

/// Human names of the order types, for the select.
fn type_name(order_type: OrderType) -> &'static str {
    match order_type {
        OrderType::Market => "Market",
        OrderType::Limit => "Limit",
        OrderType::Stop => "Stop",
        OrderType::StopLimit => "Stop limit",
        OrderType::TrailingStop => "Trailing stop",
    }
}

/// The order ticket: checks in the browser with the server's rules, shows the quote, asks
/// for confirmation, sends, and shows what the broker said.
#[component]
fn Ticket(tick: ReadSignal<u64>, bump: RwSignal<u64>) -> impl IntoView {
    let form = RwSignal::new(TicketForm::default());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    // The one-line summary awaiting confirmation; any edit withdraws it.
    let confirm = RwSignal::new(None::<String>);
    let place = ServerAction::<PlaceOrder>::new();
    // Set once the browser runs the ticket: before that a click would do nothing useful.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));

    let edit = move |apply: Box<dyn FnOnce(&mut TicketForm)>| {
        form.update(|f| apply(f));
        confirm.set(None);
    };

    // The quote follows the symbol once it is committed (change, not every keystroke). It is
    // fetched by an effect into a plain signal, not a resource: the ticket sits inside a
    // Suspense, which must not fall back (and lose the form) each time the quote refreshes.
    let quote_symbol = RwSignal::new(String::new());
    let quote = RwSignal::new(None::<Result<Quote, Failure>>);
    Effect::new(move |_| {
        let symbol = quote_symbol.get();
        tick.track();
        if symbol.is_empty() {
            quote.set(None);
            return;
        }
        leptos::task::spawn_local(async move {
            let answer = get_quote(symbol.clone()).await;
            // A late answer for a symbol no longer in the ticket is dropped.
            if quote_symbol.try_get_untracked().as_deref() == Some(symbol.as_str()) {
                quote.try_set(Some(answer));
            }
        });
    });

    // The server's field errors replace the browser's; a placed order refreshes the blotter.
    Effect::new(move |_| match place.value().get() {
        Some(Err(failure)) if !failure.fields.is_empty() => errors.set(failure.fields),
        Some(Ok(_)) => bump.update(|b| *b += 1),
        _ => {}
    });

    let review = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let current = form.get_untracked();
        quote_symbol.set(current.symbol.trim().to_ascii_uppercase());
        match current.check() {
            Ok(request) => {
                errors.set(Vec::new());
                confirm.set(Some(summary(&request)));
            }
            Err(found) => {
                errors.set(found);
                confirm.set(None);
            }
        }
    };
    let send = move |_| {
        let order = form.get_untracked().input();
        confirm.set(None);
        place.dispatch(PlaceOrder { order });
    };
    let shown = move || form.with(|f| PriceFields::of(f.order_type));
    let invalid = move |field: &'static str| reason(errors, field).is_some().to_string();
    let side_button = move |side: Side, label: &'static str| {
        view! {
            <button
                type="button"
                class=format!("side side-{}", side.as_str())
                aria-pressed=move || form.with(|f| f.side == side).to_string()
                on:click=move |_| edit(Box::new(move |f| f.side = side))
            >
                {label}
            </button>
        }
    };

    view! {
        <form
            class="ticket"
            data-testid="ticket"
            data-ready=move || ready.get().to_string()
            on:submit=review
            novalidate
        >
            <div class="field">
                <label for="t-symbol">"Symbol"</label>
                <input
                    id="t-symbol"
                    type="text"
                    autocomplete="off"
                    spellcheck="false"
                    class="upper"
                    aria-invalid=move || invalid("symbol")
                    prop:value=move || form.with(|f| f.symbol.clone())
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        edit(Box::new(move |f| f.symbol = v));
                    }
                    on:change=move |ev| {
                        quote_symbol.set(event_target_value(&ev).trim().to_ascii_uppercase());
                    }
                />
                <FieldNote errors field="symbol" />
            </div>
            <QuoteLine quote />
            <div class="field">
                <span class="label" id="t-side-label">"Side"</span>
                <div class="toggle" role="group" aria-labelledby="t-side-label">
                    {side_button(Side::Buy, "Buy")}
                    {side_button(Side::Sell, "Sell")}
                </div>
                <FieldNote errors field="side" />
            </div>
            <div class="field">
                <label for="t-qty">"Quantity"</label>
                <input
                    id="t-qty"
                    type="text"
                    inputmode="decimal"
                    autocomplete="off"
                    class="num"
                    aria-invalid=move || invalid("qty")
                    prop:value=move || form.with(|f| f.qty.clone())
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        edit(Box::new(move |f| f.qty = v));
                    }
                />
                <FieldNote errors field="qty" />
            </div>
            <div class="field">
                <label for="t-type">"Type"</label>
                <select
                    id="t-type"
                    aria-invalid=move || invalid("type")
                    on:change=move |ev| {
                        if let Ok(t) = event_target_value(&ev).parse::<OrderType>() {
                            edit(Box::new(move |f| f.order_type = t));
                        }
                    }
                >
                    {OrderType::ALL
                        .iter()
                        .map(|t| {
                            let t = *t;
                            view! {
                                <option
                                    value=t.as_str()
                                    selected=move || form.with(|f| f.order_type == t)
                                >
                                    {type_name(t)}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
                <FieldNote errors field="type" />
            </div>
            <Show when=move || shown().stop>
                <div class="field">
                    <label for="t-stop">"Stop price"</label>
                    <input
                        id="t-stop"
                        type="text"
                        inputmode="decimal"
                        autocomplete="off"
                        class="num"
                        aria-invalid=move || invalid("stop_price")
                        prop:value=move || form.with(|f| f.stop_price.clone())
                        on:input=move |ev| {
                            let v = event_target_value(&ev);
                            edit(Box::new(move |f| f.stop_price = v));
                        }
                    />
                    <FieldNote errors field="stop_price" />
                </div>
            </Show>
            <Show when=move || shown().limit>
                <div class="field">
                    <label for="t-limit">"Limit price"</label>
                    <input
                        id="t-limit"
                        type="text"
                        inputmode="decimal"
                        autocomplete="off"
                        class="num"
                        aria-invalid=move || invalid("limit_price")
                        prop:value=move || form.with(|f| f.limit_price.clone())
                        on:input=move |ev| {
                            let v = event_target_value(&ev);
                            edit(Box::new(move |f| f.limit_price = v));
                        }
                    />
                    <FieldNote errors field="limit_price" />
                </div>
            </Show>
            <Show when=move || shown().trail>
                <div class="field-row">
                    <div class="field">
                        <label for="t-trail-amount">"Trail amount"</label>
                        <input
                            id="t-trail-amount"
                            type="text"
                            inputmode="decimal"
                            autocomplete="off"
                            class="num"
                            aria-invalid=move || invalid("trail_amount")
                            prop:value=move || form.with(|f| f.trail_amount.clone())
                            on:input=move |ev| {
                                let v = event_target_value(&ev);
                                edit(Box::new(move |f| f.trail_amount = v));
                            }
                        />
                        <FieldNote errors field="trail_amount" />
                    </div>
                    <div class="field">
                        <label for="t-trail-percent">"or trail %"</label>
                        <input
                            id="t-trail-percent"
                            type="text"
                            inputmode="decimal"
                            autocomplete="off"
                            class="num"
                            aria-invalid=move || invalid("trail_percent")
                            prop:value=move || form.with(|f| f.trail_percent.clone())
                            on:input=move |ev| {
                                let v = event_target_value(&ev);
                                edit(Box::new(move |f| f.trail_percent = v));
                            }
                        />
                        <FieldNote errors field="trail_percent" />
                    </div>
                </div>
            </Show>
            <div class="field-row">
                <div class="field">
                    <label for="t-tif">"Time in force"</label>
                    <select
                        id="t-tif"
                        on:change=move |ev| {
                            if let Ok(t) = event_target_value(&ev).parse::<TimeInForce>() {
                                edit(Box::new(move |f| f.time_in_force = t));
                            }
                        }
                    >
                        {TimeInForce::ALL
                            .iter()
                            .map(|t| {
                                let t = *t;
                                view! {
                                    <option
                                        value=t.as_str()
                                        selected=move || form.with(|f| f.time_in_force == t)
                                    >
                                        {t.as_str().to_uppercase()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                    <FieldNote errors field="time_in_force" />
                </div>
                <label class="check">
                    <input
                        type="checkbox"
                        prop:checked=move || form.with(|f| f.outside_rth)
                        on:change=move |ev| {
                            let v = event_target_checked(&ev);
                            edit(Box::new(move |f| f.outside_rth = v));
                        }
                    />
                    "Outside RTH"
                </label>
            </div>
            {move || {
                errors
                    .with(|all| {
                        all.iter()
                            .filter(|e| !matches!(
                                e.field.as_str(),
                                "symbol" | "side" | "qty" | "type" | "limit_price" | "stop_price"
                                    | "trail_amount" | "trail_percent" | "time_in_force"
                            ))
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                    })
                    .into_iter()
                    .map(|line| view! { <p class="field-error">{line}</p> })
                    .collect_view()
            }}
            <Show
                when=move || confirm.with(Option::is_some)
                fallback=move || {
                    view! {
                        <button type="submit" class="primary" disabled=move || place.pending().get()>
                            "Review order"
                        </button>
                    }
                }
            >
                <div class="confirm" role="group" aria-label="Confirm order" data-testid="ticket-confirm">
                    <p class="summary" data-testid="ticket-summary">
                        {move || confirm.get().unwrap_or_default()}
                    </p>
                    <div class="actions">
                        <button
                            type="button"
                            class=move || format!("primary send-{}", form.with(|f| f.side.as_str()))
                            on:click=send
                        >
                            "Send order"
                        </button>
                        <button type="button" on:click=move |_| confirm.set(None)>
                            "Edit"
                        </button>
                    </div>
                </div>
            </Show>
            <PlaceResult place />
        </form>
    }
}

/// Bid, ask and last of the ticket's symbol.
#[component]
fn QuoteLine(quote: RwSignal<Option<Result<Quote, Failure>>>) -> impl IntoView {
    let cell = |label: &'static str, id: &'static str, value: Option<rust_decimal::Decimal>| {
        view! {
            <span class="quote-cell">
                <span class="quote-label">{label}</span>
                <span class="num" data-testid=id>{super::format::opt_dec(value)}</span>
            </span>
        }
    };
    move || {
        quote.get().map(|q| match q {
            Ok(q) => view! {
                <div class="quote" data-testid="ticket-quote">
                    {cell("Bid", "quote-bid", q.bid)}
                    {cell("Ask", "quote-ask", q.ask)}
                    {cell("Last", "quote-last", q.last)}
                </div>
            }
            .into_any(),
            Err(f) => {
                view! { <p class="quote muted small">"No quote: " {f.message}</p> }.into_any()
            }
        })
    }
}

/// What became of the last order sent.
#[component]
fn PlaceResult(place: ServerAction<PlaceOrder>) -> impl IntoView {
    move || {
        if place.pending().get() {
            return Some(view! { <p class="result muted" role="status">"Sending…"</p> }.into_any());
        }
        place.value().get().map(|result| match result {
            Ok(order) => {
                let (tone, text) = placed_text(&order);
                view! {
                    <p
                        class=format!("result tone-text-{tone}")
                        role="status"
                        data-testid="ticket-result"
                        data-status=order.status.as_str()
                        data-order-id=order.id.clone()
                    >
                        {text}
                    </p>
                }
                .into_any()
            }
            Err(failure) => view! {
                <p class="result tone-text-bad" role="alert" data-testid="ticket-result" data-status="error">
                    {failure.message}
                </p>
            }
            .into_any(),
        })
    }
}

/// The sentence and tone for an order the server answered with.
fn placed_text(order: &OrderView) -> (&'static str, String) {
    let what = format!(
        "{} {} {}",
        order.side.as_str().to_uppercase(),
        dec(order.qty),
        order.symbol
    );
    match order.status {
        OrderStatus::Filled => ("good", format!("Filled: {what} @ {}", filled_price(order))),
        OrderStatus::Rejected | OrderStatus::Denied => (
            "bad",
            format!(
                "Rejected: {what}. {}",
                order.reject_reason.clone().unwrap_or_default()
            ),
        ),
        OrderStatus::PendingNew => ("warn", format!("Sent, awaiting the broker: {what}")),
        other => ("good", format!("Accepted ({}): {what}", status(other))),
    }
}

fn filled_price(order: &OrderView) -> String {
    order.filled_avg_price.map_or_else(|| "—".to_owned(), dec)
}

/// The blotter: filter tabs, cancel-all with a confirm step, and the orders, live.
#[component]
fn Blotter(tick: ReadSignal<u64>, bump: RwSignal<u64>, can_trade: Signal<bool>) -> impl IntoView {
    let filter = RwSignal::new(OrderFilter::Open);
    let orders = Resource::new(
        move || (filter.get(), tick.get(), bump.get()),
        |(f, _, _)| list_orders(f),
    );
    let cancel = ServerAction::<CancelOrder>::new();
    let cancel_all = ServerAction::<CancelAll>::new();
    let confirming = RwSignal::new(false);
    Effect::new(move |_| {
        // Read both, so both stay tracked.
        let (one, all) = (cancel.value().get(), cancel_all.value().get());
        if one.is_some() || all.is_some() {
            bump.update(|b| *b += 1);
        }
    });
    let rows = move || orders.get().and_then(Result::ok).unwrap_or_default();

    view! {
        <section class="panel" aria-labelledby="blotter-title">
            <div class="panel-head">
                <h2 id="blotter-title">"Blotter"</h2>
                <div class="tabs" role="tablist" aria-label="Which orders">
                    {OrderFilter::ALL
                        .iter()
                        .map(|f| {
                            let f = *f;
                            view! {
                                <button
                                    type="button"
                                    role="tab"
                                    data-testid=format!("filter-{}", f.label().to_lowercase())
                                    aria-selected=move || (filter.get() == f).to_string()
                                    on:click=move |_| filter.set(f)
                                >
                                    {f.label()}
                                </button>
                            }
                        })
                        .collect_view()}
                </div>
                <Suspense fallback=|| ()>
                    <Show when=move || can_trade.get()>
                        <Show
                            when=move || confirming.get()
                            fallback=move || {
                                view! {
                                    <button
                                        type="button"
                                        class="danger-quiet"
                                        data-testid="cancel-all"
                                        on:click=move |_| confirming.set(true)
                                    >
                                        "Cancel all"
                                    </button>
                                }
                            }
                        >
                            <span class="confirm-inline" role="group" aria-label="Confirm cancel all">
                                "Cancel every open order?"
                                <button
                                    type="button"
                                    class="danger"
                                    data-testid="cancel-all-confirm"
                                    on:click=move |_| {
                                        confirming.set(false);
                                        cancel_all.dispatch(CancelAll {});
                                    }
                                >
                                    "Yes, cancel all"
                                </button>
                                <button type="button" on:click=move |_| confirming.set(false)>
                                    "Keep"
                                </button>
                            </span>
                        </Show>
                    </Show>
                </Suspense>
            </div>
            {move || {
                cancel_all
                    .value()
                    .get()
                    .map(|r| match r {
                        Ok(outcomes) => {
                            let asked = outcomes.iter().filter(|o| o.status == 200).count();
                            let text = format!(
                                "Cancel requested for {asked} of {} open orders.",
                                outcomes.len()
                            );
                            view! { <p class="note" role="status">{text}</p> }.into_any()
                        }
                        Err(f) => view! { <p class="error" role="alert">{f.message}</p> }.into_any(),
                    })
            }}
            {move || {
                cancel
                    .value()
                    .get()
                    .and_then(Result::err)
                    .map(|f| view! { <p class="error" role="alert">"Cancel failed: " {f.message}</p> })
            }}
            <div class="table-wrap">
                <table class="grid" data-testid="blotter">
                    <thead>
                        <tr>
                            <th scope="col">"Time"</th>
                            <th scope="col">"Symbol"</th>
                            <th scope="col">"Side"</th>
                            <th scope="col" class="num">"Qty"</th>
                            <th scope="col">"Type"</th>
                            <th scope="col" class="num">"Limit / stop"</th>
                            <th scope="col">"TIF"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col" class="num">"Filled @ avg"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        <Transition fallback=|| ()>
                            <For
                                each=rows
                                key=|o| (o.id.clone(), o.updated_at.clone(), o.status)
                                let:order
                            >
                                <OrderRow order can_trade cancel />
                            </For>
                        </Transition>
                    </tbody>
                </table>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    orders
                        .get()
                        .and_then(|r| match r {
                            Err(f) => Some(
                                view! { <p class="error">"Could not load orders: " {f.message}</p> }
                                    .into_any(),
                            ),
                            Ok(list) if list.is_empty() => Some(
                                view! {
                                    <p class="muted empty" data-testid="blotter-empty">
                                        {match filter.get_untracked() {
                                            OrderFilter::Open => "No open orders.",
                                            OrderFilter::Closed => "No closed orders.",
                                            OrderFilter::All => "No orders yet.",
                                        }}
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

/// One blotter row.
#[component]
fn OrderRow(
    order: OrderView,
    can_trade: Signal<bool>,
    cancel: ServerAction<CancelOrder>,
) -> impl IntoView {
    // The desk's own rule for what may be canceled, so the button never offers a 409.
    let open = order.status.can_become(OrderStatus::PendingCancel);
    let id = order.id.clone();
    let side = order.side.as_str();
    view! {
        <tr
            data-testid="order-row"
            data-order-id=order.id.clone()
            data-symbol=order.symbol.clone()
            data-status=order.status.as_str()
        >
            <td class="mono" title=order.created_at.clone()>{clock(&order.created_at)}</td>
            <td class="sym">{order.symbol.clone()}</td>
            <td class=format!("side-text-{side}")>{side.to_uppercase()}</td>
            <td class="num">{dec(order.qty)}</td>
            <td>{type_label(order.order_type)}</td>
            <td class="num">{prices(&order)}</td>
            <td>{order.time_in_force.as_str().to_uppercase()}</td>
            <td>
                <span
                    class=format!("status status-{}", status_tone(order.status))
                    data-testid="order-status"
                    title=order.reject_reason.clone().unwrap_or_default()
                >
                    {status(order.status)}
                </span>
            </td>
            <td class="num" data-testid="order-filled">{filled(&order)}</td>
            <td class="actions">
                <Show when=move || open && can_trade.get()>
                    {
                        let id = id.clone();
                        view! {
                            <button
                                type="button"
                                class="danger-quiet small"
                                data-testid="order-cancel"
                                disabled=move || cancel.pending().get()
                                on:click=move |_| {
                                    cancel.dispatch(CancelOrder { id: id.clone() });
                                }
                            >
                                "Cancel"
                            </button>
                        }
                    }
                </Show>
            </td>
        </tr>
    }
}

/// The latest executions.
#[component]
fn Fills(tick: ReadSignal<u64>, bump: RwSignal<u64>) -> impl IntoView {
    let fills = Resource::new(move || (tick.get(), bump.get()), |_| list_fills());
    let rows = move || fills.get().and_then(Result::ok).unwrap_or_default();
    view! {
        <section class="panel" aria-labelledby="fills-title">
            <div class="panel-head">
                <h2 id="fills-title">"Fills"</h2>
            </div>
            <div class="table-wrap">
                <table class="grid" data-testid="fills">
                    <thead>
                        <tr>
                            <th scope="col">"Time"</th>
                            <th scope="col">"Symbol"</th>
                            <th scope="col">"Side"</th>
                            <th scope="col" class="num">"Qty"</th>
                            <th scope="col" class="num">"Price"</th>
                            <th scope="col" class="num">"Commission"</th>
                            <th scope="col" class="num">"Realized PnL"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <Transition fallback=|| ()>
                            <For each=rows key=|f| f.exec_id.clone() let:fill>
                                <tr data-testid="fill-row">
                                    <td class="mono" title=fill.executed_at.clone()>
                                        {clock(&fill.executed_at)}
                                    </td>
                                    <td class="sym">{fill.symbol.clone()}</td>
                                    <td class=format!("side-text-{}", fill.side)>
                                        {fill.side.to_uppercase()}
                                    </td>
                                    <td class="num">{dec(fill.qty)}</td>
                                    <td class="num">{dec(fill.price)}</td>
                                    <td class="num">{fill.commission.map_or_else(|| "—".to_owned(), money)}</td>
                                    <td class="num">{fill.realized_pnl.map_or_else(|| "—".to_owned(), money)}</td>
                                </tr>
                            </For>
                        </Transition>
                    </tbody>
                </table>
            </div>
            <Transition fallback=|| ()>
                {move || {
                    fills
                        .get()
                        .and_then(|r| match r {
                            Err(f) => Some(
                                view! { <p class="error">"Could not load fills: " {f.message}</p> }
                                    .into_any(),
                            ),
                            Ok(list) if list.is_empty() => {
                                Some(view! { <p class="muted empty">"No fills yet."</p> }.into_any())
                            }
                            Ok(_) => None,
                        })
                }}
            </Transition>
        </section>
    }
}

//! The dashboard and the status page: the health report (and, on the dashboard, open orders
//! and positions), refreshed live.

use leptos::prelude::*;

use super::live::{REFRESH, every};
use crate::domain::{HealthReport, HealthStatus};
use crate::server_fns::get_health;
use crate::trading::{OrderFilter, list_orders, list_positions};

/// A health report that re-fetches itself every [`REFRESH`] once hydrated.
///
/// The first fetch is rendered on the server; the browser then bumps the tick, which re-runs
/// the resource without a page reload.
fn live_health(tick: ReadSignal<u64>) -> Resource<Result<HealthReport, ServerFnError>> {
    Resource::new(move || tick.get(), |_| get_health())
}

/// The home page: a summary of the system's state.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let tick = every(REFRESH);
    let health = live_health(tick);
    view! {
        <h1>"Dashboard"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || health.get().map(|r| match r {
                Ok(report) => view! { <Summary report /> }.into_any(),
                Err(err) => view! { <ErrorNote err /> }.into_any(),
            })}
        </Transition>
        <TradingSummary tick />
    }
}

/// Open orders and positions at a glance (plain cards: the navigation links to their pages).
#[component]
fn TradingSummary(tick: ReadSignal<u64>) -> impl IntoView {
    let orders = Resource::new(move || tick.get(), |_| list_orders(OrderFilter::Open));
    let positions = Resource::new(move || tick.get(), |_| list_positions());
    let count = |n: Option<usize>| n.map_or_else(|| "—".to_owned(), |n| n.to_string());
    view! {
        <section class="cards summary-cards">
            <Transition fallback=|| ()>
                <div class="card" data-testid="summary-open-orders">
                    <div class="card-label">"Open orders"</div>
                    <div class="card-value">
                        {move || count(orders.get().and_then(Result::ok).map(|l| l.len()))}
                    </div>
                </div>
                <div class="card" data-testid="summary-positions">
                    <div class="card-label">"Positions"</div>
                    <div class="card-value">
                        {move || count(positions.get().and_then(Result::ok).map(|l| l.len()))}
                    </div>
                </div>
            </Transition>
        </section>
    }
}

/// The status page: every field of `/health`, live.
#[component]
pub fn StatusPage() -> impl IntoView {
    let health = live_health(every(REFRESH));
    view! {
        <h1>"Status"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || health.get().map(|r| match r {
                Ok(report) => view! { <HealthTable report /> }.into_any(),
                Err(err) => view! { <ErrorNote err /> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Summary(report: HealthReport) -> impl IntoView {
    let mode = report.trading_mode.to_uppercase();
    view! {
        <section class="cards">
            <Card label="System" value=report.status.as_str().to_owned() tone=tone(report.status) />
            <Card
                label="Broker"
                value=format!("{} ({})", report.broker_state.as_str(), report.broker)
                tone=if report.broker_state.is_connected() { "good" } else { "bad" }
            />
            <Card label="Trading mode" value=mode tone=if report.trading_mode == "live" { "warn" } else { "good" } />
            <Card label="Journal" value=up_down(report.db_connected) tone=good_bad(report.db_connected) />
            <Card label="Cache" value=up_down(report.redis_connected) tone=good_bad(report.redis_connected) />
        </section>
        <p class="muted small">
            "Updated " <time data-testid="checked-at">{report.checked_at}</time>
        </p>
    }
}

#[component]
fn Card(label: &'static str, value: String, tone: &'static str) -> impl IntoView {
    view! {
        <div class=format!("card tone-{tone}")>
            <div class="card-label">{label}</div>
            <div class="card-value">{value}</div>
        </div>
    }
}

#[component]
fn HealthTable(report: HealthReport) -> impl IntoView {
    let rows: Vec<(&'static str, String)> = vec![
        ("status", report.status.as_str().to_owned()),
        ("broker_state", report.broker_state.as_str().to_owned()),
        (
            "ib_gateway_connected",
            report.ib_gateway_connected.to_string(),
        ),
        ("db_connected", report.db_connected.to_string()),
        ("redis_connected", report.redis_connected.to_string()),
        ("broker", report.broker.clone()),
        ("trading_mode", report.trading_mode.clone()),
        ("version", report.version.clone()),
        ("uptime_seconds", report.uptime_seconds.to_string()),
        ("checked_at", report.checked_at.clone()),
    ];
    view! {
        <table class="kv" data-testid="health-table">
            <tbody>
                {rows
                    .into_iter()
                    .map(|(key, value)| {
                        view! {
                            <tr>
                                <th scope="row">{key}</th>
                                <td data-testid=key>{value}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn ErrorNote(err: ServerFnError) -> impl IntoView {
    view! { <p class="error">"Could not load the status: " {err.to_string()}</p> }
}

fn tone(status: HealthStatus) -> &'static str {
    match status {
        HealthStatus::Ok => "good",
        HealthStatus::Degraded => "warn",
        HealthStatus::Down => "bad",
    }
}

fn up_down(up: bool) -> String {
    if up { "up" } else { "down" }.to_owned()
}

fn good_bad(up: bool) -> &'static str {
    if up { "good" } else { "bad" }
}

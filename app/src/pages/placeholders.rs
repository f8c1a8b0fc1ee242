//! Pages whose use cases arrive with later work: they render their empty state honestly.

use leptos::prelude::*;

/// Admin: users, tokens, risk limits and the kill switch.
#[component]
pub fn AdminPage() -> impl IntoView {
    view! {
        <h1>"Admin"</h1>
        <p class="muted">"User, risk and kill-switch administration is not available in this build yet."</p>
    }
}

/// Any path the router does not know.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <h1>"Not found"</h1>
        <p class="muted">"There is no page at this address. " <a href="/">"Go to the dashboard"</a></p>
    }
}

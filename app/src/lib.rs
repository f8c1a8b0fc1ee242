//! Binder's Leptos application, shared by the server (feature `ssr`) and the browser
//! (feature `hydrate`): domain types, the port the server implements, pages and server functions.
//!
//! This crate does no I/O of its own. Its server functions take the [`ports::Desk`] from
//! Leptos context and call it, so the UI and the REST API share one use-case layer.

pub mod access;
pub mod csp;
pub mod domain;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ports;
pub mod server_fns;
pub mod ticket;
pub mod trading;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

use crate::pages::{
    AdminPage, DashboardPage, LoginPage, NotFoundPage, OrdersPage, PositionsPage, StatusPage,
    UserBadge,
};

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    csp::provide_page_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.ico" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: layout, navigation and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/binder.css" />
        <Title text="Binder" />
        <Router>
            <header class="topbar">
                <a class="brand" href="/">
                    "Binder"
                </a>
                <nav class="nav" aria-label="Main">
                    <A href="/" exact=true>
                        "Dashboard"
                    </A>
                    <A href="/orders">"Orders"</A>
                    <A href="/positions">"Positions"</A>
                    <A href="/admin">"Admin"</A>
                    <A href="/status">"Status"</A>
                </nav>
                <UserBadge />
            </header>
            <main class="content">
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=DashboardPage />
                    <Route path=path!("/orders") view=OrdersPage />
                    <Route path=path!("/positions") view=PositionsPage />
                    <Route path=path!("/admin") view=AdminPage />
                    <Route path=path!("/status") view=StatusPage />
                    <Route path=path!("/login") view=LoginPage />
                </Routes>
            </main>
        </Router>
    }
}

/// Browser entry point: attaches the app to the server-rendered HTML.
#[cfg(feature = "hydrate")]
pub fn hydrate() {
    leptos::mount::hydrate_body(App);
}

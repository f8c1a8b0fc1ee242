//! The HTTP edge: routes, extractors, the error envelope and the layers every request passes.

pub mod audit;
pub mod auth;
mod desk_error;
pub mod error;
pub mod events;
pub mod health;
pub mod idempotency;
pub mod json;
pub mod openapi;
pub mod orders;
pub mod quotes;
pub mod tokens;
pub mod users;

use std::any::Any;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::HandlerWithoutStateExt;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;

use crate::auth::routes::Routes;
use crate::config::Settings;
use crate::state::AppState;
use crate::telemetry;
use error::{AppError, ErrorCode};

/// Every REST route with its access, from one registry: the router is built from it, and the
/// route-table test reads it, so no route exists without a declared role.
pub fn route_table(settings: &Settings) -> Routes {
    Routes::new()
        .merge(health::routes(settings))
        .merge(auth::routes())
        .merge(users::routes())
        .merge(tokens::routes())
        .merge(audit::routes())
        .merge(orders::routes())
        .merge(quotes::routes())
        .merge(events::routes())
        .merge(openapi::routes())
}

/// The whole application: health and metrics, the API, the UI and its server functions,
/// static files, behind the edge layers.
pub fn app(state: AppState) -> Router {
    let desk: app::ports::SharedDesk = state.desk.clone();
    let sessions: app::ports::SharedSessions = state.auth.clone();
    let provide = move || {
        leptos::prelude::provide_context(Arc::clone(&desk));
        leptos::prelude::provide_context(Arc::clone(&sessions));
    };
    let leptos_options = state.leptos.clone();
    let pages = generate_route_list(app::App);
    let static_files = ServeDir::new(state.settings.site_root.as_str())
        .not_found_service(not_found.into_service());
    // Pages and server functions pass the UI gate: a session for pages (else a redirect to
    // the login page), the declared role for each server function.
    let ui = Router::new()
        .leptos_routes_with_context(&state, pages, provide, move || {
            app::shell(leptos_options.clone())
        })
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::edge::ui_gate,
        ));
    // `Idempotency-Key` wraps only the REST routes (the layer covers the routes added so far).
    let routes = route_table(&state.settings)
        .into_router(&state)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            idempotency::guard,
        ))
        .merge(ui)
        .fallback_service(static_files)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::edge::csrf_guard,
        ));
    edge(routes, &state.settings).with_state(state)
}

/// The layers every request passes, outermost first: security headers, request tracking (id,
/// span, log, metrics, envelope), panic catching, time limit, body limit.
pub fn edge<S: Clone + Send + Sync + 'static>(routes: Router<S>, settings: &Settings) -> Router<S> {
    // Each `layer` call wraps the ones before it, so the last is the outermost.
    routes
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        .layer(RequestBodyLimitLayer::new(settings.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            settings.request_timeout(),
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn(telemetry::track_requests))
        .layer(axum::middleware::from_fn_with_state(
            settings.behind_https(),
            crate::auth::edge::security_headers,
        ))
}

async fn not_found() -> AppError {
    AppError::new(ErrorCode::NotFound, "no such route")
}

async fn method_not_allowed() -> AppError {
    AppError::new(
        ErrorCode::MethodNotAllowed,
        "this route does not accept this method",
    )
}

/// A handler panicked: log it once (with the request id from the span), answer 500.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("non-string panic payload");
    tracing::error!(panic = message, "handler panicked");
    AppError::new(
        ErrorCode::Internal,
        "internal error; the request id identifies it in the server log",
    )
    .into_response()
}

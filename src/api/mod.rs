//! The HTTP edge: routes, extractors, the error envelope and the layers every request passes.

pub mod error;
pub mod health;
pub mod json;

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

use crate::config::Settings;
use crate::state::AppState;
use crate::telemetry;
use error::{AppError, ErrorCode};

/// The whole application: health and metrics, the API, the UI and its server functions,
/// static files, behind the edge layers.
pub fn app(state: AppState) -> Router {
    let desk: app::ports::SharedDesk = state.desk.clone();
    let provide = move || leptos::prelude::provide_context(Arc::clone(&desk));
    let leptos_options = state.leptos.clone();
    let pages = generate_route_list(app::App);
    let static_files = ServeDir::new(state.settings.site_root.as_str())
        .not_found_service(not_found.into_service());
    let routes = Router::new()
        .merge(health::router())
        .leptos_routes_with_context(&state, pages, provide, move || {
            app::shell(leptos_options.clone())
        })
        .fallback_service(static_files)
        .method_not_allowed_fallback(method_not_allowed);
    edge(routes, &state.settings).with_state(state)
}

/// The layers every request passes, outermost first: request tracking (id, span, log,
/// metrics, envelope), panic catching, time limit, body limit.
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

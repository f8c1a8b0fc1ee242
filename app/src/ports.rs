//! The port the server implements for the UI's server functions (server side only).
//!
//! The app crate cannot depend on the server crate, so it declares what it needs here and the
//! server provides an implementation through Leptos context as `Arc<dyn Desk>`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::domain::HealthReport;

/// A boxed future, because trait objects cannot have `async fn`s.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The use cases the UI calls. The REST API calls the same implementation.
pub trait Desk: Send + Sync + 'static {
    /// The same report as `GET /health`.
    fn health(&self) -> BoxFuture<'_, HealthReport>;
}

/// The desk as stored in Leptos context.
pub type SharedDesk = Arc<dyn Desk>;

//! The port the server implements for the UI's server functions (server side only).
//!
//! The app crate cannot depend on the server crate, so it declares what it needs here and the
//! server provides an implementation through Leptos context as `Arc<dyn Desk>`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::domain::HealthReport;
use crate::domain::failure::Failure;
use crate::domain::order::{CancelOutcomeView, OrderRequest, OrderView};
use crate::domain::position::{FillView, PositionView};
use crate::domain::quote::Quote;

/// A boxed future, because trait objects cannot have `async fn`s.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The use cases the UI calls. The REST API calls the same implementation.
pub trait Desk: Send + Sync + 'static {
    /// The same report as `GET /health`.
    fn health(&self) -> BoxFuture<'_, HealthReport>;

    /// Orders, newest first: `open` Some(true) only working ones, Some(false) only finished
    /// ones, None all; at most `limit`.
    fn orders(
        &self,
        open: Option<bool>,
        limit: i64,
    ) -> BoxFuture<'_, Result<Vec<OrderView>, Failure>>;

    /// Places an order (same path as `POST /api/v1/orders`). A broker rejection is an order
    /// in state `rejected` with its reason, not an error.
    fn place_order(&self, request: OrderRequest) -> BoxFuture<'_, Result<OrderView, Failure>>;

    /// Requests the cancellation of one order; the order in `pending_cancel`.
    fn cancel_order(&self, id: String) -> BoxFuture<'_, Result<OrderView, Failure>>;

    /// Requests the cancellation of every open order; one outcome per order.
    fn cancel_all(&self) -> BoxFuture<'_, Result<Vec<CancelOutcomeView>, Failure>>;

    /// Executions, newest first; at most `limit`.
    fn fills(&self, limit: i64) -> BoxFuture<'_, Result<Vec<FillView>, Failure>>;

    /// Positions as the broker reports them now.
    fn positions(&self) -> BoxFuture<'_, Result<Vec<PositionView>, Failure>>;

    /// One quote snapshot for `symbol`.
    fn quote(&self, symbol: String) -> BoxFuture<'_, Result<Quote, Failure>>;
}

/// The desk as stored in Leptos context.
pub type SharedDesk = Arc<dyn Desk>;

/// Signing in and out of the UI. The server implements it with the same auth core the REST
/// API uses; the UI never sees a token, only the cookies it is told to set.
pub trait Sessions: Send + Sync + 'static {
    /// Checks a username and password; on success, the `Set-Cookie` values of the new
    /// session. The error is a sentence for the person signing in.
    fn login(
        &self,
        username: String,
        password: String,
    ) -> BoxFuture<'_, Result<(crate::access::SessionUser, Vec<http::HeaderValue>), String>>;

    /// Ends the session the request's cookies belong to; the `Set-Cookie` values that clear it.
    fn logout(&self, headers: http::HeaderMap) -> BoxFuture<'_, Vec<http::HeaderValue>>;

    /// When no user exists yet: how to create the first admin.
    fn first_admin_hint(&self) -> BoxFuture<'_, Option<String>>;
}

/// The sessions port as stored in Leptos context.
pub type SharedSessions = Arc<dyn Sessions>;

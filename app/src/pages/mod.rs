//! The UI's pages. Each is server-rendered and hydrated.

mod placeholders;
mod status;

pub use placeholders::{AdminPage, NotFoundPage, OrdersPage, PositionsPage};
pub use status::{DashboardPage, StatusPage};

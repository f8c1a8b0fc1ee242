//! The UI's pages. Each is server-rendered and hydrated.

mod format;
mod live;
mod login;
mod orders;
mod placeholders;
mod positions;
mod status;

pub use login::{LoginPage, UserBadge};
pub use orders::OrdersPage;
pub use placeholders::{AdminPage, NotFoundPage};
pub use positions::PositionsPage;
pub use status::{DashboardPage, StatusPage};

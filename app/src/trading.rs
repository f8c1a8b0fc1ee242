//! Server functions of the trading UI: the blotter, the order ticket, fills, positions and
//! quotes, each calling the server's desk through [`crate::ports::Desk`].
//!
//! They fail with [`Failure`] (code, sentence, fields at fault), so the ticket can put each
//! reason next to its field. Each is declared with its role in
//! [`crate::access::SERVER_FN_ACCESS`], and checks it again through [`crate::server_fns::require`]:
//! viewers read, traders place and cancel.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::domain::failure::Failure;
use crate::domain::order::{CancelOutcomeView, OrderRequestInput, OrderView};
use crate::domain::position::{FillView, PositionView};
use crate::domain::quote::Quote;

/// How many orders the blotter shows.
pub const BLOTTER_LIMIT: i64 = 200;
/// How many fills the fills table shows.
pub const FILLS_LIMIT: i64 = 50;

/// Which orders the blotter lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderFilter {
    /// Still working (or about to be).
    #[default]
    Open,
    /// Finished: filled, canceled, expired, rejected, denied, replaced.
    Closed,
    /// Everything.
    All,
}

impl OrderFilter {
    /// Every filter, in tab order.
    pub const ALL: [Self; 3] = [Self::Open, Self::Closed, Self::All];

    /// The desk's `open` argument.
    pub fn open(self) -> Option<bool> {
        match self {
            Self::Open => Some(true),
            Self::Closed => Some(false),
            Self::All => None,
        }
    }

    /// The tab's label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Open => "Open",
            Self::Closed => "Closed",
            Self::All => "All",
        }
    }
}

/// The desk, if the signed-in person's role includes `role`. The one place where trading
/// server functions check access.
#[cfg(feature = "ssr")]
fn desk_for(role: crate::access::Role) -> Result<crate::ports::SharedDesk, Failure> {
    crate::server_fns::require(role).map_err(|err| match err {
        ServerFnError::ServerError(message) => Failure::new("FORBIDDEN", message),
        other => Failure::new("FORBIDDEN", other.to_string()),
    })?;
    use_context::<crate::ports::SharedDesk>()
        .ok_or_else(|| Failure::new("NOT_READY", "the desk is not available"))
}

/// Orders for the blotter, newest first.
#[server(prefix = "/api/fn", endpoint = "orders", input = Json)]
pub async fn list_orders(filter: OrderFilter) -> Result<Vec<OrderView>, Failure> {
    let desk = desk_for(crate::access::Role::Viewer)?;
    desk.orders(filter.open(), BLOTTER_LIMIT).await
}

/// Places an order from the ticket. The request is checked with the same
/// [`crate::domain::order::OrderRequest::parse`] the ticket ran in the browser.
#[server(prefix = "/api/fn", endpoint = "place_order", input = Json)]
pub async fn place_order(order: OrderRequestInput) -> Result<OrderView, Failure> {
    let desk = desk_for(crate::access::Role::Trader)?;
    let request = crate::domain::order::OrderRequest::parse(&order).map_err(Failure::invalid)?;
    desk.place_order(request).await
}

/// Requests the cancellation of one order.
#[server(prefix = "/api/fn", endpoint = "cancel_order", input = Json)]
pub async fn cancel_order(id: String) -> Result<OrderView, Failure> {
    let desk = desk_for(crate::access::Role::Trader)?;
    desk.cancel_order(id).await
}

/// Requests the cancellation of every open order.
#[server(prefix = "/api/fn", endpoint = "cancel_all", input = Json)]
pub async fn cancel_all() -> Result<Vec<CancelOutcomeView>, Failure> {
    let desk = desk_for(crate::access::Role::Trader)?;
    desk.cancel_all().await
}

/// The latest executions.
#[server(prefix = "/api/fn", endpoint = "fills", input = Json)]
pub async fn list_fills() -> Result<Vec<FillView>, Failure> {
    let desk = desk_for(crate::access::Role::Viewer)?;
    desk.fills(FILLS_LIMIT).await
}

/// Positions as the broker reports them now.
#[server(prefix = "/api/fn", endpoint = "positions", input = Json)]
pub async fn list_positions() -> Result<Vec<PositionView>, Failure> {
    let desk = desk_for(crate::access::Role::Viewer)?;
    desk.positions().await
}

/// One quote snapshot.
#[server(prefix = "/api/fn", endpoint = "quote", input = Json)]
pub async fn get_quote(symbol: String) -> Result<Quote, Failure> {
    let desk = desk_for(crate::access::Role::Viewer)?;
    desk.quote(symbol).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_map_to_the_desk_argument_and_serialise_as_names() {
        assert_eq!(OrderFilter::Open.open(), Some(true));
        assert_eq!(OrderFilter::Closed.open(), Some(false));
        assert_eq!(OrderFilter::All.open(), None);
        for f in OrderFilter::ALL {
            let json = serde_json::to_string(&f).expect("serialise");
            assert_eq!(json, format!("\"{}\"", f.label().to_lowercase()));
        }
    }
}

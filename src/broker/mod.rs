//! The broker port and its one production adapter on `ibapi` 5.5.
//!
//! The desk speaks to a [`Broker`]: it sends orders and cancels, asks for snapshots, and
//! receives [`BrokerEvent`]s. IB types and `f64` stop inside `ib/`; everything that crosses
//! this module's boundary uses Binder's decimals and ids.

pub mod codes;
mod ib;
pub mod pacing;
pub mod window;

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use tokio::sync::{broadcast, watch};

use app::domain::BrokerState;
use app::domain::order::{Instrument, OrderStatus, Pricing, Quantity, Side, TimeInForce};

pub use ib::{IbBroker, IbConfig};
pub use pacing::PacingError;

/// A boxed future: the port is used as a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An order as sent to the broker.
#[derive(Debug, Clone)]
pub struct BrokerOrder {
    /// The broker's order id, allocated by the journal (never reused).
    pub broker_order_id: i32,
    /// What to trade.
    pub instrument: Instrument,
    /// Buy or sell.
    pub side: Side,
    /// How much.
    pub qty: Quantity,
    /// Type and prices.
    pub pricing: Pricing,
    /// Time in force.
    pub time_in_force: TimeInForce,
    /// Fill outside regular trading hours.
    pub outside_rth: bool,
    /// Binder's client order id, carried as IB's `orderRef`.
    pub order_ref: String,
    /// Account, when several are managed.
    pub account: Option<String>,
    /// The parent's broker id, for bracket legs.
    pub parent_broker_id: Option<i32>,
    /// The one-cancels-other group, for oco legs.
    pub oca_group: Option<String>,
    /// `false` holds the order at the gateway until a later order of the group transmits
    /// (brackets send parent and first leg held, the last leg releases all).
    pub transmit: bool,
}

/// An order the broker reports (open or completed), with its latest state.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokerOrderView {
    /// The broker's order id (0 for orders placed in TWS without an API id).
    pub broker_order_id: i32,
    /// The API client that placed it.
    pub client_id: i32,
    /// IB's permanent id.
    pub perm_id: i64,
    /// `orderRef`: Binder's client order id for Binder's orders.
    pub order_ref: String,
    /// Account.
    pub account: String,
    /// Symbol.
    pub symbol: String,
    /// Contract id.
    pub con_id: i64,
    /// Side.
    pub side: Side,
    /// Total quantity.
    pub qty: Decimal,
    /// IB's order type (MKT, LMT, …).
    pub ib_order_type: String,
    /// Limit price.
    pub limit_price: Option<Decimal>,
    /// Stop / aux price.
    pub stop_price: Option<Decimal>,
    /// Status in Binder's terms.
    pub status: OrderStatus,
}

/// One execution.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokerFill {
    /// IB's execution id (unique).
    pub exec_id: String,
    /// The broker's order id.
    pub broker_order_id: i32,
    /// The API client that placed the order.
    pub client_id: i32,
    /// IB's permanent order id.
    pub perm_id: i64,
    /// `orderRef` of the order.
    pub order_ref: String,
    /// Account.
    pub account: String,
    /// Symbol.
    pub symbol: String,
    /// Contract id.
    pub con_id: i64,
    /// Side.
    pub side: Side,
    /// Shares in this execution.
    pub qty: Decimal,
    /// Price of this execution.
    pub price: Decimal,
    /// When it happened.
    pub time: DateTime<Utc>,
}

/// A position as the broker reports it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BrokerPosition {
    /// Account.
    pub account: String,
    /// Symbol.
    pub symbol: String,
    /// Contract id.
    pub con_id: i64,
    /// Signed quantity (negative when short).
    pub qty: Decimal,
    /// Average cost per share.
    pub avg_cost: Decimal,
}

/// One account summary value.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountValue {
    /// Account.
    pub account: String,
    /// Tag, e.g. NetLiquidation.
    pub tag: String,
    /// Value as IB sent it.
    pub value: String,
    /// Currency.
    pub currency: String,
}

/// Everything the desk needs to bring the journal up to date after a (re)connect.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The gateway's next valid order id.
    pub next_valid_id: i32,
    /// Accounts the session manages.
    pub accounts: Vec<String>,
    /// Open orders of every client.
    pub open_orders: Vec<BrokerOrderView>,
    /// Orders completed today.
    pub completed_orders: Vec<BrokerOrderView>,
    /// Executions the gateway still knows.
    pub fills: Vec<BrokerFill>,
    /// Commissions for those executions.
    pub commissions: Vec<Commission>,
    /// Positions.
    pub positions: Vec<BrokerPosition>,
    /// Account summary values.
    pub account_values: Vec<AccountValue>,
}

/// Executions the gateway reported, with their commission reports.
#[derive(Debug, Clone, Default)]
pub struct Executions {
    /// The executions.
    pub fills: Vec<BrokerFill>,
    /// Their commissions (may arrive for only some).
    pub commissions: Vec<Commission>,
}

/// A commission report for one execution.
#[derive(Debug, Clone, PartialEq)]
pub struct Commission {
    /// The execution.
    pub exec_id: String,
    /// Commission charged.
    pub commission: Decimal,
    /// Realized PnL of a closing execution.
    pub realized_pnl: Option<Decimal>,
}

/// What the broker reports as it happens.
#[derive(Debug, Clone)]
pub enum BrokerEvent {
    /// An order's status changed.
    OrderStatus {
        /// The broker's order id.
        broker_order_id: i32,
        /// The client that placed it.
        client_id: i32,
        /// IB's permanent id.
        perm_id: i64,
        /// New status in Binder's terms.
        status: OrderStatus,
        /// Filled so far.
        filled: Decimal,
        /// Remaining.
        remaining: Decimal,
        /// Average fill price.
        avg_fill_price: Option<Decimal>,
    },
    /// An order's details (placed, modified, or another client's order).
    OpenOrder(BrokerOrderView),
    /// An execution.
    Fill(BrokerFill),
    /// The commission of an execution.
    Commission(Commission),
    /// The broker refused or reported on a request for an order.
    OrderError {
        /// The broker's order id.
        broker_order_id: i32,
        /// IB's code.
        code: i32,
        /// IB's message.
        message: String,
    },
}

/// A live quote feed; the market data line stays open while the watch exists.
pub struct QuoteWatch {
    /// The latest quote, updated on every tick.
    pub quotes: watch::Receiver<app::domain::quote::Quote>,
    /// Releases the line when dropped.
    pub(crate) _line: Box<dyn Send + Sync>,
}

impl std::fmt::Debug for QuoteWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuoteWatch")
            .field("quote", &*self.quotes.borrow())
            .finish_non_exhaustive()
    }
}

/// Why a broker call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BrokerError {
    /// The link is not ready for orders.
    #[error("the broker link is {0:?}, not ready")]
    NotReady(BrokerState),
    /// One of IB's limits would be broken.
    #[error(transparent)]
    Pacing(#[from] PacingError),
    /// IB answered with an error code.
    #[error("IB error {code}: {message}")]
    Ib {
        /// IB's code.
        code: i32,
        /// IB's message.
        message: String,
    },
    /// The broker did not answer in time.
    #[error("the broker did not answer within {0} s")]
    Timeout(u64),
    /// The connection failed during the call.
    #[error("the connection to the broker failed: {0}")]
    Connection(String),
}

/// The broker port.
pub trait Broker: Send + Sync + 'static {
    /// The link's current state.
    fn state(&self) -> BrokerState;
    /// Every state change.
    fn watch_state(&self) -> watch::Receiver<BrokerState>;
    /// Events as they happen (order status, fills, …).
    fn events(&self) -> broadcast::Receiver<BrokerEvent>;
    /// Sends a new order, or modifies one when the id is already working.
    fn place(&self, order: BrokerOrder) -> BoxFuture<'_, Result<(), BrokerError>>;
    /// Requests the cancellation of an order.
    fn cancel(&self, broker_order_id: i32) -> BoxFuture<'_, Result<(), BrokerError>>;
    /// Cancels every open order of the account (IB's global cancel).
    fn cancel_all(&self) -> BoxFuture<'_, Result<(), BrokerError>>;
    /// Open orders of every client (IB's all-open-orders).
    fn open_orders(&self) -> BoxFuture<'_, Result<Vec<BrokerOrderView>, BrokerError>>;
    /// Executions the gateway still knows (today's), with their commissions.
    fn executions(&self) -> BoxFuture<'_, Result<Executions, BrokerError>>;
    /// Positions.
    fn positions(&self) -> BoxFuture<'_, Result<Vec<BrokerPosition>, BrokerError>>;
    /// The gateway's clock.
    fn server_time(&self) -> BoxFuture<'_, Result<DateTime<Utc>, BrokerError>>;
    /// One quote (from an open line, or a snapshot request).
    fn quote(&self, symbol: &str) -> BoxFuture<'_, Result<app::domain::quote::Quote, BrokerError>>;
    /// A streaming quote feed holding one market data line.
    fn watch_quotes(&self, symbol: &str) -> Result<QuoteWatch, BrokerError>;
    /// Time since the last market data tick, if any arrived.
    fn last_tick_age(&self) -> Option<std::time::Duration>;
    /// Account summary values of every managed account.
    fn account_summary(&self) -> BoxFuture<'_, Result<Vec<AccountValue>, BrokerError>>;
    /// Profit and loss of one account.
    fn pnl(&self, account: &str) -> BoxFuture<'_, Result<app::domain::account::Pnl, BrokerError>>;
    /// Historical bars (`size` like `1 min`/`1 hour`/`1 day`, `duration` like `1 D`).
    fn bars(
        &self,
        symbol: &str,
        size: &str,
        duration: &str,
    ) -> BoxFuture<'_, Result<Vec<app::domain::account::Bar>, BrokerError>>;
    /// Contracts matching a symbol (or a contract id given as digits).
    fn contracts(
        &self,
        query: &str,
    ) -> BoxFuture<'_, Result<Vec<app::domain::account::ContractInfo>, BrokerError>>;
}

/// The desk's side of reconciliation: the link calls it after every (re)connect and becomes
/// ready only when it succeeds.
pub trait Reconciler: Send + Sync + 'static {
    /// Brings the journal up to date with the broker's view.
    fn reconcile(&self, snapshot: Snapshot) -> BoxFuture<'_, anyhow::Result<()>>;
}

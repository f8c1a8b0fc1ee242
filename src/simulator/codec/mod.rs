//! Wire codecs: turn frames into [`Request`]s and [`Outgoing`] messages into frames.
//!
//! The session and the exchange speak only these enums; the protobuf codec (ibapi 5.x, IB's
//! own client 10.4x) and the text codec (ib_async, ib_insync) translate them, so every
//! request is answered the same way whatever protocol the client chose.

pub mod proto;
pub mod protobuf;
pub mod text;

use rust_decimal::Decimal;

use super::exchange::{Execution, SimOrder};
use super::universe::{ContractQuery, Instrument};

/// Protobuf protocol versions the simulator serves (a client offering ≥ 213).
pub const PROTOBUF_MIN_VERSION: i32 = 213;
/// Highest version the simulator speaks with protobuf clients.
pub const PROTOBUF_MAX_VERSION: i32 = 222;
/// Highest version the simulator speaks with text clients (ib_async offers 157..178).
pub const TEXT_MAX_VERSION: i32 = 178;
/// A text client must offer at most this version.
pub const TEXT_CEILING: i32 = 200;
/// Oldest text version the simulator accepts.
pub const TEXT_MIN_VERSION: i32 = 157;

/// Which encoding a session speaks, chosen at the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// 4-byte message id (+200) followed by a protobuf message.
    Protobuf,
    /// NUL-separated text fields, the message id first.
    Text,
}

/// Chooses the protocol and version for a client offering `min..=max`, as TWS would.
pub fn negotiate(min: i32, max: i32) -> Result<(Protocol, i32), String> {
    if min > max {
        return Err(format!("the offered range v{min}..{max} is empty"));
    }
    if max >= PROTOBUF_MIN_VERSION {
        let version = max.min(PROTOBUF_MAX_VERSION);
        if version < min {
            return Err(format!(
                "the client needs at least v{min}; this simulator speaks protobuf up to v{PROTOBUF_MAX_VERSION}"
            ));
        }
        return Ok((Protocol::Protobuf, version));
    }
    if max <= TEXT_CEILING {
        let version = max.min(TEXT_MAX_VERSION);
        if version < min || version < TEXT_MIN_VERSION {
            return Err(format!(
                "the text protocol is served for v{TEXT_MIN_VERSION}..{TEXT_MAX_VERSION}; the client offered v{min}..{max}"
            ));
        }
        return Ok((Protocol::Text, version));
    }
    Err(format!(
        "versions 201..212 are not served: offer ≥ {PROTOBUF_MIN_VERSION} for protobuf or ≤ {TEXT_CEILING} for text"
    ))
}

/// The fields of an order ticket the simulator honours.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderTicket {
    /// "BUY" or "SELL" (anything else is rejected by the exchange).
    pub action: String,
    /// Quantity as sent (a decimal string).
    pub total_quantity: String,
    /// "MKT", "LMT", "STP", "STP LMT", "TRAIL".
    pub order_type: String,
    /// Limit price; `None` when unset (absent or `f64::MAX` on the wire).
    pub lmt_price: Option<Decimal>,
    /// Stop price or trailing amount; `None` when unset.
    pub aux_price: Option<Decimal>,
    /// Trailing percent; `None` when unset.
    pub trailing_percent: Option<Decimal>,
    /// Initial trailing stop price; `None` when unset.
    pub trail_stop_price: Option<Decimal>,
    /// "DAY", "GTC", "IOC", "FOK" (empty means DAY).
    pub tif: String,
    /// Account; empty means the default account.
    pub account: String,
    /// One-cancels-all group name; empty for none.
    pub oca_group: String,
    /// Client reference, echoed on every message (Binder puts its client order id here).
    pub order_ref: String,
    /// Parent order id of a bracket child; 0 for none.
    pub parent_id: i32,
    /// false holds the order until a later order of the same bracket transmits.
    pub transmit: bool,
    /// Trading outside regular hours.
    pub outside_rth: bool,
}

/// Which executions a request wants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecutionFilter {
    /// 0 = all clients.
    pub client_id: i32,
    /// Account; empty = all.
    pub account: String,
    /// "yyyymmdd hh:mm:ss" lower bound; empty = all.
    pub time: String,
    /// Symbol; empty = all.
    pub symbol: String,
    /// Security type; empty = all.
    pub sec_type: String,
    /// Exchange; empty = all.
    pub exchange: String,
    /// "BUY"/"SELL"; empty = all.
    pub side: String,
}

/// A decoded client request.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// StartApi with the client id.
    StartApi { client_id: i32 },
    /// reqCurrentTime.
    CurrentTime,
    /// reqCurrentTimeInMillis.
    CurrentTimeMillis,
    /// reqIds.
    Ids,
    /// reqManagedAccts.
    ManagedAccounts,
    /// reqContractDetails.
    ContractDetails {
        req_id: i32,
        contract: ContractQuery,
    },
    /// placeOrder (new or modify).
    PlaceOrder {
        order_id: i32,
        contract: ContractQuery,
        ticket: Box<OrderTicket>,
    },
    /// cancelOrder.
    CancelOrder { order_id: i32 },
    /// reqGlobalCancel.
    GlobalCancel,
    /// reqOpenOrders (this client's).
    OpenOrders,
    /// reqAllOpenOrders.
    AllOpenOrders,
    /// reqAutoOpenOrders.
    AutoOpenOrders { auto_bind: bool },
    /// reqCompletedOrders.
    CompletedOrders { api_only: bool },
    /// reqExecutions.
    Executions {
        req_id: i32,
        filter: ExecutionFilter,
    },
    /// reqPositions.
    Positions,
    /// cancelPositions.
    CancelPositions,
    /// reqAccountSummary.
    AccountSummary { req_id: i32, tags: String },
    /// cancelAccountSummary.
    CancelAccountSummary { req_id: i32 },
    /// reqAccountUpdates (subscribe or not).
    AccountUpdates { subscribe: bool },
    /// reqAccountUpdatesMulti.
    AccountUpdatesMulti { req_id: i32 },
    /// cancelAccountUpdatesMulti.
    CancelAccountUpdatesMulti { req_id: i32 },
    /// reqPnL.
    PnL { req_id: i32 },
    /// cancelPnL.
    CancelPnL { req_id: i32 },
    /// reqPnLSingle.
    PnLSingle { req_id: i32, con_id: i32 },
    /// cancelPnLSingle.
    CancelPnLSingle { req_id: i32 },
    /// reqMktData.
    MarketData {
        req_id: i32,
        contract: ContractQuery,
        snapshot: bool,
    },
    /// cancelMktData.
    CancelMarketData { req_id: i32 },
    /// reqMarketDataType.
    MarketDataType { market_data_type: i32 },
    /// reqRealTimeBars.
    RealTimeBars {
        req_id: i32,
        contract: ContractQuery,
    },
    /// cancelRealTimeBars.
    CancelRealTimeBars { req_id: i32 },
    /// reqHistoricalData.
    HistoricalData(Box<HistoricalRequest>),
    /// cancelHistoricalData.
    CancelHistoricalData { req_id: i32 },
    /// A request the simulator accepts without a reply (e.g. cancelling a finished request).
    Quiet { message_id: i32 },
    /// A message id the simulator does not know.
    Unknown { message_id: i32 },
}

/// reqHistoricalData's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoricalRequest {
    /// Request id.
    pub req_id: i32,
    /// The contract.
    pub contract: ContractQuery,
    /// "yyyymmdd hh:mm:ss[ zone]" or empty for now.
    pub end: String,
    /// e.g. "5 mins", "1 day".
    pub bar_size: String,
    /// e.g. "1 D", "2 W".
    pub duration: String,
    /// TRADES, MIDPOINT, BID, ASK…
    pub what_to_show: String,
    /// true keeps the request open for updates (not supported: answered once).
    pub keep_up_to_date: bool,
    /// 1 = "yyyymmdd hh:mm:ss" dates, 2 = epoch seconds (text clients choose).
    pub format_date: i32,
}

/// One historical or real-time bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Bar start, seconds since the epoch.
    pub time: i64,
    /// Open.
    pub open: Decimal,
    /// High.
    pub high: Decimal,
    /// Low.
    pub low: Decimal,
    /// Close.
    pub close: Decimal,
    /// Volume in shares.
    pub volume: Decimal,
    /// Volume-weighted average price.
    pub wap: Decimal,
    /// Number of trades.
    pub count: i32,
}

/// A message to a client, independent of the wire format.
#[derive(Debug, Clone, PartialEq)]
pub enum Outgoing {
    /// The comma-separated account list.
    ManagedAccounts(String),
    /// The next order id the client may use.
    NextValidId(i32),
    /// Server time in seconds.
    CurrentTime(i64),
    /// Server time in milliseconds.
    CurrentTimeMillis(i64),
    /// An error or notice; `id` is -1 for connection-level notices.
    Error {
        id: i32,
        code: i32,
        message: String,
        time_ms: i64,
    },
    /// A contract details row.
    ContractData { req_id: i32, instrument: Instrument },
    /// End of contract details.
    ContractDataEnd { req_id: i32 },
    /// OpenOrder.
    OpenOrder(Box<SimOrder>),
    /// OrderStatus.
    OrderStatus(Box<SimOrder>),
    /// End of an open orders listing.
    OpenOrderEnd,
    /// CompletedOrder.
    CompletedOrder(Box<SimOrder>),
    /// End of a completed orders listing.
    CompletedOrdersEnd,
    /// ExecutionDetails; `req_id` is -1 for live fills.
    Execution {
        req_id: i32,
        execution: Box<Execution>,
    },
    /// End of an executions listing.
    ExecutionEnd { req_id: i32 },
    /// Commission report of one execution.
    Commission(Box<Execution>),
    /// A position row.
    Position {
        account: String,
        instrument: Instrument,
        position: Decimal,
        avg_cost: Decimal,
    },
    /// End of the position listing.
    PositionEnd,
    /// An account summary row.
    AccountSummary {
        req_id: i32,
        account: String,
        tag: String,
        value: String,
        currency: String,
    },
    /// End of the account summary.
    AccountSummaryEnd { req_id: i32 },
    /// An account value (reqAccountUpdates).
    AccountValue {
        key: String,
        value: String,
        currency: String,
        account: String,
    },
    /// A portfolio line (reqAccountUpdates).
    PortfolioValue {
        instrument: Instrument,
        position: Decimal,
        market_price: Decimal,
        market_value: Decimal,
        average_cost: Decimal,
        unrealized_pnl: Decimal,
        realized_pnl: Decimal,
        account: String,
    },
    /// Account update time "HH:MM".
    AccountUpdateTime(String),
    /// End of the account download.
    AccountDownloadEnd(String),
    /// An account update multi row.
    AccountUpdateMulti {
        req_id: i32,
        account: String,
        key: String,
        value: String,
        currency: String,
    },
    /// End of account update multi.
    AccountUpdateMultiEnd { req_id: i32 },
    /// Account PnL.
    PnL {
        req_id: i32,
        daily: Decimal,
        unrealized: Decimal,
        realized: Decimal,
    },
    /// Position PnL.
    PnLSingle {
        req_id: i32,
        position: Decimal,
        daily: Decimal,
        unrealized: Decimal,
        realized: Decimal,
        value: Decimal,
    },
    /// A price tick.
    TickPrice {
        req_id: i32,
        tick_type: i32,
        price: Decimal,
        size: Decimal,
    },
    /// A size tick.
    TickSize {
        req_id: i32,
        tick_type: i32,
        size: Decimal,
    },
    /// Tick request parameters (sent first on a market data request).
    TickReqParams { req_id: i32, min_tick: Decimal },
    /// End of a snapshot.
    TickSnapshotEnd { req_id: i32 },
    /// The market data type in effect for a request.
    MarketDataType { req_id: i32, market_data_type: i32 },
    /// A 5-second real-time bar.
    RealTimeBar { req_id: i32, bar: Bar },
    /// Historical bars, all of them.
    HistoricalData {
        req_id: i32,
        bars: Vec<Bar>,
        daily: bool,
        format_date: i32,
        start: String,
        end: String,
    },
    /// End of historical bars.
    HistoricalDataEnd {
        req_id: i32,
        start: String,
        end: String,
    },
}

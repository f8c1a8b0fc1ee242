//! The protobuf codec (server versions ≥ 213): a 4-byte big-endian message id plus 200, then
//! the protobuf message. Also the one place where the exchange's decimals become the f64s
//! the wire demands.

use prost::Message;
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};

use super::proto;
use super::{ExecutionFilter, HistoricalRequest, OrderTicket, Outgoing, Request};
use crate::simulator::exchange::{Execution, SimOrder, Status};
use crate::simulator::universe::{ContractQuery, Instrument};

/// Added to message ids whose payload is protobuf.
pub const PROTOBUF_OFFSET: i32 = 200;

/// Incoming message ids (IB's "outgoing" ids, seen from the client).
pub mod incoming {
    pub const MARKET_DATA: i32 = 1;
    pub const CANCEL_MARKET_DATA: i32 = 2;
    pub const PLACE_ORDER: i32 = 3;
    pub const CANCEL_ORDER: i32 = 4;
    pub const OPEN_ORDERS: i32 = 5;
    pub const ACCOUNT_DATA: i32 = 6;
    pub const EXECUTIONS: i32 = 7;
    pub const IDS: i32 = 8;
    pub const CONTRACT_DATA: i32 = 9;
    pub const CANCEL_MARKET_DEPTH: i32 = 11;
    pub const CANCEL_NEWS_BULLETINS: i32 = 13;
    pub const AUTO_OPEN_ORDERS: i32 = 15;
    pub const ALL_OPEN_ORDERS: i32 = 16;
    pub const MANAGED_ACCOUNTS: i32 = 17;
    pub const HISTORICAL_DATA: i32 = 20;
    pub const CANCEL_SCANNER: i32 = 23;
    pub const CANCEL_HISTORICAL_DATA: i32 = 25;
    pub const CURRENT_TIME: i32 = 49;
    pub const REAL_TIME_BARS: i32 = 50;
    pub const CANCEL_REAL_TIME_BARS: i32 = 51;
    pub const GLOBAL_CANCEL: i32 = 58;
    pub const MARKET_DATA_TYPE: i32 = 59;
    pub const POSITIONS: i32 = 61;
    pub const ACCOUNT_SUMMARY: i32 = 62;
    pub const CANCEL_ACCOUNT_SUMMARY: i32 = 63;
    pub const CANCEL_POSITIONS: i32 = 64;
    pub const START_API: i32 = 71;
    pub const CANCEL_POSITIONS_MULTI: i32 = 75;
    pub const ACCOUNT_UPDATES_MULTI: i32 = 76;
    pub const CANCEL_ACCOUNT_UPDATES_MULTI: i32 = 77;
    pub const CANCEL_HEAD_TIMESTAMP: i32 = 90;
    pub const PNL: i32 = 92;
    pub const CANCEL_PNL: i32 = 93;
    pub const PNL_SINGLE: i32 = 94;
    pub const CANCEL_PNL_SINGLE: i32 = 95;
    pub const CANCEL_TICK_BY_TICK: i32 = 98;
    pub const COMPLETED_ORDERS: i32 = 99;
    pub const CURRENT_TIME_MILLIS: i32 = 105;
    pub const CANCEL_CONTRACT_DATA: i32 = 106;
    pub const CANCEL_HISTORICAL_TICKS: i32 = 107;
}

/// Outgoing message ids (IB's "incoming" ids).
pub mod outgoing {
    pub const TICK_PRICE: i32 = 1;
    pub const TICK_SIZE: i32 = 2;
    pub const ORDER_STATUS: i32 = 3;
    pub const ERROR: i32 = 4;
    pub const OPEN_ORDER: i32 = 5;
    pub const ACCOUNT_VALUE: i32 = 6;
    pub const PORTFOLIO_VALUE: i32 = 7;
    pub const ACCOUNT_UPDATE_TIME: i32 = 8;
    pub const NEXT_VALID_ID: i32 = 9;
    pub const CONTRACT_DATA: i32 = 10;
    pub const EXECUTION_DATA: i32 = 11;
    pub const MANAGED_ACCOUNTS: i32 = 15;
    pub const HISTORICAL_DATA: i32 = 17;
    pub const CURRENT_TIME: i32 = 49;
    pub const REAL_TIME_BARS: i32 = 50;
    pub const CONTRACT_DATA_END: i32 = 52;
    pub const OPEN_ORDER_END: i32 = 53;
    pub const ACCOUNT_DOWNLOAD_END: i32 = 54;
    pub const EXECUTION_DATA_END: i32 = 55;
    pub const TICK_SNAPSHOT_END: i32 = 57;
    pub const MARKET_DATA_TYPE: i32 = 58;
    pub const COMMISSION_REPORT: i32 = 59;
    pub const POSITION: i32 = 61;
    pub const POSITION_END: i32 = 62;
    pub const ACCOUNT_SUMMARY: i32 = 63;
    pub const ACCOUNT_SUMMARY_END: i32 = 64;
    pub const ACCOUNT_UPDATE_MULTI: i32 = 73;
    pub const ACCOUNT_UPDATE_MULTI_END: i32 = 74;
    pub const TICK_REQ_PARAMS: i32 = 81;
    pub const PNL: i32 = 94;
    pub const PNL_SINGLE: i32 = 95;
    pub const COMPLETED_ORDER: i32 = 101;
    pub const COMPLETED_ORDERS_END: i32 = 102;
    pub const HISTORICAL_DATA_END: i32 = 108;
    pub const CURRENT_TIME_MILLIS: i32 = 109;
}

/// Why a frame could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The frame is shorter than a message id.
    #[error("frame of {0} bytes has no message id")]
    Short(usize),
    /// The payload is not the protobuf message the id announces.
    #[error("message {id}: {source}")]
    Protobuf {
        /// Message id.
        id: i32,
        /// prost's complaint.
        source: prost::DecodeError,
    },
    /// A text frame that does not parse.
    #[error("message {id}: {reason}")]
    Text {
        /// Message id.
        id: i32,
        /// What is wrong.
        reason: String,
    },
}

/// Splits a frame body into its message id and payload.
pub fn split(frame: &[u8]) -> Result<(i32, &[u8]), DecodeError> {
    let (head, payload) = frame
        .split_first_chunk::<4>()
        .ok_or(DecodeError::Short(frame.len()))?;
    Ok((i32::from_be_bytes(*head), payload))
}

/// A wire double as a decimal price: `None` when unset (IB's `f64::MAX`) or not finite.
/// Rounded to 8 places so binary noise (189.00499999…) does not reach tick checks.
pub fn decimal(value: Option<f64>) -> Option<Decimal> {
    value
        .filter(|v| *v != f64::MAX && v.is_finite())
        .and_then(Decimal::from_f64)
        .map(|d| d.round_dp(8).normalize())
}

/// The identifying fields of a request's contract.
pub fn query(contract: Option<proto::Contract>) -> ContractQuery {
    let c = contract.unwrap_or_default();
    ContractQuery {
        con_id: c.con_id.unwrap_or_default(),
        symbol: c.symbol.unwrap_or_default(),
        sec_type: c.sec_type.unwrap_or_default(),
        exchange: c.exchange.unwrap_or_default(),
        currency: c.currency.unwrap_or_default(),
    }
}

/// Decodes one frame body (id + payload) of a protobuf session.
pub fn decode(frame: &[u8]) -> Result<Request, DecodeError> {
    use incoming as m;
    let (raw_id, payload) = split(frame)?;
    if raw_id <= PROTOBUF_OFFSET {
        // A text-payload frame: the simulator serves protobuf clients in protobuf only.
        return Ok(Request::Unknown { message_id: raw_id });
    }
    let id = raw_id - PROTOBUF_OFFSET;
    let err = |source| DecodeError::Protobuf { id, source };
    let req_id =
        |payload: &[u8]| proto::ReqId::decode(payload).map(|r| r.req_id.unwrap_or_default());
    let request = match id {
        m::START_API => {
            let r = proto::StartApiRequest::decode(payload).map_err(err)?;
            Request::StartApi {
                client_id: r.client_id.unwrap_or_default(),
            }
        }
        m::CURRENT_TIME => Request::CurrentTime,
        m::CURRENT_TIME_MILLIS => Request::CurrentTimeMillis,
        m::IDS => Request::Ids,
        m::MANAGED_ACCOUNTS => Request::ManagedAccounts,
        m::CONTRACT_DATA => {
            let r = proto::ContractDataRequest::decode(payload).map_err(err)?;
            Request::ContractDetails {
                req_id: r.req_id.unwrap_or_default(),
                contract: query(r.contract),
            }
        }
        m::PLACE_ORDER => {
            let r = proto::PlaceOrderRequest::decode(payload).map_err(err)?;
            let o = r.order.unwrap_or_default();
            Request::PlaceOrder {
                order_id: r.order_id.or(o.order_id).unwrap_or_default(),
                contract: query(r.contract),
                ticket: Box::new(OrderTicket {
                    action: o.action.unwrap_or_default(),
                    total_quantity: o.total_quantity.unwrap_or_default(),
                    order_type: o.order_type.unwrap_or_default(),
                    lmt_price: decimal(o.lmt_price),
                    aux_price: decimal(o.aux_price),
                    trailing_percent: decimal(o.trailing_percent),
                    trail_stop_price: decimal(o.trail_stop_price),
                    tif: o.tif.unwrap_or_default(),
                    account: o.account.unwrap_or_default(),
                    oca_group: o.oca_group.unwrap_or_default(),
                    order_ref: o.order_ref.unwrap_or_default(),
                    parent_id: o.parent_id.unwrap_or_default(),
                    // proto3 semantics: ibapi leaves false out, so absent means false.
                    transmit: o.transmit.unwrap_or(false),
                    outside_rth: o.outside_rth.unwrap_or_default(),
                }),
            }
        }
        m::CANCEL_ORDER => {
            let r = proto::CancelOrderRequest::decode(payload).map_err(err)?;
            Request::CancelOrder {
                order_id: r.order_id.unwrap_or_default(),
            }
        }
        m::GLOBAL_CANCEL => Request::GlobalCancel,
        m::OPEN_ORDERS => Request::OpenOrders,
        m::ALL_OPEN_ORDERS => Request::AllOpenOrders,
        m::AUTO_OPEN_ORDERS => {
            let r = proto::AutoOpenOrdersRequest::decode(payload).map_err(err)?;
            Request::AutoOpenOrders {
                auto_bind: r.auto_bind.unwrap_or_default(),
            }
        }
        m::COMPLETED_ORDERS => {
            let r = proto::CompletedOrdersRequest::decode(payload).map_err(err)?;
            Request::CompletedOrders {
                api_only: r.api_only.unwrap_or_default(),
            }
        }
        m::EXECUTIONS => {
            let r = proto::ExecutionRequest::decode(payload).map_err(err)?;
            let f = r.execution_filter.unwrap_or_default();
            Request::Executions {
                req_id: r.req_id.unwrap_or_default(),
                filter: ExecutionFilter {
                    client_id: f.client_id.unwrap_or_default(),
                    account: f.acct_code.unwrap_or_default(),
                    time: f.time.unwrap_or_default(),
                    symbol: f.symbol.unwrap_or_default(),
                    sec_type: f.sec_type.unwrap_or_default(),
                    exchange: f.exchange.unwrap_or_default(),
                    side: f.side.unwrap_or_default(),
                },
            }
        }
        m::POSITIONS => Request::Positions,
        m::CANCEL_POSITIONS => Request::CancelPositions,
        m::ACCOUNT_SUMMARY => {
            let r = proto::AccountSummaryRequest::decode(payload).map_err(err)?;
            Request::AccountSummary {
                req_id: r.req_id.unwrap_or_default(),
                tags: r.tags.unwrap_or_default(),
            }
        }
        m::CANCEL_ACCOUNT_SUMMARY => Request::CancelAccountSummary {
            req_id: req_id(payload).map_err(err)?,
        },
        m::ACCOUNT_DATA => {
            let r = proto::AccountDataRequest::decode(payload).map_err(err)?;
            Request::AccountUpdates {
                subscribe: r.subscribe.unwrap_or_default(),
            }
        }
        m::ACCOUNT_UPDATES_MULTI => {
            let r = proto::AccountUpdatesMultiRequest::decode(payload).map_err(err)?;
            Request::AccountUpdatesMulti {
                req_id: r.req_id.unwrap_or_default(),
            }
        }
        m::CANCEL_ACCOUNT_UPDATES_MULTI => Request::CancelAccountUpdatesMulti {
            req_id: req_id(payload).map_err(err)?,
        },
        m::PNL => Request::PnL {
            req_id: proto::PnLRequest::decode(payload)
                .map_err(err)?
                .req_id
                .unwrap_or_default(),
        },
        m::CANCEL_PNL => Request::CancelPnL {
            req_id: req_id(payload).map_err(err)?,
        },
        m::PNL_SINGLE => {
            let r = proto::PnLSingleRequest::decode(payload).map_err(err)?;
            Request::PnLSingle {
                req_id: r.req_id.unwrap_or_default(),
                con_id: r.con_id.unwrap_or_default(),
            }
        }
        m::CANCEL_PNL_SINGLE => Request::CancelPnLSingle {
            req_id: req_id(payload).map_err(err)?,
        },
        m::MARKET_DATA => {
            let r = proto::MarketDataRequest::decode(payload).map_err(err)?;
            Request::MarketData {
                req_id: r.req_id.unwrap_or_default(),
                contract: query(r.contract),
                snapshot: r.snapshot.unwrap_or_default()
                    || r.regulatory_snapshot.unwrap_or_default(),
            }
        }
        m::CANCEL_MARKET_DATA => Request::CancelMarketData {
            req_id: req_id(payload).map_err(err)?,
        },
        m::MARKET_DATA_TYPE => Request::MarketDataType {
            market_data_type: proto::MarketDataTypeRequest::decode(payload)
                .map_err(err)?
                .market_data_type
                .unwrap_or(1),
        },
        m::REAL_TIME_BARS => {
            let r = proto::RealTimeBarsRequest::decode(payload).map_err(err)?;
            Request::RealTimeBars {
                req_id: r.req_id.unwrap_or_default(),
                contract: query(r.contract),
            }
        }
        m::CANCEL_REAL_TIME_BARS => Request::CancelRealTimeBars {
            req_id: req_id(payload).map_err(err)?,
        },
        m::HISTORICAL_DATA => {
            let r = proto::HistoricalDataRequest::decode(payload).map_err(err)?;
            Request::HistoricalData(Box::new(HistoricalRequest {
                req_id: r.req_id.unwrap_or_default(),
                contract: query(r.contract),
                end: r.end_date_time.unwrap_or_default(),
                bar_size: r.bar_size_setting.unwrap_or_default(),
                duration: r.duration.unwrap_or_default(),
                what_to_show: r.what_to_show.unwrap_or_default(),
                keep_up_to_date: r.keep_up_to_date.unwrap_or_default(),
                format_date: r.format_date.unwrap_or(2),
            }))
        }
        m::CANCEL_HISTORICAL_DATA => Request::CancelHistoricalData {
            req_id: req_id(payload).map_err(err)?,
        },
        m::CANCEL_MARKET_DEPTH
        | m::CANCEL_NEWS_BULLETINS
        | m::CANCEL_SCANNER
        | m::CANCEL_POSITIONS_MULTI
        | m::CANCEL_HEAD_TIMESTAMP
        | m::CANCEL_TICK_BY_TICK
        | m::CANCEL_CONTRACT_DATA
        | m::CANCEL_HISTORICAL_TICKS => Request::Quiet { message_id: id },
        other => Request::Unknown { message_id: other },
    };
    Ok(request)
}

/// Decimal → f64 for the wire.
pub fn f(value: Decimal) -> f64 {
    value.to_f64().unwrap_or_default()
}

/// Decimal → the decimal string IB uses for sizes and quantities.
pub fn s(value: Decimal) -> String {
    value.normalize().to_string()
}

/// The contract of an instrument as TWS describes it.
pub fn contract(instrument: &Instrument) -> proto::Contract {
    proto::Contract {
        con_id: Some(instrument.con_id),
        symbol: Some(instrument.symbol.to_string()),
        sec_type: Some("STK".to_string()),
        multiplier: None,
        exchange: Some("SMART".to_string()),
        primary_exch: Some(instrument.primary_exchange.to_string()),
        currency: Some("USD".to_string()),
        local_symbol: Some(instrument.symbol.to_string()),
        trading_class: Some(if instrument.primary_exchange == "NASDAQ" {
            "NMS".to_string()
        } else {
            instrument.symbol.to_string()
        }),
        description: None,
    }
}

fn order(o: &SimOrder, completed: bool) -> proto::Order {
    proto::Order {
        client_id: Some(o.client_id),
        order_id: Some(o.order_id),
        perm_id: Some(o.perm_id),
        parent_id: Some(o.parent_id),
        action: Some(o.side.action().to_string()),
        // IB reports a completed order's unfilled quantity as its total, with the fill apart.
        total_quantity: Some(s(if completed { o.remaining() } else { o.quantity })),
        order_type: Some(o.order_type.code().to_string()),
        lmt_price: o.lmt_price.map(f),
        aux_price: o.aux_price.map(f),
        tif: Some(o.tif.code().to_string()),
        account: Some(o.account.clone()),
        outside_rth: Some(o.outside_rth),
        trailing_percent: o.trailing_percent.map(f),
        trail_stop_price: o.trail_stop.map(f),
        oca_group: (!o.oca_group.is_empty()).then(|| o.oca_group.clone()),
        order_ref: (!o.order_ref.is_empty()).then(|| o.order_ref.clone()),
        oca_type: None,
        what_if: Some(false),
        transmit: Some(o.transmit),
        filled_quantity: Some(s(o.filled)),
        parent_perm_id: None,
    }
}

fn order_state(o: &SimOrder, completed: bool) -> proto::OrderState {
    proto::OrderState {
        status: Some(o.status.code().to_string()),
        commission_and_fees: (o.status == Status::Filled).then(|| f(o.commission)),
        commission_and_fees_currency: Some("USD".to_string()),
        reject_reason: None,
        completed_time: completed.then(|| o.completed_time.clone()),
        completed_status: completed.then(|| o.status.code().to_string()),
    }
}

fn execution(e: &Execution) -> proto::Execution {
    proto::Execution {
        order_id: Some(e.order_id),
        exec_id: Some(e.exec_id.clone()),
        time: Some(e.time.format("%Y%m%d %H:%M:%S UTC").to_string()),
        acct_number: Some(e.account.clone()),
        exchange: Some(e.instrument.primary_exchange.to_string()),
        side: Some(e.side.exec_side().to_string()),
        shares: Some(s(e.shares)),
        price: Some(f(e.price)),
        perm_id: Some(e.perm_id),
        client_id: Some(e.client_id),
        cum_qty: Some(s(e.cum_qty)),
        avg_price: Some(f(e.avg_price)),
        order_ref: (!e.order_ref.is_empty()).then(|| e.order_ref.clone()),
        last_liquidity: Some(2),
    }
}

fn bar(b: &crate::simulator::codec::Bar, daily: bool) -> proto::HistoricalDataBar {
    let date = if daily {
        chrono::DateTime::from_timestamp(b.time, 0)
            .map(|t| t.format("%Y%m%d").to_string())
            .unwrap_or_default()
    } else {
        b.time.to_string()
    };
    proto::HistoricalDataBar {
        date: Some(date),
        open: Some(f(b.open)),
        high: Some(f(b.high)),
        low: Some(f(b.low)),
        close: Some(f(b.close)),
        volume: Some(s(b.volume)),
        wap: Some(s(b.wap)),
        bar_count: Some(b.count),
    }
}

fn frame(id: i32, message: &impl Message) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + message.encoded_len());
    out.extend_from_slice(&(id + PROTOBUF_OFFSET).to_be_bytes());
    message.encode_raw(&mut out);
    out
}

/// Encodes one message as a frame body (id + payload).
pub fn encode(message: &Outgoing) -> Vec<u8> {
    use outgoing as m;
    let req = |req_id: i32| proto::ReqId {
        req_id: Some(req_id),
    };
    match message {
        Outgoing::ManagedAccounts(list) => frame(
            m::MANAGED_ACCOUNTS,
            &proto::ManagedAccounts {
                accounts_list: Some(list.clone()),
            },
        ),
        Outgoing::NextValidId(id) => frame(
            m::NEXT_VALID_ID,
            &proto::NextValidId {
                order_id: Some(*id),
            },
        ),
        Outgoing::CurrentTime(secs) => frame(
            m::CURRENT_TIME,
            &proto::CurrentTime {
                current_time: Some(*secs),
            },
        ),
        Outgoing::CurrentTimeMillis(ms) => frame(
            m::CURRENT_TIME_MILLIS,
            &proto::CurrentTimeInMillis {
                current_time_in_millis: Some(*ms),
            },
        ),
        Outgoing::Error {
            id,
            code,
            message,
            time_ms,
        } => frame(
            m::ERROR,
            &proto::ErrorMessage {
                id: Some(*id),
                error_time: Some(*time_ms),
                error_code: Some(*code),
                error_msg: Some(message.clone()),
                advanced_order_reject_json: None,
            },
        ),
        Outgoing::ContractData { req_id, instrument } => frame(
            m::CONTRACT_DATA,
            &proto::ContractData {
                req_id: Some(*req_id),
                contract: Some(contract(instrument)),
                contract_details: Some(proto::ContractDetails {
                    market_name: Some(if instrument.primary_exchange == "NASDAQ" {
                        "NMS".to_string()
                    } else {
                        instrument.symbol.to_string()
                    }),
                    min_tick: Some(s(instrument.tick_size)),
                    order_types: Some("LMT,MKT,STP,STP LMT,TRAIL,DAY,GTC,IOC,FOK,OCA".to_string()),
                    valid_exchanges: Some(format!("SMART,{}", instrument.primary_exchange)),
                    price_magnifier: Some(1),
                    long_name: Some(instrument.long_name.to_string()),
                    industry: None,
                    category: None,
                    time_zone_id: Some("US/Eastern".to_string()),
                    trading_hours: None,
                    liquid_hours: None,
                    market_rule_ids: Some("26".to_string()),
                    stock_type: Some(instrument.stock_type.to_string()),
                    min_size: Some("1".to_string()),
                    size_increment: Some("1".to_string()),
                    suggested_size_increment: Some("100".to_string()),
                }),
            },
        ),
        Outgoing::ContractDataEnd { req_id } => frame(m::CONTRACT_DATA_END, &req(*req_id)),
        Outgoing::OpenOrder(o) => frame(
            m::OPEN_ORDER,
            &proto::OpenOrder {
                order_id: Some(o.order_id),
                contract: Some(contract(&o.instrument)),
                order: Some(order(o, false)),
                order_state: Some(order_state(o, false)),
            },
        ),
        Outgoing::OrderStatus(o) => frame(
            m::ORDER_STATUS,
            &proto::OrderStatus {
                order_id: Some(o.order_id),
                status: Some(o.status.code().to_string()),
                filled: Some(s(o.filled)),
                remaining: Some(s(if o.status == Status::Cancelled {
                    Decimal::ZERO
                } else {
                    o.remaining()
                })),
                avg_fill_price: Some(f(o.avg_fill_price)),
                perm_id: Some(o.perm_id),
                parent_id: Some(o.parent_id),
                last_fill_price: Some(f(o.last_fill_price)),
                client_id: Some(o.client_id),
                why_held: None,
                mkt_cap_price: Some(0.0),
            },
        ),
        Outgoing::OpenOrderEnd => frame(m::OPEN_ORDER_END, &proto::Empty {}),
        Outgoing::CompletedOrder(o) => frame(
            m::COMPLETED_ORDER,
            &proto::CompletedOrder {
                contract: Some(contract(&o.instrument)),
                order: Some(order(o, true)),
                order_state: Some(order_state(o, true)),
            },
        ),
        Outgoing::CompletedOrdersEnd => frame(m::COMPLETED_ORDERS_END, &proto::Empty {}),
        Outgoing::Execution {
            req_id,
            execution: e,
        } => frame(
            m::EXECUTION_DATA,
            &proto::ExecutionDetails {
                req_id: Some(*req_id),
                contract: Some(contract(&e.instrument)),
                execution: Some(execution(e)),
            },
        ),
        Outgoing::ExecutionEnd { req_id } => frame(m::EXECUTION_DATA_END, &req(*req_id)),
        Outgoing::Commission(e) => frame(
            m::COMMISSION_REPORT,
            &proto::CommissionAndFeesReport {
                exec_id: Some(e.exec_id.clone()),
                commission_and_fees: Some(f(e.commission)),
                currency: Some("USD".to_string()),
                realized_pnl: Some(e.realized_pnl.map_or(f64::MAX, f)),
            },
        ),
        Outgoing::Position {
            account,
            instrument,
            position,
            avg_cost,
        } => frame(
            m::POSITION,
            &proto::Position {
                account: Some(account.clone()),
                contract: Some(contract(instrument)),
                position: Some(s(*position)),
                avg_cost: Some(f(*avg_cost)),
            },
        ),
        Outgoing::PositionEnd => frame(m::POSITION_END, &proto::Empty {}),
        Outgoing::AccountSummary {
            req_id,
            account,
            tag,
            value,
            currency,
        } => frame(
            m::ACCOUNT_SUMMARY,
            &proto::AccountSummary {
                req_id: Some(*req_id),
                account: Some(account.clone()),
                tag: Some(tag.clone()),
                value: Some(value.clone()),
                currency: Some(currency.clone()),
            },
        ),
        Outgoing::AccountSummaryEnd { req_id } => frame(m::ACCOUNT_SUMMARY_END, &req(*req_id)),
        Outgoing::AccountValue {
            key,
            value,
            currency,
            account,
        } => frame(
            m::ACCOUNT_VALUE,
            &proto::AccountValue {
                key: Some(key.clone()),
                value: Some(value.clone()),
                currency: Some(currency.clone()),
                account_name: Some(account.clone()),
            },
        ),
        Outgoing::PortfolioValue {
            instrument,
            position,
            market_price,
            market_value,
            average_cost,
            unrealized_pnl,
            realized_pnl,
            account,
        } => frame(
            m::PORTFOLIO_VALUE,
            &proto::PortfolioValue {
                contract: Some(contract(instrument)),
                position: Some(s(*position)),
                market_price: Some(f(*market_price)),
                market_value: Some(f(*market_value)),
                average_cost: Some(f(*average_cost)),
                unrealized_pnl: Some(f(*unrealized_pnl)),
                realized_pnl: Some(f(*realized_pnl)),
                account_name: Some(account.clone()),
            },
        ),
        Outgoing::AccountUpdateTime(time) => frame(
            m::ACCOUNT_UPDATE_TIME,
            &proto::AccountUpdateTime {
                time_stamp: Some(time.clone()),
            },
        ),
        Outgoing::AccountDownloadEnd(account) => frame(
            m::ACCOUNT_DOWNLOAD_END,
            &proto::AccountDataEnd {
                account_name: Some(account.clone()),
            },
        ),
        Outgoing::AccountUpdateMulti {
            req_id,
            account,
            key,
            value,
            currency,
        } => frame(
            m::ACCOUNT_UPDATE_MULTI,
            &proto::AccountUpdateMultiRow {
                req_id: Some(*req_id),
                account: Some(account.clone()),
                model_code: None,
                key: Some(key.clone()),
                value: Some(value.clone()),
                currency: Some(currency.clone()),
            },
        ),
        Outgoing::AccountUpdateMultiEnd { req_id } => {
            frame(m::ACCOUNT_UPDATE_MULTI_END, &req(*req_id))
        }
        Outgoing::PnL {
            req_id,
            daily,
            unrealized,
            realized,
        } => frame(
            m::PNL,
            &proto::PnL {
                req_id: Some(*req_id),
                daily_pnl: Some(f(*daily)),
                unrealized_pnl: Some(f(*unrealized)),
                realized_pnl: Some(f(*realized)),
            },
        ),
        Outgoing::PnLSingle {
            req_id,
            position,
            daily,
            unrealized,
            realized,
            value,
        } => frame(
            m::PNL_SINGLE,
            &proto::PnLSingle {
                req_id: Some(*req_id),
                position: Some(s(*position)),
                daily_pnl: Some(f(*daily)),
                unrealized_pnl: Some(f(*unrealized)),
                realized_pnl: Some(f(*realized)),
                value: Some(f(*value)),
            },
        ),
        Outgoing::TickPrice {
            req_id,
            tick_type,
            price,
            size,
        } => frame(
            m::TICK_PRICE,
            &proto::TickPrice {
                req_id: Some(*req_id),
                tick_type: Some(*tick_type),
                price: Some(f(*price)),
                size: Some(s(*size)),
                attr_mask: Some(0),
            },
        ),
        Outgoing::TickSize {
            req_id,
            tick_type,
            size,
        } => frame(
            m::TICK_SIZE,
            &proto::TickSize {
                req_id: Some(*req_id),
                tick_type: Some(*tick_type),
                size: Some(s(*size)),
            },
        ),
        Outgoing::TickReqParams { req_id, min_tick } => frame(
            m::TICK_REQ_PARAMS,
            &proto::TickReqParams {
                req_id: Some(*req_id),
                min_tick: Some(s(*min_tick)),
                bbo_exchange: Some("9c0001".to_string()),
                snapshot_permissions: Some(3),
            },
        ),
        Outgoing::TickSnapshotEnd { req_id } => frame(m::TICK_SNAPSHOT_END, &req(*req_id)),
        Outgoing::MarketDataType {
            req_id,
            market_data_type,
        } => frame(
            m::MARKET_DATA_TYPE,
            &proto::MarketDataType {
                req_id: Some(*req_id),
                market_data_type: Some(*market_data_type),
            },
        ),
        Outgoing::RealTimeBar { req_id, bar } => frame(
            m::REAL_TIME_BARS,
            &proto::RealTimeBarTick {
                req_id: Some(*req_id),
                time: Some(bar.time),
                open: Some(f(bar.open)),
                high: Some(f(bar.high)),
                low: Some(f(bar.low)),
                close: Some(f(bar.close)),
                volume: Some(s(bar.volume)),
                wap: Some(s(bar.wap)),
                count: Some(bar.count),
            },
        ),
        Outgoing::HistoricalData {
            req_id,
            bars,
            daily,
            ..
        } => frame(
            m::HISTORICAL_DATA,
            &proto::HistoricalData {
                req_id: Some(*req_id),
                historical_data_bars: bars.iter().map(|b| bar(b, *daily)).collect(),
            },
        ),
        Outgoing::HistoricalDataEnd { req_id, start, end } => frame(
            m::HISTORICAL_DATA_END,
            &proto::HistoricalDataEnd {
                req_id: Some(*req_id),
                start_date_str: Some(start.clone()),
                end_date_str: Some(end.clone()),
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_start_api_and_flags_text_frames() {
        let mut frame = (incoming::START_API + PROTOBUF_OFFSET)
            .to_be_bytes()
            .to_vec();
        proto::StartApiRequest {
            client_id: Some(7),
            optional_capabilities: None,
        }
        .encode(&mut frame)
        .expect("vec has room");
        assert_eq!(
            decode(&frame).expect("valid"),
            Request::StartApi { client_id: 7 }
        );
        assert_eq!(
            decode(&49i32.to_be_bytes()).expect("valid"),
            Request::Unknown { message_id: 49 }
        );
        assert!(decode(&[0, 1]).is_err());
    }

    #[test]
    fn encodes_error_with_offset_id() {
        let body = encode(&Outgoing::Error {
            id: -1,
            code: 2104,
            message: "ok".into(),
            time_ms: 0,
        });
        let (id, payload) = split(&body).expect("has id");
        assert_eq!(id, outgoing::ERROR + PROTOBUF_OFFSET);
        let decoded = proto::ErrorMessage::decode(payload).expect("protobuf");
        assert_eq!(decoded.error_code, Some(2104));
    }
}

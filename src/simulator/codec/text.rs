//! The text codec (server versions ≤ 178, ib_async / ib_insync): NUL-separated fields, the
//! message id first, laid out as TWS lays them out for the negotiated version.

use rust_decimal::Decimal;

use super::protobuf::{DecodeError, decimal, f, s};
use super::{Bar, ExecutionFilter, HistoricalRequest, OrderTicket, Outgoing, Request};
use crate::simulator::exchange::{Execution, SimOrder, Status};
use crate::simulator::universe::{ContractQuery, Instrument};

/// IB's "no value" for doubles, as text.
const UNSET_DOUBLE: &str = "1.7976931348623157E308";

/// Reads fields in order; a missing field reads as empty, as TWS tolerates short messages.
struct Reader<'a> {
    fields: Vec<&'a str>,
    at: usize,
    id: i32,
}

impl<'a> Reader<'a> {
    fn str(&mut self) -> &'a str {
        let field = self.fields.get(self.at).copied().unwrap_or("");
        self.at += 1;
        field
    }

    fn string(&mut self) -> String {
        self.str().to_string()
    }

    fn int(&mut self) -> Result<i32, DecodeError> {
        let field = self.str();
        if field.is_empty() {
            return Ok(0);
        }
        field.parse().map_err(|_| DecodeError::Text {
            id: self.id,
            reason: format!("field {} should be an integer, got {field:?}", self.at - 1),
        })
    }

    fn bool(&mut self) -> Result<bool, DecodeError> {
        Ok(self.int()? != 0)
    }

    fn price(&mut self) -> Option<Decimal> {
        decimal(self.str().parse::<f64>().ok())
    }

    fn skip(&mut self, n: usize) {
        self.at += n;
    }

    fn at(&self, index: usize) -> &'a str {
        self.fields.get(index).copied().unwrap_or("")
    }

    /// conId, symbol, secType, lastTradeDate, strike, right, multiplier, exchange,
    /// primaryExchange, currency, localSymbol, tradingClass.
    fn contract(&mut self) -> Result<ContractQuery, DecodeError> {
        let con_id = self.int()?;
        let symbol = self.string();
        let sec_type = self.string();
        self.skip(4);
        let exchange = self.string();
        self.skip(1);
        let currency = self.string();
        self.skip(2);
        Ok(ContractQuery {
            con_id,
            symbol,
            sec_type,
            exchange,
            currency,
        })
    }
}

/// Decodes one text frame of a session at `version`.
pub fn decode(version: i32, frame: &[u8]) -> Result<Request, DecodeError> {
    let text = String::from_utf8_lossy(frame);
    let mut fields: Vec<&str> = text.split('\0').collect();
    if fields.last() == Some(&"") {
        fields.pop();
    }
    let id: i32 = fields
        .first()
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| DecodeError::Text {
            id: -1,
            reason: format!("the first field is not a message id: {:?}", fields.first()),
        })?;
    let mut r = Reader { fields, at: 1, id };
    let request = match id {
        71 => {
            r.skip(1);
            Request::StartApi {
                client_id: r.int()?,
            }
        }
        49 => Request::CurrentTime,
        105 => Request::CurrentTimeMillis,
        8 => Request::Ids,
        17 => Request::ManagedAccounts,
        9 => {
            r.skip(1);
            let req_id = r.int()?;
            Request::ContractDetails {
                req_id,
                contract: r.contract()?,
            }
        }
        3 => decode_place_order(version, &mut r)?,
        4 => {
            r.skip(1);
            Request::CancelOrder { order_id: r.int()? }
        }
        58 => Request::GlobalCancel,
        5 => Request::OpenOrders,
        16 => Request::AllOpenOrders,
        15 => {
            r.skip(1);
            Request::AutoOpenOrders {
                auto_bind: r.bool()?,
            }
        }
        99 => Request::CompletedOrders {
            api_only: r.bool()?,
        },
        7 => {
            r.skip(1);
            let req_id = r.int()?;
            Request::Executions {
                req_id,
                filter: ExecutionFilter {
                    client_id: r.int()?,
                    account: r.string(),
                    time: r.string(),
                    symbol: r.string(),
                    sec_type: r.string(),
                    exchange: r.string(),
                    side: r.string(),
                },
            }
        }
        61 => Request::Positions,
        64 => Request::CancelPositions,
        62 => {
            r.skip(1);
            let req_id = r.int()?;
            r.skip(1);
            Request::AccountSummary {
                req_id,
                tags: r.string(),
            }
        }
        63 => {
            r.skip(1);
            Request::CancelAccountSummary { req_id: r.int()? }
        }
        6 => {
            r.skip(1);
            Request::AccountUpdates {
                subscribe: r.bool()?,
            }
        }
        76 => {
            r.skip(1);
            Request::AccountUpdatesMulti { req_id: r.int()? }
        }
        77 => {
            r.skip(1);
            Request::CancelAccountUpdatesMulti { req_id: r.int()? }
        }
        92 => Request::PnL { req_id: r.int()? },
        93 => Request::CancelPnL { req_id: r.int()? },
        94 => {
            let req_id = r.int()?;
            r.skip(2);
            Request::PnLSingle {
                req_id,
                con_id: r.int()?,
            }
        }
        95 => Request::CancelPnLSingle { req_id: r.int()? },
        1 => {
            r.skip(1);
            let req_id = r.int()?;
            let contract = r.contract()?;
            if r.bool()? {
                r.skip(3);
            }
            r.skip(1);
            let snapshot = r.bool()?;
            let regulatory = r.bool()?;
            Request::MarketData {
                req_id,
                contract,
                snapshot: snapshot || regulatory,
            }
        }
        2 => {
            r.skip(1);
            Request::CancelMarketData { req_id: r.int()? }
        }
        59 => {
            r.skip(1);
            Request::MarketDataType {
                market_data_type: r.int()?,
            }
        }
        50 => {
            r.skip(1);
            let req_id = r.int()?;
            Request::RealTimeBars {
                req_id,
                contract: r.contract()?,
            }
        }
        51 => {
            r.skip(1);
            Request::CancelRealTimeBars { req_id: r.int()? }
        }
        20 => {
            let req_id = r.int()?;
            let contract = r.contract()?;
            r.skip(1);
            let end = r.string();
            let bar_size = r.string();
            let duration = r.string();
            r.skip(1);
            let what_to_show = r.string();
            let format_date = r.int()?;
            let keep_up_to_date = r.bool()?;
            Request::HistoricalData(Box::new(HistoricalRequest {
                req_id,
                contract,
                end,
                bar_size,
                duration,
                what_to_show,
                keep_up_to_date,
                format_date,
            }))
        }
        25 => {
            r.skip(1);
            Request::CancelHistoricalData { req_id: r.int()? }
        }
        11 | 13 | 23 | 75 | 90 | 98 | 107 => Request::Quiet { message_id: id },
        other => Request::Unknown { message_id: other },
    };
    Ok(request)
}

/// placeOrder as ib_async lays it out (no BAG legs, no delta-neutral contract).
fn decode_place_order(version: i32, r: &mut Reader<'_>) -> Result<Request, DecodeError> {
    let order_id = r.int()?;
    let contract = r.contract()?;
    r.skip(2); // secIdType, secId
    let action = r.string();
    let total_quantity = r.string();
    let order_type = r.string();
    let lmt_price = r.price();
    let aux_price = r.price();
    let tif = r.string();
    let oca_group = r.string();
    let account = r.string();
    r.skip(2); // openClose, origin
    let order_ref = r.string();
    let transmit = r.bool()?;
    let parent_id = r.int()?;
    r.skip(4); // blockOrder, sweepToFill, displaySize, triggerMethod
    let outside_rth = r.bool()?;
    // The trailing fields sit after a version-dependent block: faProfile exists below 177,
    // and eight delta-neutral fields follow when a delta-neutral order type is set.
    // After outsideRth: hidden, an empty field, discretionaryAmt, goodAfterTime, goodTillDate,
    // faGroup, faMethod, faPercentage, (faProfile), then modelCode.
    let model_code_at = r.at + 8 + usize::from(version < 177);
    let delta_neutral_type_at = model_code_at + 22;
    let mut continuous_update_at = delta_neutral_type_at + 2;
    if !r.at(delta_neutral_type_at).is_empty() {
        continuous_update_at += 8;
    }
    r.at = continuous_update_at + 2;
    let trail_stop_price = r.price();
    let trailing_percent = r.price();
    Ok(Request::PlaceOrder {
        order_id,
        contract,
        ticket: Box::new(OrderTicket {
            action,
            total_quantity,
            order_type,
            lmt_price,
            aux_price,
            trailing_percent,
            trail_stop_price,
            tif,
            account,
            oca_group,
            order_ref,
            parent_id,
            transmit,
            outside_rth,
        }),
    })
}

/// Builds one text message.
#[derive(Default)]
struct Writer {
    out: Vec<u8>,
}

impl Writer {
    fn new(id: i32) -> Self {
        let mut w = Self::default();
        w.int(id);
        w
    }

    fn str(&mut self, value: &str) -> &mut Self {
        // A NUL inside a field would split it; TWS never sends one.
        self.out.extend(value.bytes().filter(|b| *b != 0));
        self.out.push(0);
        self
    }

    fn int(&mut self, value: impl std::fmt::Display) -> &mut Self {
        self.str(&value.to_string())
    }

    fn dec(&mut self, value: Decimal) -> &mut Self {
        self.str(&s(value))
    }

    fn price(&mut self, value: Option<Decimal>) -> &mut Self {
        match value {
            Some(v) => self.str(&f(v).to_string()),
            None => self.str(UNSET_DOUBLE),
        }
    }

    fn empty(&mut self, n: usize) -> &mut Self {
        for _ in 0..n {
            self.out.push(0);
        }
        self
    }

    fn bool(&mut self, value: bool) -> &mut Self {
        self.str(if value { "1" } else { "0" })
    }

    /// conId, symbol, secType, lastTradeDate, strike, right, multiplier, then `exchange`
    /// (and primaryExchange when `primary`), currency, localSymbol, tradingClass.
    fn contract(&mut self, i: &Instrument, exchange: &str, primary: Option<&str>) -> &mut Self {
        self.int(i.con_id)
            .str(i.symbol)
            .str("STK")
            .str("")
            .str("0")
            .str("")
            .str("");
        self.str(exchange);
        if let Some(primary) = primary {
            self.str(primary);
        }
        self.str("USD").str(i.symbol).str(&trading_class(i))
    }
}

fn trading_class(i: &Instrument) -> String {
    if i.primary_exchange == "NASDAQ" {
        "NMS".to_string()
    } else {
        i.symbol.to_string()
    }
}

fn open_order(version: i32, o: &SimOrder) -> Vec<u8> {
    let mut w = Writer::new(5);
    w.int(o.order_id);
    w.contract(&o.instrument, "SMART", None);
    w.str(o.side.action())
        .dec(o.quantity)
        .str(o.order_type.code());
    w.price(o.lmt_price).price(o.aux_price).str(o.tif.code());
    w.str(&o.oca_group)
        .str(&o.account)
        .str("O")
        .int(0)
        .str(&o.order_ref);
    w.int(o.client_id)
        .int(o.perm_id)
        .bool(o.outside_rth)
        .bool(false);
    w.str("0").str("").str("").str("").str("").str("");
    if version < 177 {
        w.str("");
    }
    // modelCode … nbboPriceCap (23 fields), then parentId, triggerMethod, volatility,
    // volatilityType, deltaNeutralOrderType, deltaNeutralAuxPrice.
    w.str("")
        .str("")
        .str("")
        .price(None)
        .str("")
        .int(0)
        .str("")
        .int(-1);
    w.int(0)
        .price(None)
        .price(None)
        .price(None)
        .price(None)
        .price(None);
    w.str("")
        .bool(false)
        .bool(false)
        .bool(false)
        .str("")
        .int(0)
        .bool(false)
        .bool(false)
        .price(None);
    w.int(o.parent_id)
        .int(0)
        .price(None)
        .int(0)
        .str("")
        .price(None);
    // continuousUpdate, referencePriceType, trailStopPrice, trailingPercent, basisPoints,
    // basisPointsType, comboLegsDescrip, then no legs, no order legs, no routing params.
    w.bool(false)
        .int(0)
        .price(o.trail_stop)
        .price(o.trailing_percent)
        .price(None)
        .int(0)
        .str("");
    w.int(0).int(0).int(0);
    w.str("").str("").str(""); // scale fields
    w.str(""); // hedgeType
    w.bool(false).str("").int(0).bool(false).bool(false); // optOut, clearing, notHeld, no DNC
    w.str(""); // algoStrategy
    w.bool(false).bool(false).str(o.status.code());
    w.empty(9);
    let commission = (o.status == Status::Filled).then_some(o.commission);
    w.price(commission)
        .price(None)
        .price(None)
        .str("USD")
        .str("");
    w.bool(false).bool(false);
    w.int(0); // conditions
    w.str("")
        .price(None)
        .price(o.trail_stop)
        .price(None)
        .price(None)
        .price(None)
        .price(None)
        .int(0);
    w.str("")
        .str("")
        .str("")
        .price(None)
        .bool(false)
        .bool(false)
        .bool(false)
        .str("");
    if version >= 159 {
        w.str("");
    }
    if version >= 160 {
        w.str("");
    }
    if version >= 162 {
        w.bool(false);
    }
    if version >= 170 {
        w.str("").str("").price(None).price(None).price(None);
    }
    w.out
}

fn completed_order(version: i32, o: &SimOrder) -> Vec<u8> {
    let mut w = Writer::new(101);
    w.contract(&o.instrument, "SMART", None);
    w.str(o.side.action())
        .dec(o.remaining())
        .str(o.order_type.code());
    w.price(o.lmt_price).price(o.aux_price).str(o.tif.code());
    w.str(&o.oca_group)
        .str(&o.account)
        .str("O")
        .int(0)
        .str(&o.order_ref);
    w.int(o.perm_id)
        .bool(o.outside_rth)
        .bool(false)
        .str("0")
        .str("");
    w.str("").str("").str("");
    if version < 177 {
        w.str("");
    }
    // modelCode … deltaNeutralAuxPrice (23 fields).
    w.str("")
        .str("")
        .str("")
        .price(None)
        .str("")
        .int(0)
        .str("")
        .int(-1);
    w.price(None)
        .price(None)
        .price(None)
        .price(None)
        .price(None);
    w.str("")
        .bool(false)
        .bool(false)
        .str("")
        .int(0)
        .int(0)
        .price(None)
        .int(0)
        .str("")
        .price(None);
    w.bool(false)
        .int(0)
        .price(o.trail_stop)
        .price(o.trailing_percent)
        .str("");
    w.int(0).int(0).int(0);
    w.str("").str("").str("");
    w.str("");
    w.str("").int(0).bool(false).bool(false);
    w.str("");
    w.bool(false).str(o.status.code()).bool(false).bool(false);
    w.int(0);
    w.price(o.trail_stop)
        .price(None)
        .price(None)
        .bool(false)
        .bool(false)
        .str("")
        .dec(o.filled);
    w.int(0).bool(false).str("").bool(false).int(0).int(0);
    w.str(&o.completed_time).str(o.status.code());
    if version >= 170 {
        w.str("").str("").price(None).price(None).price(None);
    }
    w.out
}

fn execution(version: i32, req_id: i32, e: &Execution) -> Vec<u8> {
    let mut w = Writer::new(11);
    w.int(req_id).int(e.order_id);
    w.contract(&e.instrument, e.instrument.primary_exchange, None);
    w.str(&e.exec_id)
        .str(&e.time.format("%Y%m%d %H:%M:%S UTC").to_string());
    w.str(&e.account)
        .str(e.instrument.primary_exchange)
        .str(e.side.exec_side());
    w.dec(e.shares)
        .str(&f(e.price).to_string())
        .int(e.perm_id)
        .int(e.client_id)
        .int(0);
    w.dec(e.cum_qty)
        .str(&f(e.avg_price).to_string())
        .str(&e.order_ref);
    w.str("").str("").str("").int(2);
    if version >= 178 {
        w.bool(false);
    }
    w.out
}

fn bar_date(bar: &Bar, daily: bool, format_date: i32) -> String {
    let at = chrono::DateTime::from_timestamp(bar.time, 0).unwrap_or_default();
    if daily {
        at.format("%Y%m%d").to_string()
    } else if format_date == 2 {
        bar.time.to_string()
    } else {
        at.format("%Y%m%d %H:%M:%S UTC").to_string()
    }
}

/// Encodes one message for a text session at `version`; `None` when the text protocol has
/// no such message.
pub fn encode(version: i32, message: &Outgoing) -> Option<Vec<u8>> {
    let w = match message {
        Outgoing::ManagedAccounts(list) => {
            let mut w = Writer::new(15);
            w.int(1).str(list);
            w
        }
        Outgoing::NextValidId(id) => {
            let mut w = Writer::new(9);
            w.int(1).int(id);
            w
        }
        Outgoing::CurrentTime(secs) => {
            let mut w = Writer::new(49);
            w.int(1).int(secs);
            w
        }
        // The millisecond clock is a protobuf-era message; text clients never ask for it.
        Outgoing::CurrentTimeMillis(_) => return None,
        Outgoing::Error {
            id, code, message, ..
        } => {
            let mut w = Writer::new(4);
            w.int(2).int(id).int(code).str(message);
            if version >= 166 {
                w.str("");
            }
            w
        }
        Outgoing::ContractData {
            req_id,
            instrument: i,
        } => {
            let mut w = Writer::new(10);
            if version < 164 {
                w.int(8);
            }
            w.int(req_id)
                .str(i.symbol)
                .str("STK")
                .str("")
                .str("0")
                .str("")
                .str("SMART")
                .str("USD");
            w.str(i.symbol)
                .str(&trading_class(i))
                .str(&trading_class(i))
                .int(i.con_id);
            w.dec(i.tick_size);
            if version < 164 {
                w.str("");
            }
            w.str("")
                .str("LMT,MKT,STP,STP LMT,TRAIL")
                .str(&format!("SMART,{}", i.primary_exchange));
            w.int(1)
                .int(0)
                .str(i.long_name)
                .str(i.primary_exchange)
                .str("")
                .str("")
                .str("")
                .str("");
            w.str("US/Eastern").str("").str("").str("").str("").int(0);
            w.int(1).str("").str("").str("26").str("").str(i.stock_type);
            if version >= 164 {
                w.str("1").str("1").str("100");
            }
            w
        }
        Outgoing::ContractDataEnd { req_id } => {
            let mut w = Writer::new(52);
            w.int(1).int(req_id);
            w
        }
        Outgoing::OpenOrder(o) => return Some(open_order(version, o)),
        Outgoing::OrderStatus(o) => {
            let mut w = Writer::new(3);
            let remaining = if o.status == Status::Cancelled {
                Decimal::ZERO
            } else {
                o.remaining()
            };
            w.int(o.order_id)
                .str(o.status.code())
                .dec(o.filled)
                .dec(remaining);
            w.str(&f(o.avg_fill_price).to_string())
                .int(o.perm_id)
                .int(o.parent_id);
            w.str(&f(o.last_fill_price).to_string())
                .int(o.client_id)
                .str("")
                .str("0");
            w
        }
        Outgoing::OpenOrderEnd => {
            let mut w = Writer::new(53);
            w.int(1);
            w
        }
        Outgoing::CompletedOrder(o) => return Some(completed_order(version, o)),
        Outgoing::CompletedOrdersEnd => Writer::new(102),
        Outgoing::Execution {
            req_id,
            execution: e,
        } => return Some(execution(version, *req_id, e)),
        Outgoing::ExecutionEnd { req_id } => {
            let mut w = Writer::new(55);
            w.int(1).int(req_id);
            w
        }
        Outgoing::Commission(e) => {
            let mut w = Writer::new(59);
            w.int(1)
                .str(&e.exec_id)
                .str(&f(e.commission).to_string())
                .str("USD");
            w.price(e.realized_pnl).price(None).str("");
            w
        }
        Outgoing::Position {
            account,
            instrument,
            position,
            avg_cost,
        } => {
            let mut w = Writer::new(61);
            w.int(3).str(account).contract(instrument, "SMART", None);
            w.dec(*position).str(&f(*avg_cost).to_string());
            w
        }
        Outgoing::PositionEnd => {
            let mut w = Writer::new(62);
            w.int(1);
            w
        }
        Outgoing::AccountSummary {
            req_id,
            account,
            tag,
            value,
            currency,
        } => {
            let mut w = Writer::new(63);
            w.int(1)
                .int(req_id)
                .str(account)
                .str(tag)
                .str(value)
                .str(currency);
            w
        }
        Outgoing::AccountSummaryEnd { req_id } => {
            let mut w = Writer::new(64);
            w.int(1).int(req_id);
            w
        }
        Outgoing::AccountValue {
            key,
            value,
            currency,
            account,
        } => {
            let mut w = Writer::new(6);
            w.int(2).str(key).str(value).str(currency).str(account);
            w
        }
        Outgoing::PortfolioValue {
            instrument,
            position,
            market_price,
            market_value,
            average_cost,
            unrealized_pnl,
            realized_pnl,
            account,
        } => {
            let mut w = Writer::new(7);
            w.int(8);
            // Portfolio lines carry the primary exchange in the exchange slot.
            w.int(instrument.con_id)
                .str(instrument.symbol)
                .str("STK")
                .str("")
                .str("0")
                .str("")
                .str("");
            w.str(instrument.primary_exchange)
                .str("USD")
                .str(instrument.symbol)
                .str(&trading_class(instrument));
            w.dec(*position);
            for value in [
                market_price,
                market_value,
                average_cost,
                unrealized_pnl,
                realized_pnl,
            ] {
                w.str(&f(*value).to_string());
            }
            w.str(account);
            w
        }
        Outgoing::AccountUpdateTime(time) => {
            let mut w = Writer::new(8);
            w.int(1).str(time);
            w
        }
        Outgoing::AccountDownloadEnd(account) => {
            let mut w = Writer::new(54);
            w.int(1).str(account);
            w
        }
        Outgoing::AccountUpdateMulti {
            req_id,
            account,
            key,
            value,
            currency,
        } => {
            let mut w = Writer::new(73);
            w.int(1)
                .int(req_id)
                .str(account)
                .str("")
                .str(key)
                .str(value)
                .str(currency);
            w
        }
        Outgoing::AccountUpdateMultiEnd { req_id } => {
            let mut w = Writer::new(74);
            w.int(1).int(req_id);
            w
        }
        Outgoing::PnL {
            req_id,
            daily,
            unrealized,
            realized,
        } => {
            let mut w = Writer::new(94);
            w.int(req_id);
            for value in [daily, unrealized, realized] {
                w.str(&f(*value).to_string());
            }
            w
        }
        Outgoing::PnLSingle {
            req_id,
            position,
            daily,
            unrealized,
            realized,
            value,
        } => {
            let mut w = Writer::new(95);
            w.int(req_id).dec(*position);
            for v in [daily, unrealized, realized, value] {
                w.str(&f(*v).to_string());
            }
            w
        }
        Outgoing::TickPrice {
            req_id,
            tick_type,
            price,
            size,
        } => {
            let mut w = Writer::new(1);
            w.int(6)
                .int(req_id)
                .int(tick_type)
                .str(&f(*price).to_string())
                .dec(*size)
                .int(0);
            w
        }
        Outgoing::TickSize {
            req_id,
            tick_type,
            size,
        } => {
            let mut w = Writer::new(2);
            w.int(6).int(req_id).int(tick_type).dec(*size);
            w
        }
        Outgoing::TickReqParams { req_id, min_tick } => {
            let mut w = Writer::new(81);
            w.int(req_id).dec(*min_tick).str("9c0001").int(3);
            w
        }
        Outgoing::TickSnapshotEnd { req_id } => {
            let mut w = Writer::new(57);
            w.int(1).int(req_id);
            w
        }
        Outgoing::MarketDataType {
            req_id,
            market_data_type,
        } => {
            let mut w = Writer::new(58);
            w.int(1).int(req_id).int(market_data_type);
            w
        }
        Outgoing::RealTimeBar { req_id, bar } => {
            let mut w = Writer::new(50);
            w.int(3).int(req_id).int(bar.time);
            for value in [bar.open, bar.high, bar.low, bar.close] {
                w.str(&f(value).to_string());
            }
            w.dec(bar.volume).dec(bar.wap).int(bar.count);
            w
        }
        Outgoing::HistoricalData {
            req_id,
            bars,
            daily,
            format_date,
            start,
            end,
        } => {
            let mut w = Writer::new(17);
            w.int(req_id).str(start).str(end).int(bars.len());
            for bar in bars {
                w.str(&bar_date(bar, *daily, *format_date));
                for value in [bar.open, bar.high, bar.low, bar.close] {
                    w.str(&f(value).to_string());
                }
                w.dec(bar.volume).dec(bar.wap).int(bar.count);
            }
            w
        }
        // Text versions carry start and end inside HistoricalData itself.
        Outgoing::HistoricalDataEnd { .. } => return None,
    };
    Some(w.out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(fields: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        for field in fields {
            out.extend_from_slice(field.as_bytes());
            out.push(0);
        }
        out
    }

    #[test]
    fn decodes_start_api_and_executions() {
        assert_eq!(
            decode(178, &frame(&["71", "2", "17", ""])).expect("valid"),
            Request::StartApi { client_id: 17 }
        );
        let request = decode(
            178,
            &frame(&["7", "3", "9", "0", "", "", "AAPL", "", "", "BUY"]),
        )
        .expect("valid");
        match request {
            Request::Executions { req_id, filter } => {
                assert_eq!(req_id, 9);
                assert_eq!(filter.symbol, "AAPL");
                assert_eq!(filter.side, "BUY");
            }
            other => panic!("{other:?}"),
        }
        assert!(decode(178, &frame(&["x"])).is_err());
    }

    /// A TRAIL placeOrder laid out as ib_async 2.1 sends it at version 178.
    fn trail_order_fields() -> Vec<String> {
        let mut fields: Vec<String> = [
            "3", "42", "0", "AAPL", "STK", "", "0.0", "", "", "SMART", "", "USD", "", "",
        ]
        .iter()
        .map(|f| f.to_string())
        .collect();
        fields.extend(
            [
                "", "", "SELL", "5.0", "TRAIL", "", "", "GTC", "grp", "", "O", "0", "ref-1", "1",
                "0",
            ]
            .map(String::from),
        );
        // blockOrder … hidden, "", discretionaryAmt … faPercentage.
        fields.extend(["0", "0", "", "0", "1", "0", "", "", "", "", "", "", ""].map(String::from));
        // modelCode … deltaNeutralAuxPrice (24 fields, no delta-neutral order type).
        fields.extend(std::iter::repeat_n(String::new(), 24));
        // continuousUpdate, referencePriceType, trailStopPrice, trailingPercent.
        fields.extend(["0", "", "", "1.5"].map(String::from));
        fields.extend(std::iter::repeat_n(String::new(), 30));
        fields
    }

    #[test]
    fn decodes_place_order_positions() {
        let fields = trail_order_fields();
        let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
        match decode(178, &frame(&refs)).expect("valid") {
            Request::PlaceOrder {
                order_id,
                contract,
                ticket,
            } => {
                assert_eq!(order_id, 42);
                assert_eq!(contract.symbol, "AAPL");
                assert_eq!(ticket.action, "SELL");
                assert_eq!(ticket.order_type, "TRAIL");
                assert_eq!(ticket.tif, "GTC");
                assert_eq!(ticket.oca_group, "grp");
                assert_eq!(ticket.order_ref, "ref-1");
                assert!(ticket.transmit);
                assert!(ticket.outside_rth);
                assert_eq!(ticket.lmt_price, None);
                assert_eq!(ticket.trailing_percent, Some(Decimal::new(15, 1)));
                assert_eq!(ticket.trail_stop_price, None);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn encodes_error_with_reject_json_slot() {
        let body = encode(
            178,
            &Outgoing::Error {
                id: -1,
                code: 2104,
                message: "ok".into(),
                time_ms: 0,
            },
        )
        .expect("text has errors");
        assert_eq!(body, frame(&["4", "2", "-1", "2104", "ok", ""]));
    }
}

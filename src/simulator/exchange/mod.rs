//! The shared exchange: connected clients, the order book of every client, matching against
//! the random-walk quotes, fills, the paper account and the streaming subscriptions.
//!
//! All state sits behind one std mutex that is never held across an `.await`; messages to
//! clients go through each session's unbounded channel, so the exchange never blocks on a
//! slow socket.

mod account;
mod orders;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use self::account::{Account, PositionState};
pub use self::orders::{Execution, OrderType, SimOrder, Status, Tif};

use super::clock::Clock;
use super::codec::{Bar, ExecutionFilter, HistoricalRequest, OrderTicket, Outgoing};
use super::market::{self, Walk};
use super::universe::{ContractQuery, Universe};

/// IB's limit of simultaneous market data lines.
pub const MAX_MARKET_DATA_LINES: usize = 100;
/// Historical requests allowed per client in [`HISTORICAL_WINDOW_SECS`].
pub const MAX_HISTORICAL_REQUESTS: usize = 60;
/// The historical pacing window (IB: 60 requests per 10 minutes).
pub const HISTORICAL_WINDOW_SECS: i64 = 600;
/// Identical historical requests within this many seconds are a pacing violation.
pub const IDENTICAL_HISTORICAL_SECS: i64 = 15;
/// The most bars one historical request may ask for.
pub const MAX_BARS: usize = 5000;

/// Where a message goes.
pub type Outbox = mpsc::UnboundedSender<Outgoing>;

/// Exchange settings fixed at start-up.
#[derive(Debug, Clone)]
pub struct ExchangeSettings {
    /// The paper account id.
    pub account: String,
    /// Starting cash.
    pub cash: Decimal,
    /// Seed of the quotes and bars.
    pub seed: u64,
    /// Commission per share.
    pub commission_per_share: Decimal,
    /// Minimum commission per execution.
    pub min_commission: Decimal,
    /// Largest quantity of one execution; zero fills an order in one execution.
    pub partial_fill_qty: Decimal,
    /// Active orders allowed per contract and side.
    pub max_orders_per_side: usize,
    /// Messages per second a client may send (0 = unlimited).
    pub message_rate_limit: u32,
}

/// Faults the control API injects.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Faults {
    /// Orders still to reject.
    pub reject_next: u32,
    /// The code those rejects carry.
    pub reject_code: i32,
    /// Delay before acknowledging an order, in milliseconds.
    pub ack_delay_ms: u64,
    /// Quotes do not move while frozen.
    pub frozen: bool,
}

/// One streaming subscription of a client.
#[derive(Debug, Clone)]
enum Subscription {
    MarketData { index: usize },
    RealTimeBars { index: usize, bar: Option<Bar> },
    PnL,
    PnLSingle { index: usize },
    AccountSummary { tags: String },
    AccountUpdatesMulti,
}

/// A connected client.
#[derive(Debug)]
struct Client {
    conn_id: u64,
    outbox: Outbox,
    cancel: CancellationToken,
    subscriptions: BTreeMap<i32, Subscription>,
    positions: bool,
    account_updates: bool,
    market_data_type: i32,
    historical: VecDeque<(i64, String)>,
}

/// State kept across restarts with `--state`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Persisted {
    /// Next order id handed out.
    pub next_order_id: i32,
    /// Next permanent id.
    pub next_perm_id: i64,
    /// Executions so far.
    pub next_exec: u64,
    /// Open orders.
    pub orders: Vec<SimOrder>,
    /// Finished orders.
    pub completed: Vec<SimOrder>,
    /// All executions.
    pub executions: Vec<Execution>,
    /// The account.
    pub account: Account,
}

#[derive(Debug)]
struct State {
    clients: HashMap<i32, Client>,
    book: Persisted,
    walks: Vec<Walk>,
    faults: Faults,
    dirty: bool,
}

/// The exchange shared by every session.
#[derive(Debug)]
pub struct Exchange {
    state: Mutex<State>,
    universe: Universe,
    clock: Arc<dyn Clock>,
    settings: ExchangeSettings,
}

/// Why a client could not register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("client id {0} is already in use")]
pub struct ClientIdInUse(pub i32);

/// Reply to a request the session must send itself.
pub type Replies = Vec<Outgoing>;

impl Exchange {
    /// A fresh exchange (or one restored from `restored`).
    pub fn new(
        settings: ExchangeSettings,
        clock: Arc<dyn Clock>,
        restored: Option<Persisted>,
    ) -> Self {
        let universe = Universe::default();
        let walks = universe
            .all()
            .iter()
            .map(|i| Walk::new(i, settings.seed))
            .collect();
        let book = restored.map(|mut book| {
            // Instruments are not persisted, only their index in the universe.
            for order in book.orders.iter_mut().chain(book.completed.iter_mut()) {
                if let Some(instrument) = universe.get(order.index) {
                    order.instrument = instrument.clone();
                }
            }
            for execution in &mut book.executions {
                if let Some(instrument) = universe.get(execution.index) {
                    execution.instrument = instrument.clone();
                }
            }
            book
        });
        // Permanent ids and execution ids are unique across the account's life at IB. A fresh
        // simulator starts them at the clock's millisecond, so a journal that outlives a
        // simulator (the embedded one restarts with Binder) never sees an id twice.
        let epoch_ms = clock.now().timestamp_millis().max(1);
        let book = book.unwrap_or_else(|| Persisted {
            next_order_id: 1,
            next_perm_id: epoch_ms,
            next_exec: u64::try_from(epoch_ms).unwrap_or(1),
            account: Account::new(settings.cash),
            ..Persisted::default()
        });
        Self {
            state: Mutex::new(State {
                clients: HashMap::new(),
                book,
                walks,
                faults: Faults::default(),
                dirty: false,
            }),
            universe,
            clock,
            settings,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent-enough state for a simulator.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The current time from the injected clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The paper account id.
    pub fn account_id(&self) -> &str {
        &self.settings.account
    }

    /// Messages per second a client may send before error 100 (0 = unlimited).
    pub fn message_rate_limit(&self) -> u32 {
        self.settings.message_rate_limit
    }

    /// The instrument universe.
    pub fn universe(&self) -> &Universe {
        &self.universe
    }

    /// Registers a client id; fails when it is already connected.
    pub fn connect(
        &self,
        client_id: i32,
        conn_id: u64,
        outbox: Outbox,
        cancel: CancellationToken,
    ) -> Result<(), ClientIdInUse> {
        let mut state = self.lock();
        if state.clients.contains_key(&client_id) {
            return Err(ClientIdInUse(client_id));
        }
        state.clients.insert(
            client_id,
            Client {
                conn_id,
                outbox,
                cancel,
                subscriptions: BTreeMap::new(),
                positions: false,
                account_updates: false,
                market_data_type: 1,
                historical: VecDeque::new(),
            },
        );
        Ok(())
    }

    /// Forgets a client and its subscriptions (its orders stay, as at IB). `conn_id` guards
    /// against removing a newer connection that reused the client id.
    pub fn disconnect(&self, client_id: i32, conn_id: u64) {
        let mut state = self.lock();
        if state
            .clients
            .get(&client_id)
            .is_some_and(|c| c.conn_id == conn_id)
        {
            state.clients.remove(&client_id);
        }
    }

    /// Cancels every session (control API "drop").
    pub fn drop_all(&self) -> usize {
        let mut state = self.lock();
        let count = state.clients.len();
        for client in state.clients.values() {
            client.cancel.cancel();
        }
        state.clients.clear();
        count
    }

    /// Sends `message` to every connected client.
    pub fn broadcast(&self, message: &Outgoing) -> usize {
        let state = self.lock();
        for client in state.clients.values() {
            let _ = client.outbox.send(message.clone());
        }
        state.clients.len()
    }

    /// Drops every market data line (after a 1101 "data lost" restore, as TWS does).
    pub fn drop_market_data(&self) {
        for client in self.lock().clients.values_mut() {
            client.subscriptions.retain(|_, s| {
                !matches!(
                    s,
                    Subscription::MarketData { .. } | Subscription::RealTimeBars { .. }
                )
            });
        }
    }

    /// The next order id a client may use.
    pub fn next_valid_id(&self) -> i32 {
        self.lock().book.next_order_id
    }

    /// Current faults.
    pub fn faults(&self) -> Faults {
        self.lock().faults.clone()
    }

    /// Changes the faults.
    pub fn update_faults(&self, update: impl FnOnce(&mut Faults)) -> Faults {
        let mut state = self.lock();
        update(&mut state.faults);
        state.faults.clone()
    }

    /// A copy of what `--state` persists; clears the dirty flag.
    pub fn snapshot(&self) -> Persisted {
        let mut state = self.lock();
        state.dirty = false;
        state.book.clone()
    }

    /// Whether anything persisted changed since the last snapshot.
    pub fn is_dirty(&self) -> bool {
        self.lock().dirty
    }

    /// The quote of `symbol`, if it is in the universe.
    pub fn quote(&self, symbol: &str) -> Option<market::Quote> {
        let query = ContractQuery {
            symbol: symbol.to_string(),
            ..ContractQuery::default()
        };
        let index = self.universe.resolve(&query)?;
        Some(self.lock().walks[index].quote().clone())
    }

    /// Moves `symbol`'s market to `price` and runs matching; returns the new quote.
    pub fn set_price(&self, symbol: &str, price: Decimal) -> Option<market::Quote> {
        let query = ContractQuery {
            symbol: symbol.to_string(),
            ..ContractQuery::default()
        };
        let index = self.universe.resolve(&query)?;
        let mut state = self.lock();
        state.walks[index].set_price(price);
        let quote = state.walks[index].quote().clone();
        let now = self.now();
        self.after_market_move(&mut state, now, &[index]);
        Some(quote)
    }

    /// One market step: every walk moves (unless frozen), resting orders match, and
    /// subscribers get ticks, bars and PnL.
    pub fn step(&self) {
        let mut state = self.lock();
        let now = self.now();
        if !state.faults.frozen {
            for walk in &mut state.walks {
                walk.step();
            }
        }
        let all: Vec<usize> = (0..state.walks.len()).collect();
        self.after_market_move(&mut state, now, &all);
    }

    fn after_market_move(&self, state: &mut State, now: DateTime<Utc>, moved: &[usize]) {
        self.match_all(state, now);
        let mut deliveries: Vec<(i32, Outgoing)> = Vec::new();
        let marks = marks(state);
        for (&client_id, client) in &mut state.clients {
            for (&req_id, sub) in &mut client.subscriptions {
                match sub {
                    Subscription::MarketData { index } if moved.contains(index) => {
                        let quote = state.walks[*index].quote();
                        for message in quote_ticks(req_id, quote, false) {
                            deliveries.push((client_id, message));
                        }
                    }
                    Subscription::RealTimeBars { index, bar } => {
                        let price = state.walks[*index].quote().last;
                        let window = now.timestamp() - now.timestamp().rem_euclid(5);
                        match bar {
                            Some(current) if current.time == window => {
                                current.high = current.high.max(price);
                                current.low = current.low.min(price);
                                current.close = price;
                                current.volume += Decimal::ONE_HUNDRED;
                                current.count += 1;
                            }
                            _ => {
                                if let Some(done) = bar.take() {
                                    deliveries.push((
                                        client_id,
                                        Outgoing::RealTimeBar { req_id, bar: done },
                                    ));
                                }
                                *bar = Some(Bar {
                                    time: window,
                                    open: price,
                                    high: price,
                                    low: price,
                                    close: price,
                                    volume: Decimal::ONE_HUNDRED,
                                    wap: price,
                                    count: 1,
                                });
                            }
                        }
                    }
                    Subscription::PnL => {
                        deliveries
                            .push((client_id, state.book.account.pnl_message(req_id, &marks)));
                    }
                    Subscription::PnLSingle { index } => {
                        deliveries.push((
                            client_id,
                            state
                                .book
                                .account
                                .pnl_single_message(req_id, *index, &marks),
                        ));
                    }
                    _ => {}
                }
            }
        }
        for (client_id, message) in deliveries {
            send(state, client_id, message);
        }
    }

    // ----- requests -------------------------------------------------------------------

    /// reqContractDetails.
    pub fn contract_details(&self, req_id: i32, query: &ContractQuery) -> Replies {
        match self.universe.resolve(query) {
            Some(index) => vec![
                Outgoing::ContractData {
                    req_id,
                    instrument: self.universe.all()[index].clone(),
                },
                Outgoing::ContractDataEnd { req_id },
            ],
            None => vec![self.error(
                req_id,
                200,
                "No security definition has been found for the request",
            )],
        }
    }

    /// An error message stamped with the current time.
    pub fn error(&self, id: i32, code: i32, message: &str) -> Outgoing {
        Outgoing::Error {
            id,
            code,
            message: message.to_string(),
            time_ms: self.now().timestamp_millis(),
        }
    }

    /// placeOrder: a new order, or a modification of an open one with the same id.
    pub fn place_order(
        &self,
        client_id: i32,
        order_id: i32,
        query: &ContractQuery,
        ticket: &OrderTicket,
    ) {
        let mut state = self.lock();
        let now = self.now();
        state.dirty = true;
        if let Some(pos) = state
            .book
            .orders
            .iter()
            .position(|o| o.client_id == client_id && o.order_id == order_id)
        {
            self.modify(&mut state, now, pos, ticket);
            return;
        }
        // Reusing the id of a finished order is IB's 103; ids must also be positive.
        let reused = state
            .book
            .completed
            .iter()
            .any(|o| o.client_id == client_id && o.order_id == order_id);
        if order_id <= 0 || reused {
            let message = self.error(order_id, 103, &format!("Duplicate order id {order_id}"));
            send(&mut state, client_id, message);
            return;
        }
        state.book.next_order_id = state.book.next_order_id.max(order_id.saturating_add(1));
        if state.faults.reject_next > 0 {
            state.faults.reject_next -= 1;
            let code = if state.faults.reject_code == 0 {
                201
            } else {
                state.faults.reject_code
            };
            let message = self.error(
                order_id,
                code,
                "Order rejected - reason: rejected by fault injection",
            );
            send(&mut state, client_id, message);
            return;
        }
        let Some(index) = self.universe.resolve(query) else {
            let message = self.error(
                order_id,
                200,
                "No security definition has been found for the request",
            );
            send(&mut state, client_id, message);
            return;
        };
        let instrument = self.universe.all()[index].clone();
        let order = match SimOrder::from_ticket(
            client_id,
            order_id,
            index,
            instrument,
            ticket,
            &self.settings.account,
        ) {
            Ok(order) => order,
            Err(reject) => {
                let message = self.error(order_id, reject.code(), &reject.to_string());
                send(&mut state, client_id, message);
                return;
            }
        };
        if let Err(reject) = self.check_new_order(&state, &order) {
            let message = self.error(order_id, reject.code(), &reject.to_string());
            send(&mut state, client_id, message);
            return;
        }
        let mut order = order;
        order.perm_id = state.book.next_perm_id;
        state.book.next_perm_id += 1;
        let transmit = order.transmit;
        let parent_id = order.parent_id;
        state.book.orders.push(order);
        if !transmit {
            // Held until a later order of the bracket transmits, as TWS does.
            return;
        }
        // Transmitting a bracket child releases the held parent and its held siblings.
        let mut released: Vec<usize> = Vec::new();
        if parent_id != 0 {
            for (i, o) in state.book.orders.iter_mut().enumerate() {
                let in_bracket = o.order_id == parent_id || o.parent_id == parent_id;
                if o.client_id == client_id && in_bracket && !o.transmit {
                    o.transmit = true;
                    released.push(i);
                }
            }
        }
        let new_pos = state.book.orders.len() - 1;
        released.sort_by_key(|&i| (state.book.orders[i].parent_id != 0, i));
        released.push(new_pos);
        for pos in released {
            self.acknowledge(&mut state, pos);
        }
        self.match_all(&mut state, now);
    }

    fn check_new_order(&self, state: &State, order: &SimOrder) -> Result<(), orders::Reject> {
        if order.parent_id != 0
            && !state
                .book
                .orders
                .iter()
                .any(|o| o.client_id == order.client_id && o.order_id == order.parent_id)
        {
            return Err(orders::Reject::Invalid(format!(
                "parent order {} is not an open order of this client",
                order.parent_id
            )));
        }
        let same_side = state
            .book
            .orders
            .iter()
            .filter(|o| o.index == order.index && o.side == order.side)
            .count();
        if same_side >= self.settings.max_orders_per_side {
            return Err(orders::Reject::Invalid(format!(
                "Exceeded the maximum of {} active orders per contract and side",
                self.settings.max_orders_per_side
            )));
        }
        if order.side == orders::Side::Buy && order.parent_id == 0 {
            let quote = state.walks[order.index].quote();
            let price = order.lmt_price.unwrap_or(quote.ask).max(quote.ask);
            let cost = price * order.quantity;
            let buying_power = state.book.account.buying_power(&marks(state));
            if cost > buying_power {
                return Err(orders::Reject::Invalid(format!(
                    "insufficient buying power: the order needs {cost:.2} USD, {buying_power:.2} USD available"
                )));
            }
        }
        Ok(())
    }

    /// Sends OpenOrder + OrderStatus for a freshly transmitted order.
    fn acknowledge(&self, state: &mut State, pos: usize) {
        let parent_live = {
            let order = &state.book.orders[pos];
            order.parent_id != 0
                && state
                    .book
                    .orders
                    .iter()
                    .any(|o| o.client_id == order.client_id && o.order_id == order.parent_id)
        };
        let order = &mut state.book.orders[pos];
        order.status = if parent_live {
            Status::PreSubmitted
        } else {
            Status::Submitted
        };
        let snapshot = Box::new(order.clone());
        let client_id = order.client_id;
        send(state, client_id, Outgoing::OpenOrder(snapshot.clone()));
        send(state, client_id, Outgoing::OrderStatus(snapshot));
    }

    fn modify(&self, state: &mut State, now: DateTime<Utc>, pos: usize, ticket: &OrderTicket) {
        let order = &state.book.orders[pos];
        let client_id = order.client_id;
        let order_id = order.order_id;
        let updated = match order.modified(ticket) {
            Ok(updated) => updated,
            Err(reject) => {
                let message = self.error(order_id, reject.code(), &reject.to_string());
                send(state, client_id, message);
                return;
            }
        };
        let was_held = !state.book.orders[pos].transmit;
        state.book.orders[pos] = updated;
        if was_held && !state.book.orders[pos].transmit {
            return;
        }
        self.acknowledge(state, pos);
        self.match_all(state, now);
    }

    /// cancelOrder.
    pub fn cancel_order(&self, client_id: i32, order_id: i32) {
        let mut state = self.lock();
        let now = self.now();
        let Some(pos) = state
            .book
            .orders
            .iter()
            .position(|o| o.client_id == client_id && o.order_id == order_id)
        else {
            let message = self.error(
                order_id,
                10147,
                &format!("OrderId {order_id} that needs to be cancelled is not found."),
            );
            send(&mut state, client_id, message);
            return;
        };
        state.dirty = true;
        self.cancel_at(&mut state, now, pos, true);
    }

    /// reqGlobalCancel: cancels every open order of every client.
    pub fn global_cancel(&self) {
        let mut state = self.lock();
        let now = self.now();
        state.dirty = true;
        while !state.book.orders.is_empty() {
            self.cancel_at(&mut state, now, 0, true);
        }
    }

    /// Cancels the order at `pos` and its bracket children; `notice` adds error 202.
    fn cancel_at(&self, state: &mut State, now: DateTime<Utc>, pos: usize, notice: bool) {
        let mut order = state.book.orders.remove(pos);
        let client_id = order.client_id;
        order.status = Status::Cancelled;
        order.completed_time = orders::completed_time(now);
        let snapshot = Box::new(order.clone());
        if order.transmit {
            send(state, client_id, Outgoing::OrderStatus(snapshot));
            if notice {
                let message = self.error(order.order_id, 202, "Order Canceled - reason:");
                send(state, client_id, message);
            }
        }
        let order_id = order.order_id;
        state.book.completed.push(order);
        while let Some(child) = state
            .book
            .orders
            .iter()
            .position(|o| o.client_id == client_id && o.parent_id == order_id)
        {
            self.cancel_at(state, now, child, notice);
        }
    }

    /// The close: DAY orders expire (status Cancelled, as TWS reports them); GTC orders stay.
    /// Returns how many expired.
    pub fn end_of_day(&self) -> usize {
        let mut state = self.lock();
        let now = self.now();
        let mut expired = 0;
        while let Some(pos) = state.book.orders.iter().position(|o| o.tif == Tif::Day) {
            self.cancel_at(&mut state, now, pos, false);
            expired += 1;
        }
        state.dirty |= expired > 0;
        expired
    }

    /// Open orders of one client (`Some`) or all clients (`None`), then OpenOrderEnd.
    pub fn open_orders(&self, client_id: Option<i32>) -> Replies {
        let state = self.lock();
        let mut replies = Vec::new();
        for order in state.book.orders.iter().filter(|o| o.transmit) {
            if client_id.is_none_or(|id| id == order.client_id) {
                replies.push(Outgoing::OpenOrder(Box::new(order.clone())));
                replies.push(Outgoing::OrderStatus(Box::new(order.clone())));
            }
        }
        replies.push(Outgoing::OpenOrderEnd);
        replies
    }

    /// Completed orders, then CompletedOrdersEnd.
    pub fn completed_orders(&self) -> Replies {
        let state = self.lock();
        let mut replies: Replies = state
            .book
            .completed
            .iter()
            .filter(|o| o.transmit || o.status == Status::Filled)
            .map(|o| Outgoing::CompletedOrder(Box::new(o.clone())))
            .collect();
        replies.push(Outgoing::CompletedOrdersEnd);
        replies
    }

    /// reqExecutions: the matching executions with their commissions, then the end marker.
    pub fn executions(&self, req_id: i32, filter: &ExecutionFilter) -> Replies {
        let state = self.lock();
        let mut replies = Vec::new();
        for execution in state.book.executions.iter().filter(|e| e.matches(filter)) {
            replies.push(Outgoing::Execution {
                req_id,
                execution: Box::new(execution.clone()),
            });
            replies.push(Outgoing::Commission(Box::new(execution.clone())));
        }
        replies.push(Outgoing::ExecutionEnd { req_id });
        replies
    }

    /// reqPositions: current positions, then PositionEnd; later fills stream updates.
    pub fn positions(&self, client_id: i32, subscribe: bool) -> Replies {
        let mut state = self.lock();
        if let Some(client) = state.clients.get_mut(&client_id) {
            client.positions = subscribe;
        }
        if !subscribe {
            return Vec::new();
        }
        let mut replies: Replies = state
            .book
            .account
            .positions
            .iter()
            .map(|(&index, p)| Outgoing::Position {
                account: self.settings.account.clone(),
                instrument: self.universe.all()[index].clone(),
                position: p.quantity,
                avg_cost: p.avg_cost,
            })
            .collect();
        replies.push(Outgoing::PositionEnd);
        replies
    }

    /// reqAccountSummary: one row per requested tag, then the end marker.
    pub fn account_summary(&self, client_id: i32, req_id: i32, tags: &str) -> Replies {
        let mut state = self.lock();
        if let Some(client) = state.clients.get_mut(&client_id) {
            client.subscriptions.insert(
                req_id,
                Subscription::AccountSummary {
                    tags: tags.to_string(),
                },
            );
        }
        let values = state.book.account.values(&marks(&state));
        let mut replies = self.summary_rows(req_id, tags, &values);
        replies.push(Outgoing::AccountSummaryEnd { req_id });
        replies
    }

    /// reqAccountUpdates: account values and portfolio, then AccountDownloadEnd.
    pub fn account_updates(&self, client_id: i32, subscribe: bool) -> Replies {
        let mut state = self.lock();
        if let Some(client) = state.clients.get_mut(&client_id) {
            client.account_updates = subscribe;
        }
        if !subscribe {
            return Vec::new();
        }
        let mut replies = self.account_update_messages(&state);
        replies.push(Outgoing::AccountDownloadEnd(self.settings.account.clone()));
        replies
    }

    fn account_update_messages(&self, state: &State) -> Replies {
        let marks = marks(state);
        let account = &self.settings.account;
        let mut replies: Replies = state
            .book
            .account
            .values(&marks)
            .into_iter()
            .map(|(key, value)| Outgoing::AccountValue {
                key: key.to_string(),
                value,
                currency: currency_of(key),
                account: account.clone(),
            })
            .collect();
        replies.push(Outgoing::AccountValue {
            key: "AccountCode".to_string(),
            value: account.clone(),
            currency: String::new(),
            account: account.clone(),
        });
        for (&index, p) in &state.book.account.positions {
            let mark = marks[index];
            replies.push(Outgoing::PortfolioValue {
                instrument: self.universe.all()[index].clone(),
                position: p.quantity,
                market_price: mark,
                market_value: p.quantity * mark,
                average_cost: p.avg_cost,
                unrealized_pnl: p.unrealized(mark),
                realized_pnl: p.realized,
                account: account.clone(),
            });
        }
        replies.push(Outgoing::AccountUpdateTime(
            self.now().format("%H:%M").to_string(),
        ));
        replies
    }

    /// reqAccountUpdatesMulti: the account values as multi rows, then the end marker.
    pub fn account_updates_multi(&self, client_id: i32, req_id: i32) -> Replies {
        let mut state = self.lock();
        if let Some(client) = state.clients.get_mut(&client_id) {
            client
                .subscriptions
                .insert(req_id, Subscription::AccountUpdatesMulti);
        }
        let account = &self.settings.account;
        let mut replies: Replies = state
            .book
            .account
            .values(&marks(&state))
            .into_iter()
            .map(|(key, value)| Outgoing::AccountUpdateMulti {
                req_id,
                account: account.clone(),
                key: key.to_string(),
                value,
                currency: currency_of(key),
            })
            .collect();
        replies.push(Outgoing::AccountUpdateMultiEnd { req_id });
        replies
    }

    /// Drops a subscription by request id (cancel messages); unknown ids are accepted quietly.
    pub fn unsubscribe(&self, client_id: i32, req_id: i32) {
        if let Some(client) = self.lock().clients.get_mut(&client_id) {
            client.subscriptions.remove(&req_id);
        }
    }

    /// reqPnL.
    pub fn pnl(&self, client_id: i32, req_id: i32) -> Replies {
        let mut state = self.lock();
        if let Some(client) = state.clients.get_mut(&client_id) {
            client.subscriptions.insert(req_id, Subscription::PnL);
        }
        vec![state.book.account.pnl_message(req_id, &marks(&state))]
    }

    /// reqPnLSingle.
    pub fn pnl_single(&self, client_id: i32, req_id: i32, con_id: i32) -> Replies {
        let query = ContractQuery {
            con_id,
            ..ContractQuery::default()
        };
        let Some(index) = self.universe.resolve(&query) else {
            return vec![self.error(
                req_id,
                200,
                "No security definition has been found for the request",
            )];
        };
        let mut state = self.lock();
        if let Some(client) = state.clients.get_mut(&client_id) {
            client
                .subscriptions
                .insert(req_id, Subscription::PnLSingle { index });
        }
        vec![
            state
                .book
                .account
                .pnl_single_message(req_id, index, &marks(&state)),
        ]
    }

    /// reqMarketDataType.
    pub fn set_market_data_type(&self, client_id: i32, market_data_type: i32) {
        if let Some(client) = self.lock().clients.get_mut(&client_id) {
            client.market_data_type = market_data_type;
        }
    }

    /// reqMktData: a snapshot, or a subscription that streams on every market step.
    pub fn market_data(
        &self,
        client_id: i32,
        req_id: i32,
        query: &ContractQuery,
        snapshot: bool,
    ) -> Replies {
        let Some(index) = self.universe.resolve(query) else {
            return vec![self.error(
                req_id,
                200,
                "No security definition has been found for the request",
            )];
        };
        let mut state = self.lock();
        let Some(client) = state.clients.get_mut(&client_id) else {
            return Vec::new();
        };
        let lines = client
            .subscriptions
            .values()
            .filter(|s| {
                matches!(
                    s,
                    Subscription::MarketData { .. } | Subscription::RealTimeBars { .. }
                )
            })
            .count();
        if !snapshot && lines >= MAX_MARKET_DATA_LINES {
            return vec![self.error(
                req_id,
                101,
                &format!("Max number of tickers has been reached (limit {MAX_MARKET_DATA_LINES})"),
            )];
        }
        let market_data_type = client.market_data_type;
        if !snapshot {
            client
                .subscriptions
                .insert(req_id, Subscription::MarketData { index });
        }
        let instrument = &self.universe.all()[index];
        let mut replies = vec![
            Outgoing::MarketDataType {
                req_id,
                market_data_type,
            },
            Outgoing::TickReqParams {
                req_id,
                min_tick: instrument.tick_size,
            },
        ];
        replies.extend(quote_ticks(req_id, state.walks[index].quote(), true));
        if snapshot {
            replies.push(Outgoing::TickSnapshotEnd { req_id });
        }
        replies
    }

    /// reqRealTimeBars: 5-second bars built from the walk's trades.
    pub fn real_time_bars(&self, client_id: i32, req_id: i32, query: &ContractQuery) -> Replies {
        let Some(index) = self.universe.resolve(query) else {
            return vec![self.error(
                req_id,
                200,
                "No security definition has been found for the request",
            )];
        };
        let mut state = self.lock();
        if let Some(client) = state.clients.get_mut(&client_id) {
            client
                .subscriptions
                .insert(req_id, Subscription::RealTimeBars { index, bar: None });
        }
        Vec::new()
    }

    /// reqHistoricalData: deterministic bars, with IB's pacing rules.
    pub fn historical_data(&self, client_id: i32, request: &HistoricalRequest) -> Replies {
        let req_id = request.req_id;
        let Some(index) = self.universe.resolve(&request.contract) else {
            return vec![self.error(
                req_id,
                200,
                "No security definition has been found for the request",
            )];
        };
        let Some(bar_seconds) = parse_bar_size(&request.bar_size) else {
            return vec![self.error(
                req_id,
                321,
                &format!(
                    "Error validating request:-'bar size' is invalid: '{}'",
                    request.bar_size
                ),
            )];
        };
        let Some(duration_seconds) = parse_duration(&request.duration) else {
            return vec![self.error(
                req_id,
                321,
                &format!(
                    "Error validating request:-'duration' is invalid: '{}'",
                    request.duration
                ),
            )];
        };
        let now = self.now();
        let end = parse_end(&request.end).unwrap_or(now).min(now);
        let key = format!(
            "{}|{}|{}|{}|{}",
            index, request.end, request.bar_size, request.duration, request.what_to_show
        );
        {
            let mut state = self.lock();
            let Some(client) = state.clients.get_mut(&client_id) else {
                return Vec::new();
            };
            let t = now.timestamp();
            while client
                .historical
                .front()
                .is_some_and(|(at, _)| t - at >= HISTORICAL_WINDOW_SECS)
            {
                client.historical.pop_front();
            }
            let identical = client
                .historical
                .iter()
                .any(|(at, k)| *k == key && t - at < IDENTICAL_HISTORICAL_SECS);
            if identical || client.historical.len() >= MAX_HISTORICAL_REQUESTS {
                return vec![self.error(
                    req_id,
                    162,
                    "Historical Market Data Service error message:Historical data request pacing violation",
                )];
            }
            client.historical.push_back((t, key));
        }
        let count = usize::try_from((duration_seconds / bar_seconds).max(1)).unwrap_or(1);
        if count > MAX_BARS {
            return vec![self.error(
                req_id,
                162,
                &format!("Historical Market Data Service error message:Requested {count} bars; at most {MAX_BARS} per request"),
            )];
        }
        let end_ts = end.timestamp();
        let last_start = end_ts
            - end_ts.rem_euclid(bar_seconds)
            - if end_ts.rem_euclid(bar_seconds) == 0 {
                bar_seconds
            } else {
                0
            };
        let instrument = &self.universe.all()[index];
        let bars = market::bars(
            instrument,
            self.settings.seed,
            last_start,
            bar_seconds,
            count,
        );
        let start = bars.first().map_or(last_start, |b| b.time);
        // The zone-less UTC rendering, which every client parses without a zone table.
        let fmt = |ts: i64| {
            DateTime::from_timestamp(ts, 0)
                .unwrap_or(now)
                .format("%Y%m%d-%H:%M:%S")
                .to_string()
        };
        vec![
            Outgoing::HistoricalData {
                req_id,
                bars,
                daily: bar_seconds >= 86_400,
                format_date: request.format_date,
                start: fmt(start),
                end: fmt(end_ts),
            },
            Outgoing::HistoricalDataEnd {
                req_id,
                start: fmt(start),
                end: fmt(end_ts),
            },
        ]
    }

    // ----- matching -------------------------------------------------------------------

    /// Matches every live order against its quote until nothing more fills.
    fn match_all(&self, state: &mut State, now: DateTime<Utc>) {
        // Bounded so a pathological bracket chain cannot spin forever.
        for _ in 0..64 {
            let mut progressed = false;
            let candidates: Vec<i64> = state
                .book
                .orders
                .iter()
                .filter(|o| o.transmit && o.status == Status::Submitted)
                .map(|o| o.perm_id)
                .collect();
            for perm_id in candidates {
                let Some(pos) = state.book.orders.iter().position(|o| o.perm_id == perm_id) else {
                    continue;
                };
                let quote = state.walks[state.book.orders[pos].index].quote().clone();
                let decision = state.book.orders[pos].evaluate(&quote);
                match decision {
                    orders::Decision::Rest => {
                        if state.book.orders[pos].tif.immediate() {
                            self.cancel_at(state, now, pos, true);
                            progressed = true;
                        }
                    }
                    orders::Decision::Fill(price) => {
                        self.fill(state, now, pos, price);
                        progressed = true;
                    }
                }
            }
            if !progressed {
                return;
            }
        }
    }

    /// Executes the order at `pos` at `price`: in one execution, or in chunks of the
    /// configured partial fill size (IOC keeps only the first chunk).
    fn fill(&self, state: &mut State, now: DateTime<Utc>, pos: usize, price: Decimal) {
        state.dirty = true;
        let chunk = self.settings.partial_fill_qty;
        loop {
            let order = &state.book.orders[pos];
            let remaining = order.remaining();
            let quantity = if chunk.is_zero() || order.tif == Tif::Fok {
                remaining
            } else {
                chunk.min(remaining)
            };
            let done = quantity == remaining;
            self.execute(state, now, pos, quantity, price, done);
            if done {
                return;
            }
            if state.book.orders[pos].tif == Tif::Ioc {
                self.cancel_at(state, now, pos, true);
                return;
            }
        }
    }

    fn execute(
        &self,
        state: &mut State,
        now: DateTime<Utc>,
        pos: usize,
        quantity: Decimal,
        price: Decimal,
        done: bool,
    ) {
        let commission = self.commission(quantity, price);
        let exec_number = state.book.next_exec;
        state.book.next_exec += 1;
        let (index, side) = {
            let o = &state.book.orders[pos];
            (o.index, o.side)
        };
        let signed = if side == orders::Side::Buy {
            quantity
        } else {
            -quantity
        };
        let realized = state
            .book
            .account
            .apply_fill(index, signed, price, commission);
        state.walks[index].record_trade(price, quantity);
        let order = &mut state.book.orders[pos];
        order.record_fill(quantity, price, commission);
        if done {
            order.status = Status::Filled;
            order.completed_time = orders::completed_time(now);
        }
        let execution = Execution {
            exec_id: format!(
                "{:08x}.{:012x}.01.01",
                self.settings.seed as u32, exec_number
            ),
            order_id: order.order_id,
            client_id: order.client_id,
            perm_id: order.perm_id,
            instrument: order.instrument.clone(),
            index,
            side,
            shares: quantity,
            price,
            cum_qty: order.filled,
            avg_price: order.avg_fill_price,
            time: now,
            account: order.account.clone(),
            order_ref: order.order_ref.clone(),
            commission,
            realized_pnl: realized,
        };
        let snapshot = Box::new(order.clone());
        let client_id = order.client_id;
        let order_id = order.order_id;
        let oca_group = order.oca_group.clone();
        let parent_id = order.parent_id;
        state.book.executions.push(execution.clone());
        let execution = Box::new(execution);
        // IB's order: execution, then open order and status, then the commission report.
        send(
            state,
            client_id,
            Outgoing::Execution {
                req_id: -1,
                execution: execution.clone(),
            },
        );
        if done {
            send(state, client_id, Outgoing::OpenOrder(snapshot.clone()));
        }
        send(state, client_id, Outgoing::OrderStatus(snapshot));
        send(state, client_id, Outgoing::Commission(execution));
        self.publish_account(state, index);
        if !done {
            return;
        }
        let filled = state.book.orders.remove(pos);
        state.book.completed.push(filled);
        // Bracket children go live once their parent has filled.
        let children: Vec<usize> = state
            .book
            .orders
            .iter()
            .enumerate()
            .filter(|(_, o)| o.client_id == client_id && o.parent_id == order_id && o.transmit)
            .map(|(i, _)| i)
            .collect();
        for child in children {
            state.book.orders[child].status = Status::Submitted;
            let snapshot = Box::new(state.book.orders[child].clone());
            send(state, client_id, Outgoing::OrderStatus(snapshot));
        }
        // One-cancels-all: explicit OCA groups, and the siblings of a bracket child.
        loop {
            let sibling = state.book.orders.iter().position(|o| {
                o.client_id == client_id
                    && ((!oca_group.is_empty() && o.oca_group == oca_group)
                        || (parent_id != 0 && o.parent_id == parent_id))
            });
            match sibling {
                Some(sibling) => self.cancel_at(state, now, sibling, false),
                None => break,
            }
        }
    }

    fn commission(&self, quantity: Decimal, price: Decimal) -> Decimal {
        let per_share =
            (quantity * self.settings.commission_per_share).max(self.settings.min_commission);
        // IB caps fixed-rate commissions at 1% of trade value.
        let cap = (quantity * price / Decimal::ONE_HUNDRED).max(Decimal::ZERO);
        per_share
            .min(cap.max(self.settings.min_commission))
            .round_dp(4)
    }

    /// Account summary rows of `values` for the requested `tags` ("All" = every tag).
    fn summary_rows(&self, req_id: i32, tags: &str, values: &[(&'static str, String)]) -> Replies {
        let wanted: Vec<&str> = tags.split(',').map(str::trim).collect();
        let all = wanted.iter().any(|t| t.eq_ignore_ascii_case("All"));
        values
            .iter()
            .filter(|(tag, _)| all || wanted.contains(tag))
            .map(|(tag, value)| Outgoing::AccountSummary {
                req_id,
                account: self.settings.account.clone(),
                tag: (*tag).to_string(),
                value: value.clone(),
                currency: currency_of(tag),
            })
            .collect()
    }

    /// Streams position and portfolio changes to subscribers after a fill.
    fn publish_account(&self, state: &mut State, index: usize) {
        let marks = marks(state);
        let position = state
            .book
            .account
            .positions
            .get(&index)
            .cloned()
            .unwrap_or_default();
        let instrument = self.universe.all()[index].clone();
        let account = self.settings.account.clone();
        let updates = self.account_update_messages(state);
        let mut deliveries: Vec<(i32, Outgoing)> = Vec::new();
        let summary_values = state.book.account.values(&marks);
        for (&client_id, client) in &state.clients {
            if client.positions {
                deliveries.push((
                    client_id,
                    Outgoing::Position {
                        account: account.clone(),
                        instrument: instrument.clone(),
                        position: position.quantity,
                        avg_cost: position.avg_cost,
                    },
                ));
            }
            if client.account_updates {
                for message in &updates {
                    deliveries.push((client_id, message.clone()));
                }
            }
            for (&req_id, sub) in &client.subscriptions {
                if let Subscription::AccountSummary { tags } = sub {
                    for row in self.summary_rows(req_id, tags, &summary_values) {
                        deliveries.push((client_id, row));
                    }
                }
            }
        }
        for (client_id, message) in deliveries {
            send(state, client_id, message);
        }
    }
}

/// Account values are USD amounts, except the account type, which has no currency.
fn currency_of(tag: &str) -> String {
    if tag == "AccountType" {
        String::new()
    } else {
        "USD".to_string()
    }
}

fn send(state: &mut State, client_id: i32, message: Outgoing) {
    if let Some(client) = state.clients.get(&client_id) {
        // A closed outbox means the session is going away; its messages are moot.
        let _ = client.outbox.send(message);
    }
}

fn marks(state: &State) -> Vec<Decimal> {
    state.walks.iter().map(|w| w.quote().mid()).collect()
}

/// IB tick types.
mod tick {
    pub const BID_SIZE: i32 = 0;
    pub const BID: i32 = 1;
    pub const ASK: i32 = 2;
    pub const ASK_SIZE: i32 = 3;
    pub const LAST: i32 = 4;
    pub const LAST_SIZE: i32 = 5;
    pub const HIGH: i32 = 6;
    pub const LOW: i32 = 7;
    pub const VOLUME: i32 = 8;
    pub const CLOSE: i32 = 9;
    pub const OPEN: i32 = 14;
}

fn quote_ticks(req_id: i32, quote: &market::Quote, full: bool) -> Vec<Outgoing> {
    let price = |tick_type, price, size| Outgoing::TickPrice {
        req_id,
        tick_type,
        price,
        size,
    };
    let size = |tick_type, size| Outgoing::TickSize {
        req_id,
        tick_type,
        size,
    };
    let mut ticks = vec![
        price(tick::BID, quote.bid, quote.bid_size),
        size(tick::BID_SIZE, quote.bid_size),
        price(tick::ASK, quote.ask, quote.ask_size),
        size(tick::ASK_SIZE, quote.ask_size),
        price(tick::LAST, quote.last, quote.last_size),
        size(tick::LAST_SIZE, quote.last_size),
        size(tick::VOLUME, quote.volume),
    ];
    if full {
        ticks.push(price(tick::HIGH, quote.high, Decimal::ZERO));
        ticks.push(price(tick::LOW, quote.low, Decimal::ZERO));
        ticks.push(price(tick::OPEN, quote.open, Decimal::ZERO));
        ticks.push(price(tick::CLOSE, quote.close, Decimal::ZERO));
    }
    ticks
}

/// "5 mins" → 300.
pub fn parse_bar_size(text: &str) -> Option<i64> {
    let mut parts = text.split_whitespace();
    let n: i64 = parts.next()?.parse().ok()?;
    let unit = parts.next()?.to_ascii_lowercase();
    let seconds = match unit.trim_end_matches('s') {
        "sec" => 1,
        "min" => 60,
        "hour" => 3600,
        "day" => 86_400,
        "week" => 7 * 86_400,
        "month" => 30 * 86_400,
        _ => return None,
    };
    (n > 0).then_some(n * seconds)
}

/// "2 D" → 172800.
pub fn parse_duration(text: &str) -> Option<i64> {
    let mut parts = text.split_whitespace();
    let n: i64 = parts.next()?.parse().ok()?;
    let seconds = match parts.next()?.to_ascii_uppercase().as_str() {
        "S" => 1,
        "D" => 86_400,
        "W" => 7 * 86_400,
        "M" => 30 * 86_400,
        "Y" => 365 * 86_400,
        _ => return None,
    };
    (n > 0).then_some(n * seconds)
}

/// "20260105 14:30:00[ zone]" or "20260105-14:30:00" → a UTC instant; empty → None.
pub fn parse_end(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.len() < 17 {
        return None;
    }
    let head = text.get(..17)?.replace('-', " ");
    chrono::NaiveDateTime::parse_from_str(&head, "%Y%m%d %H:%M:%S")
        .ok()
        .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bar_sizes_and_durations() {
        assert_eq!(parse_bar_size("5 mins"), Some(300));
        assert_eq!(parse_bar_size("1 day"), Some(86_400));
        assert_eq!(parse_bar_size("30 secs"), Some(30));
        assert_eq!(parse_bar_size("1 fortnight"), None);
        assert_eq!(parse_duration("2 D"), Some(172_800));
        assert_eq!(parse_duration("1 Y"), Some(31_536_000));
        assert_eq!(parse_duration("x"), None);
        assert!(parse_end("20260105 14:30:00 UTC").is_some());
        assert!(parse_end("").is_none());
    }
}

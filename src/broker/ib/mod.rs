//! The IB adapter: one supervised `ibapi` connection, paced, reconciled after every connect.

mod convert;
mod market;
mod reference;
mod supervisor;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use ibapi::subscriptions::SubscriptionItem;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use app::domain::BrokerState;

use super::pacing::Pacer;
use super::window::MaintenanceWindow;
use super::{
    BoxFuture, Broker, BrokerError, BrokerEvent, BrokerOrder, BrokerPosition, QuoteWatch,
    Reconciler,
};
use crate::metrics;

/// Settings of the adapter.
#[derive(Debug, Clone)]
pub struct IbConfig {
    /// `host:port` of IB Gateway, TWS or the simulator.
    pub addr: String,
    /// The API client id.
    pub client_id: i32,
    /// Outbound messages per second (IB allows 50; keep a margin).
    pub messages_per_second: u32,
    /// Requests that may wait for the pacer before new ones get `PACING_LIMIT`.
    pub queue_capacity: usize,
    /// The gateway's daily restart window.
    pub maintenance: MaintenanceWindow,
    /// Limit on one request/response exchange with the gateway.
    pub call_timeout: Duration,
    /// Market data lines the account may use at once.
    pub market_data_lines: usize,
}

/// The adapter. Cheap to share: everything inside is behind `Arc`s.
pub struct IbBroker {
    me: std::sync::Weak<IbBroker>,
    config: IbConfig,
    market: market::MarketData,
    client: RwLock<Option<Arc<ibapi::Client>>>,
    state: watch::Sender<BrokerState>,
    events: broadcast::Sender<BrokerEvent>,
    pacer: Pacer,
    limiter: ibapi::RateLimiter,
    historical: std::sync::Mutex<super::pacing::HistoricalPacer>,
}

impl IbBroker {
    /// Creates the adapter, disconnected. [`IbBroker::start`] connects it.
    pub fn new(config: IbConfig) -> Arc<Self> {
        let (state, _) = watch::channel(BrokerState::Disconnected);
        metrics::set_broker_state(BrokerState::Disconnected);
        let (events, _) = broadcast::channel(4096);
        Arc::new_cyclic(|me| Self {
            me: me.clone(),
            market: market::MarketData::new(config.market_data_lines),
            pacer: Pacer::new(config.queue_capacity),
            historical: std::sync::Mutex::new(super::pacing::HistoricalPacer::default()),
            limiter: ibapi::RateLimiter::per_second(config.messages_per_second),
            config,
            client: RwLock::new(None),
            state,
            events,
        })
    }

    /// Starts the supervisor: connect, reconcile through `reconciler`, stay connected until
    /// `shutdown`. The task is tracked by `tasks`.
    pub fn start(
        self: &Arc<Self>,
        reconciler: Arc<dyn Reconciler>,
        shutdown: CancellationToken,
        tasks: &TaskTracker,
    ) {
        tasks.spawn(supervisor::run(Arc::clone(self), reconciler, shutdown));
    }

    /// The maintenance window in force.
    pub fn maintenance(&self) -> &MaintenanceWindow {
        &self.config.maintenance
    }

    fn publish(&self, state: BrokerState) {
        let previous = self.state.send_replace(state);
        if previous != state {
            tracing::info!(
                from = previous.as_str(),
                to = state.as_str(),
                "broker link state"
            );
            metrics::set_broker_state(state);
        }
    }

    fn set_client(&self, client: Option<Arc<ibapi::Client>>) {
        *self
            .client
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = client;
    }

    fn connected_client(&self) -> Result<Arc<ibapi::Client>, BrokerError> {
        self.client
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .ok_or(BrokerError::NotReady(self.state()))
    }

    /// Runs one outbound exchange: admission to the pacer, then `call` within the time limit.
    async fn call<T, F, Fut>(&self, call: F) -> Result<T, BrokerError>
    where
        F: FnOnce(Arc<ibapi::Client>) -> Fut,
        Fut: std::future::Future<Output = Result<T, ibapi::Error>>,
    {
        let client = self.connected_client()?;
        let permit = self.pacer.admit()?;
        let limit = self.config.call_timeout;
        let result = tokio::time::timeout(limit, call(client)).await;
        permit.sent();
        match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(ib_error(err)),
            Err(_) => Err(BrokerError::Timeout(limit.as_secs())),
        }
    }
}

/// Translates ibapi's error into the port's.
fn ib_error(err: ibapi::Error) -> BrokerError {
    match err {
        ibapi::Error::Notice(notice) => BrokerError::Ib {
            code: notice.code,
            message: notice.message,
        },
        other => BrokerError::Connection(other.to_string()),
    }
}

impl Broker for IbBroker {
    fn state(&self) -> BrokerState {
        *self.state.borrow()
    }

    fn watch_state(&self) -> watch::Receiver<BrokerState> {
        self.state.subscribe()
    }

    fn events(&self) -> broadcast::Receiver<BrokerEvent> {
        self.events.subscribe()
    }

    fn place(&self, order: BrokerOrder) -> BoxFuture<'_, Result<(), BrokerError>> {
        Box::pin(async move {
            let contract = convert::contract(&order.instrument);
            let ib_order = convert::order(&order);
            self.call(|client| async move {
                client
                    .submit_order(order.broker_order_id, &contract, &ib_order)
                    .await
            })
            .await?;
            metrics::count_broker_order(order.side.as_str(), order.pricing.order_type().as_str());
            Ok(())
        })
    }

    fn cancel(&self, broker_order_id: i32) -> BoxFuture<'_, Result<(), BrokerError>> {
        Box::pin(async move {
            // The confirmation arrives as an order status event; the returned subscription
            // is not needed.
            self.call(
                |client| async move { client.cancel_order(broker_order_id, "").await.map(drop) },
            )
            .await
        })
    }

    fn cancel_all(&self) -> BoxFuture<'_, Result<(), BrokerError>> {
        Box::pin(async move {
            self.call(|client| async move { client.global_cancel().await })
                .await
        })
    }

    fn open_orders(&self) -> BoxFuture<'_, Result<Vec<super::BrokerOrderView>, BrokerError>> {
        Box::pin(async move {
            self.call(|client| async move {
                let sub = client.all_open_orders().await?;
                supervisor::collect_orders(sub)
                    .await
                    .map_err(|e| ibapi::Error::Simple(e.to_string()))
            })
            .await
        })
    }

    fn executions(&self) -> BoxFuture<'_, Result<super::Executions, BrokerError>> {
        Box::pin(async move {
            self.call(|client| async move {
                let mut sub = client
                    .executions(ibapi::orders::ExecutionFilter::default())
                    .await?;
                let (mut fills, mut commissions) = (Vec::new(), Vec::new());
                while let Some(item) = sub.next().await {
                    match item? {
                        SubscriptionItem::Data(ibapi::orders::Executions::ExecutionData(d)) => {
                            fills.push(convert::fill(&d))
                        }
                        SubscriptionItem::Data(ibapi::orders::Executions::CommissionReport(c)) => {
                            commissions.push(convert::commission(&c));
                        }
                        SubscriptionItem::Notice(_) => {}
                    }
                }
                Ok(super::Executions { fills, commissions })
            })
            .await
        })
    }

    fn positions(&self) -> BoxFuture<'_, Result<Vec<BrokerPosition>, BrokerError>> {
        Box::pin(async move {
            self.call(|client| async move {
                let mut sub = client.positions().await?;
                let mut out = Vec::new();
                while let Some(item) = sub.next().await {
                    match item? {
                        SubscriptionItem::Data(ibapi::accounts::PositionUpdate::Position(p)) => {
                            out.push(convert::position(&p));
                        }
                        SubscriptionItem::Data(ibapi::accounts::PositionUpdate::PositionEnd) => {
                            break;
                        }
                        SubscriptionItem::Notice(_) => {}
                    }
                }
                Ok(out)
            })
            .await
        })
    }

    fn quote(&self, symbol: &str) -> BoxFuture<'_, Result<app::domain::quote::Quote, BrokerError>> {
        let symbol = symbol.to_owned();
        Box::pin(async move {
            let me = self
                .me
                .upgrade()
                .ok_or(BrokerError::NotReady(BrokerState::Disconnected))?;
            me.snapshot(&symbol).await
        })
    }

    fn watch_quotes(&self, symbol: &str) -> Result<QuoteWatch, BrokerError> {
        let me = self
            .me
            .upgrade()
            .ok_or(BrokerError::NotReady(BrokerState::Disconnected))?;
        me.watch_quotes(symbol)
    }

    fn last_tick_age(&self) -> Option<Duration> {
        self.market.last_tick_age()
    }

    fn account_summary(&self) -> BoxFuture<'_, Result<Vec<super::AccountValue>, BrokerError>> {
        Box::pin(self.fetch_account_summary())
    }

    fn pnl(&self, account: &str) -> BoxFuture<'_, Result<app::domain::account::Pnl, BrokerError>> {
        let account = account.to_owned();
        Box::pin(async move { self.fetch_pnl(account).await })
    }

    fn bars(
        &self,
        symbol: &str,
        size: &str,
        duration: &str,
    ) -> BoxFuture<'_, Result<Vec<app::domain::account::Bar>, BrokerError>> {
        let (symbol, size, duration) = (symbol.to_owned(), size.to_owned(), duration.to_owned());
        Box::pin(async move { self.fetch_bars(symbol, size, duration).await })
    }

    fn contracts(
        &self,
        query: &str,
    ) -> BoxFuture<'_, Result<Vec<app::domain::account::ContractInfo>, BrokerError>> {
        let query = query.to_owned();
        Box::pin(async move { self.fetch_contracts(query).await })
    }

    fn server_time(&self) -> BoxFuture<'_, Result<DateTime<Utc>, BrokerError>> {
        Box::pin(async move {
            let t = self
                .call(|client| async move { client.server_time().await })
                .await?;
            Ok(convert::server_time(t))
        })
    }
}

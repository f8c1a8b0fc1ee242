//! The desk: the use-case layer that the REST handlers and the UI's server functions share.

mod account;
mod errors;
mod events;
mod orders;

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::sync::broadcast;

use app::domain::failure::Failure;
use app::domain::order::OrderView;
use app::domain::{BrokerState, HealthReport, HealthStatus};
use app::ports::BoxFuture;

use crate::broker::Broker;
use crate::broker::window::MaintenanceWindow;
use crate::cache::Cache;
use crate::config::Settings;
use crate::{journal, metrics};

pub use account::OrderPatch;
pub use errors::DeskError;
pub use orders::{CancelOutcome, Placed};

/// How long a quote snapshot is served from the cache.
const QUOTE_TTL: Duration = Duration::from_secs(1);

/// Something the journal recorded, for waiters and (later) the event stream.
#[derive(Debug, Clone)]
pub enum Change {
    /// An order changed state.
    Order {
        /// Event sequence number.
        seq: i64,
        /// The order after the change.
        order: Box<OrderView>,
    },
    /// A new execution of a known order was recorded.
    Fill {
        /// Event sequence number.
        seq: i64,
        /// IB's execution id.
        exec_id: String,
    },
    /// An order placed outside Binder was adopted (its event carries the sequence number).
    Adopted {
        /// Binder's id for it.
        order_id: String,
    },
}

/// What the last reconciliation learned about the account.
#[derive(Debug, Clone, Default)]
struct AccountView {
    /// Accounts the gateway session manages.
    accounts: Vec<String>,
}

/// Settings of the desk's order path.
#[derive(Debug, Clone)]
pub struct DeskConfig {
    /// How long `place_order` waits for the broker's acknowledgement before answering 202.
    pub ack_timeout: Duration,
    /// The daily gateway restart window.
    pub maintenance: MaintenanceWindow,
    /// The API client id orders are placed with.
    pub broker_client_id: i32,
}

/// The use cases; one instance per process, shared behind an `Arc`.
pub struct Desk {
    settings: Arc<Settings>,
    config: DeskConfig,
    db: PgPool,
    cache: Cache,
    broker: Arc<dyn Broker>,
    changes: broadcast::Sender<Change>,
    account: RwLock<AccountView>,
    started_at: Instant,
}

impl Desk {
    /// Assembles the desk from its dependencies.
    pub fn new(
        settings: Arc<Settings>,
        config: DeskConfig,
        db: PgPool,
        cache: Cache,
        broker: Arc<dyn Broker>,
    ) -> Self {
        let (changes, _) = broadcast::channel(4096);
        Self {
            settings,
            config,
            db,
            cache,
            broker,
            changes,
            account: RwLock::new(AccountView::default()),
            started_at: Instant::now(),
        }
    }

    /// Checks the journal, the cache and the broker link (concurrently) and reports.
    #[tracing::instrument(skip_all)]
    pub async fn health(&self) -> HealthReport {
        let (db_connected, redis_connected) =
            tokio::join!(journal::ping(&self.db), self.cache.ping());
        metrics::set_dependencies(db_connected, redis_connected);
        let broker_state = self.broker.state();
        HealthReport {
            status: HealthStatus::from_checks(db_connected, redis_connected, broker_state),
            ib_gateway_connected: broker_state.is_connected(),
            db_connected,
            redis_connected,
            broker_state,
            broker: self.settings.broker_mode_name().to_owned(),
            trading_mode: self.settings.trading_mode.as_str().to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            uptime_seconds: self.started_at.elapsed().as_secs(),
            checked_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        }
    }

    /// The broker link's state.
    pub fn broker_state(&self) -> BrokerState {
        self.broker.state()
    }

    /// A receiver that sees every change of the broker link's state.
    pub fn watch_broker(&self) -> tokio::sync::watch::Receiver<BrokerState> {
        self.broker.watch_state()
    }

    /// Every change the journal records from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// The last journal event sequence number.
    pub async fn last_event_seq(&self) -> Result<i64, DeskError> {
        Ok(journal::orders::last_seq(&self.db).await?)
    }

    /// Journal events after `since`, oldest first.
    pub async fn journal_events(
        &self,
        since: i64,
        limit: i64,
    ) -> Result<Vec<journal::orders::JournalEvent>, DeskError> {
        Ok(journal::orders::events_since(&self.db, since, limit).await?)
    }

    /// The maintenance window in force.
    pub fn maintenance(&self) -> &MaintenanceWindow {
        &self.config.maintenance
    }

    /// The broker's clock.
    pub async fn broker_time(&self) -> Result<chrono::DateTime<chrono::Utc>, DeskError> {
        Ok(self.broker.server_time().await?)
    }

    /// One quote for `symbol`: from the cache if a second-old one is there, else the broker.
    pub async fn quote(&self, symbol: &str) -> Result<app::domain::quote::Quote, DeskError> {
        let symbol = self.symbol(symbol)?;
        let key = format!("quote:{symbol}");
        match self.cache.get_json(&key).await {
            Ok(Some(quote)) => return Ok(quote),
            Ok(None) => {}
            Err(err) => {
                tracing::debug!(error = %err, "quote cache unavailable; asking the broker");
                metrics::count_cache_fallback("quote");
            }
        }
        let quote = self.broker.quote(&symbol).await?;
        if let Err(err) = self.cache.set_json(&key, &quote, QUOTE_TTL).await {
            tracing::debug!(error = %err, "cannot cache a quote");
        }
        Ok(quote)
    }

    /// A live quote feed for `symbol`, holding a market data line while it lives.
    pub fn watch_quotes(&self, symbol: &str) -> Result<crate::broker::QuoteWatch, DeskError> {
        let symbol = self.symbol(symbol)?;
        Ok(self.broker.watch_quotes(&symbol)?)
    }

    pub(crate) fn symbol(&self, raw: &str) -> Result<String, DeskError> {
        app::domain::order::Symbol::new(raw)
            .map(|s| s.as_str().to_owned())
            .map_err(|reason| {
                DeskError::Invalid(vec![app::domain::order::FieldError {
                    field: "symbol".to_owned(),
                    reason,
                }])
            })
    }

    /// Updates gauges that are computed when `/metrics` is scraped.
    pub fn sample_metrics(&self) {
        metrics::set_last_tick_age(self.broker.last_tick_age());
    }

    /// Closes the journal and cache pools (at shutdown).
    pub async fn close(&self) {
        self.db.close().await;
        self.cache.close();
    }

    fn notify(&self, change: Change) {
        // Nobody listening is normal.
        let _ = self.changes.send(change);
    }
}

/// The UI's server functions reach the same use cases as the REST handlers through this port;
/// each method only delegates and converts to the app's types.
impl app::ports::Desk for Desk {
    fn health(&self) -> BoxFuture<'_, HealthReport> {
        Box::pin(Desk::health(self))
    }

    fn orders(
        &self,
        open: Option<bool>,
        limit: i64,
    ) -> BoxFuture<'_, Result<Vec<OrderView>, Failure>> {
        let filter = journal::orders::ListFilter {
            open,
            limit,
            ..Default::default()
        };
        Box::pin(async move { Desk::orders(self, &filter).await.map_err(failure) })
    }

    fn place_order(
        &self,
        request: app::domain::order::OrderRequest,
    ) -> BoxFuture<'_, Result<OrderView, Failure>> {
        Box::pin(async move {
            match Desk::place_order(self, request).await.map_err(failure)? {
                Placed::Acknowledged(order) | Placed::Pending(order) => Ok(order),
            }
        })
    }

    fn cancel_order(&self, id: String) -> BoxFuture<'_, Result<OrderView, Failure>> {
        Box::pin(async move { Desk::cancel_order(self, &id).await.map_err(failure) })
    }

    fn cancel_all(
        &self,
    ) -> BoxFuture<'_, Result<Vec<app::domain::order::CancelOutcomeView>, Failure>> {
        Box::pin(async move {
            let outcomes = Desk::cancel_all(self).await.map_err(failure)?;
            Ok(outcomes
                .into_iter()
                .map(|o| app::domain::order::CancelOutcomeView {
                    id: o.id,
                    status: o.status,
                    error_code: o.error_code.map(str::to_owned),
                })
                .collect())
        })
    }

    fn fills(
        &self,
        limit: i64,
    ) -> BoxFuture<'_, Result<Vec<app::domain::position::FillView>, Failure>> {
        Box::pin(async move {
            let fills = Desk::fills(self, None, limit).await.map_err(failure)?;
            Ok(fills
                .into_iter()
                .map(|f| app::domain::position::FillView {
                    exec_id: f.exec_id,
                    order_id: f.order_id.map(|id| id.to_string()),
                    account: f.account,
                    symbol: f.symbol,
                    side: f.side,
                    qty: f.qty,
                    price: f.price,
                    commission: f.commission,
                    realized_pnl: f.realized_pnl,
                    executed_at: f
                        .executed_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                })
                .collect())
        })
    }

    fn positions(
        &self,
    ) -> BoxFuture<'_, Result<Vec<app::domain::position::PositionView>, Failure>> {
        Box::pin(async move {
            let positions = Desk::positions(self).await.map_err(failure)?;
            Ok(positions
                .into_iter()
                .map(|p| app::domain::position::PositionView {
                    account: p.account,
                    symbol: p.symbol,
                    con_id: p.con_id,
                    qty: p.qty,
                    avg_cost: p.avg_cost,
                })
                .collect())
        })
    }

    fn quote(&self, symbol: String) -> BoxFuture<'_, Result<app::domain::quote::Quote, Failure>> {
        Box::pin(async move { Desk::quote(self, &symbol).await.map_err(failure) })
    }
}

/// A desk failure as the UI shows it: the REST API's code for it (one mapping, in
/// `api::desk_error`), the error's sentence, and the fields at fault. A journal failure's
/// cause is logged here and never shown.
fn failure(err: DeskError) -> Failure {
    let message = match &err {
        DeskError::Journal(cause) => {
            tracing::error!(error = %cause, "desk call from the UI failed");
            "internal error; the request id identifies it in the server log".to_owned()
        }
        other => other.to_string(),
    };
    let fields = match &err {
        DeskError::Invalid(fields) => fields.clone(),
        _ => Vec::new(),
    };
    let code = crate::api::error::AppError::from(err).code();
    Failure {
        error_code: code.as_str().to_owned(),
        message,
        fields,
    }
}

/// Starts the task that applies broker events to the journal; it stops with `shutdown`.
pub fn spawn_event_consumer(
    desk: &Arc<Desk>,
    shutdown: tokio_util::sync::CancellationToken,
    tasks: &tokio_util::task::TaskTracker,
) {
    // Subscribe before the broker starts, so the first events are not missed.
    let events = desk.broker.events();
    tasks.spawn(events::consume(Arc::clone(desk), events, shutdown));
}

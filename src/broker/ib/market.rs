//! Market data: reference-counted streaming lines that survive reconnects and 1101, and
//! one-shot snapshots. The line limit is checked before anything is sent to the gateway.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use futures::StreamExt;
use ibapi::contracts::tick_types::TickType;
use ibapi::market_data::realtime::TickTypes;
use ibapi::subscriptions::SubscriptionItem;
use rust_decimal::Decimal;
use tokio::sync::watch;
use tokio::task::AbortHandle;

use app::domain::BrokerState;
use app::domain::quote::Quote;

use super::{IbBroker, convert};
use crate::broker::pacing::MarketDataLines;
use crate::broker::{BrokerError, QuoteWatch};

/// How long a snapshot may take.
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(5);

/// The adapter's market data state.
pub struct MarketData {
    lines: MarketDataLines,
    streams: Mutex<HashMap<String, Line>>,
    /// Bumped when subscriptions must be renewed (1101: the gateway dropped them).
    renew: watch::Sender<u64>,
    last_tick: Mutex<Option<Instant>>,
}

struct Line {
    quotes: watch::Receiver<Quote>,
    task: AbortHandle,
}

struct LineGuard {
    broker: Weak<IbBroker>,
    symbol: String,
}

impl Drop for LineGuard {
    fn drop(&mut self) {
        if let Some(broker) = self.broker.upgrade() {
            broker.market.close(&self.symbol);
        }
    }
}

impl MarketData {
    /// At most `limit` lines at once.
    pub fn new(limit: usize) -> Self {
        Self {
            lines: MarketDataLines::new(limit),
            streams: Mutex::new(HashMap::new()),
            renew: watch::Sender::new(0),
            last_tick: Mutex::new(None),
        }
    }

    /// Asks every line to subscribe again (after 1101).
    pub fn renew_all(&self) {
        self.renew.send_modify(|n| *n += 1);
    }

    /// Seconds since the last tick of any line, if one arrived.
    pub fn last_tick_age(&self) -> Option<Duration> {
        self.last_tick
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .map(|t| t.elapsed())
    }

    fn close(&self, symbol: &str) {
        if self.lines.release(symbol) {
            let line = self
                .streams
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(symbol);
            if let Some(line) = line {
                // Dropping the task's subscription sends the cancel to the gateway.
                line.task.abort();
            }
        }
    }

    fn touch(&self) {
        *self
            .last_tick
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now());
    }
}

impl IbBroker {
    /// Opens (or shares) the streaming line for `symbol`.
    pub(crate) fn watch_quotes(self: &Arc<Self>, symbol: &str) -> Result<QuoteWatch, BrokerError> {
        let opened = self.market.lines.acquire(symbol)?;
        let guard = LineGuard {
            broker: Arc::downgrade(self),
            symbol: symbol.to_owned(),
        };
        let mut streams = self
            .market
            .streams
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if opened || !streams.contains_key(symbol) {
            let (tx, rx) = watch::channel(Quote {
                symbol: symbol.to_owned(),
                ..Quote::default()
            });
            let task =
                tokio::spawn(run_line(Arc::downgrade(self), symbol.to_owned(), tx)).abort_handle();
            streams.insert(symbol.to_owned(), Line { quotes: rx, task });
        }
        let quotes = streams
            .get(symbol)
            .map(|l| l.quotes.clone())
            .ok_or_else(|| BrokerError::Connection("line vanished".to_owned()))?;
        Ok(QuoteWatch {
            quotes,
            _line: Box::new(guard),
        })
    }

    /// One quote: from an open line if there is one, else a snapshot request (which also
    /// needs a free line while it runs).
    pub(crate) async fn snapshot(self: &Arc<Self>, symbol: &str) -> Result<Quote, BrokerError> {
        let streaming = self
            .market
            .streams
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(symbol)
            .map(|l| l.quotes.borrow().clone());
        if let Some(quote) = streaming.filter(|q| q.bid.is_some() || q.last.is_some()) {
            return Ok(quote);
        }
        self.market.lines.acquire(symbol)?;
        let guard = LineGuard {
            broker: Arc::downgrade(self),
            symbol: symbol.to_owned(),
        };
        let contract = ibapi::contracts::Contract::stock(symbol).build();
        let ticks = self
            .call(|client| async move {
                client
                    .market_data(&contract)
                    .snapshot_once(SNAPSHOT_TIMEOUT)
                    .await
            })
            .await;
        drop(guard);
        let mut quote = Quote {
            symbol: symbol.to_owned(),
            ..Quote::default()
        };
        for tick in &ticks? {
            apply_tick(&mut quote, tick);
        }
        self.market.touch();
        Ok(quote)
    }
}

/// Keeps one line subscribed for as long as it is open: across reconnects and renewals.
async fn run_line(broker: Weak<IbBroker>, symbol: String, tx: watch::Sender<Quote>) {
    loop {
        let Some(strong) = broker.upgrade() else {
            return;
        };
        let mut state = strong.state.subscribe();
        let mut renew = strong.market.renew.subscribe();
        renew.mark_unchanged();
        drop(strong);
        if state
            .wait_for(|s| matches!(s, BrokerState::Ready | BrokerState::Degraded))
            .await
            .is_err()
        {
            return;
        }
        let Some(strong) = broker.upgrade() else {
            return;
        };
        let contract = ibapi::contracts::Contract::stock(symbol.as_str()).build();
        let subscription = strong
            .call(|client| async move { client.market_data(&contract).subscribe().await })
            .await;
        let mut subscription = match subscription {
            Ok(s) => s,
            Err(err) => {
                tracing::warn!(%symbol, error = %err, "cannot subscribe to market data; retrying");
                drop(strong);
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        tracing::debug!(%symbol, "market data line subscribed");
        loop {
            tokio::select! {
                item = subscription.next() => match item {
                    Some(Ok(SubscriptionItem::Data(tick))) => {
                        tx.send_modify(|q| apply_tick(q, &tick));
                        strong.market.touch();
                    }
                    Some(Ok(SubscriptionItem::Notice(notice))) => {
                        tracing::info!(%symbol, code = notice.code, message = %notice.message, "market data notice");
                    }
                    Some(Err(_)) | None => break,
                },
                changed = renew.changed() => {
                    if changed.is_err() { return; }
                    tracing::info!(%symbol, "renewing the market data line");
                    break;
                }
            }
        }
        drop(subscription);
        drop(strong);
        // A short pause keeps a flapping link from turning into a subscribe storm.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn apply_tick(quote: &mut Quote, tick: &TickTypes) {
    let mut set = |tick_type: &TickType, value: f64| {
        let v = convert::from_f64(value).filter(|d| *d >= Decimal::ZERO);
        match tick_type {
            TickType::Bid | TickType::DelayedBid => quote.bid = v,
            TickType::Ask | TickType::DelayedAsk => quote.ask = v,
            TickType::Last | TickType::DelayedLast => quote.last = v,
            TickType::Close | TickType::DelayedClose => quote.close = v,
            TickType::BidSize | TickType::DelayedBidSize => quote.bid_size = v,
            TickType::AskSize | TickType::DelayedAskSize => quote.ask_size = v,
            TickType::LastSize | TickType::DelayedLastSize => quote.last_size = v,
            TickType::Volume | TickType::DelayedVolume => quote.volume = v,
            _ => return,
        }
        quote.updated_at =
            Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    };
    match tick {
        TickTypes::Price(p) => set(&p.tick_type, p.price),
        TickTypes::Size(s) => set(&s.tick_type, s.size),
        TickTypes::PriceSize(ps) => {
            set(&ps.price_tick_type, ps.price);
            set(&ps.size_tick_type, ps.size);
        }
        _ => {}
    }
}

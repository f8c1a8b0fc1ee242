//! Requests for account and reference data: account summary, PnL, historical bars, contracts.

use std::time::Instant;

use futures::StreamExt;
use ibapi::market_data::historical::{BarSize, Duration as IbDuration, WhatToShow};
use ibapi::subscriptions::SubscriptionItem;

use app::domain::account::{Bar, ContractInfo, Pnl};

use super::{IbBroker, convert};
use crate::broker::pacing::HistoricalKey;
use crate::broker::{AccountValue, BrokerError};

/// Account summary tags Binder reads.
pub const SUMMARY_TAGS: &[&str] = &[
    "NetLiquidation",
    "TotalCashValue",
    "BuyingPower",
    "AvailableFunds",
    "GrossPositionValue",
    "MaintMarginReq",
    "ExcessLiquidity",
];

/// Bar sizes accepted by `GET /bars`, in IB's words, with ibapi's names.
const BAR_SIZES: &[(&str, BarSize)] = &[
    ("1 secs", BarSize::Sec),
    ("5 secs", BarSize::Sec5),
    ("30 secs", BarSize::Sec30),
    ("1 min", BarSize::Min),
    ("5 mins", BarSize::Min5),
    ("15 mins", BarSize::Min15),
    ("30 mins", BarSize::Min30),
    ("1 hour", BarSize::Hour),
    ("1 day", BarSize::Day),
    ("1 week", BarSize::Week),
];

/// The bar sizes `GET /bars` accepts, for error messages.
pub fn bar_sizes() -> Vec<&'static str> {
    BAR_SIZES.iter().map(|(name, _)| *name).collect()
}

fn bar_size(raw: &str) -> Option<BarSize> {
    let normalized = raw.trim().to_ascii_lowercase();
    BAR_SIZES
        .iter()
        .find(|(name, _)| *name == normalized)
        .map(|(_, size)| *size)
}

impl IbBroker {
    pub(super) async fn fetch_account_summary(&self) -> Result<Vec<AccountValue>, BrokerError> {
        self.call(|client| async move {
            let group = ibapi::accounts::types::AccountGroup("All".to_owned());
            let mut sub = client.account_summary(&group, SUMMARY_TAGS).await?;
            let mut values = Vec::new();
            while let Some(item) = sub.next().await {
                match item? {
                    SubscriptionItem::Data(ibapi::accounts::AccountSummaryResult::Summary(v)) => {
                        values.push(AccountValue {
                            account: v.account,
                            tag: v.tag,
                            value: v.value,
                            currency: v.currency,
                        })
                    }
                    SubscriptionItem::Data(ibapi::accounts::AccountSummaryResult::End) => break,
                    SubscriptionItem::Notice(_) => {}
                }
            }
            Ok(values)
        })
        .await
    }

    pub(super) async fn fetch_pnl(&self, account: String) -> Result<Pnl, BrokerError> {
        let id = ibapi::accounts::types::AccountId(account.clone());
        let first = self
            .call(|client| async move {
                let mut sub = client.pnl(&id, None).await?;
                // The first update is the current state; dropping the subscription cancels it.
                loop {
                    match sub.next().await {
                        Some(Ok(SubscriptionItem::Data(pnl))) => return Ok(Some(pnl)),
                        Some(Ok(SubscriptionItem::Notice(_))) => {}
                        Some(Err(err)) => return Err(err),
                        None => return Ok(None),
                    }
                }
            })
            .await?;
        let pnl =
            first.ok_or_else(|| BrokerError::Connection("the gateway sent no PnL".to_owned()))?;
        Ok(Pnl {
            account,
            daily: convert::from_f64(pnl.daily_pnl),
            unrealized: pnl.unrealized_pnl.and_then(convert::from_f64),
            realized: pnl.realized_pnl.and_then(convert::from_f64),
        })
    }

    pub(super) async fn fetch_bars(
        &self,
        symbol: String,
        size: String,
        duration: String,
    ) -> Result<Vec<Bar>, BrokerError> {
        let bar = bar_size(&size).ok_or_else(|| BrokerError::Ib {
            code: 321,
            message: format!(
                "unsupported bar size {size:?}; use one of {}",
                bar_sizes().join(", ")
            ),
        })?;
        let span: IbDuration = duration.parse().map_err(|_| BrokerError::Ib {
            code: 321,
            message: format!(
                "unsupported duration {duration:?}; use e.g. \"1 D\", \"2 W\", \"3600 S\""
            ),
        })?;
        let key = HistoricalKey {
            instrument: symbol.clone(),
            params: format!("{size}|{duration}"),
        };
        self.historical
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .try_start(key, Instant::now())
            .map_err(BrokerError::Pacing)?;
        let contract = ibapi::contracts::Contract::stock(symbol.as_str()).build();
        let result = self
            .call(|client| async move {
                client
                    .historical_data(&contract, bar)
                    .what_to_show(WhatToShow::Trades)
                    .duration(span)
                    .fetch()
                    .await
            })
            .await;
        self.historical
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .finish();
        let data = result?;
        Ok(data
            .bars
            .iter()
            .map(|b| Bar {
                time: b.date.to_string(),
                open: convert::from_f64(b.open).unwrap_or_default(),
                high: convert::from_f64(b.high).unwrap_or_default(),
                low: convert::from_f64(b.low).unwrap_or_default(),
                close: convert::from_f64(b.close).unwrap_or_default(),
                volume: convert::qty_from_f64(b.volume),
            })
            .collect())
    }

    pub(super) async fn fetch_contracts(
        &self,
        query: String,
    ) -> Result<Vec<ContractInfo>, BrokerError> {
        let contract = match query.parse::<i32>() {
            Ok(con_id) => ibapi::contracts::Contract {
                contract_id: con_id,
                ..ibapi::contracts::Contract::default()
            },
            Err(_) => {
                ibapi::contracts::Contract::stock(query.to_ascii_uppercase().as_str()).build()
            }
        };
        let details = self
            .call(|client| async move { client.contract_details(&contract).await })
            .await;
        let details = match details {
            Ok(d) => d,
            // No such security: an empty search result, not an error.
            Err(BrokerError::Ib { code: 200, .. }) => Vec::new(),
            Err(other) => return Err(other),
        };
        Ok(details
            .iter()
            .map(|d| ContractInfo {
                con_id: i64::from(d.contract.contract_id),
                symbol: d.contract.symbol.to_string(),
                sec_type: d.contract.security_type.as_str().to_owned(),
                exchange: d.contract.exchange.to_string(),
                primary_exchange: d.contract.primary_exchange.to_string(),
                currency: d.contract.currency.to_string(),
                long_name: d.long_name.clone(),
                min_tick: convert::from_f64(d.min_tick),
            })
            .collect())
    }
}

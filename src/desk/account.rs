//! Account, position and reference-data use cases, and order modification.

use std::str::FromStr;

use rust_decimal::Decimal;
use uuid::Uuid;

use app::domain::account::{AccountSummary, Bar, ContractInfo, Pnl};
use app::domain::order::{
    DecimalInput, FieldError, OrderRequest, OrderRequestInput, OrderStatus, OrderView, Side,
};

use super::orders::Placed;
use super::{Change, Desk, DeskError};
use crate::broker::{BrokerOrder, BrokerPosition};
use crate::journal::{self, JournalError, orders::Applied, orders::Terms};
use crate::metrics;

/// Bar sizes `GET /bars` accepts (IB's names).
pub const BAR_SIZES: &[&str] = &[
    "1 secs", "5 secs", "30 secs", "1 min", "5 mins", "15 mins", "30 mins", "1 hour", "1 day",
    "1 week",
];

/// What `PATCH /orders/{id}` may change.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderPatch {
    /// New total quantity.
    pub qty: Option<DecimalInput>,
    /// New limit price.
    pub limit_price: Option<DecimalInput>,
    /// New stop price.
    pub stop_price: Option<DecimalInput>,
    /// New trailing amount.
    pub trail_amount: Option<DecimalInput>,
    /// New trailing percentage.
    pub trail_percent: Option<DecimalInput>,
    /// New time in force.
    pub time_in_force: Option<String>,
}

fn text(d: Decimal) -> Option<DecimalInput> {
    Some(DecimalInput::Text(d.to_string()))
}

impl Desk {
    /// Accounts the gateway session manages.
    pub fn accounts(&self) -> Vec<String> {
        self.account
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .accounts
            .clone()
    }

    fn known_account(&self, id: &str) -> Result<(), DeskError> {
        if self.accounts().iter().any(|a| a == id) {
            Ok(())
        } else {
            Err(DeskError::AccountNotFound)
        }
    }

    /// The account's summary values.
    pub async fn account_summary(&self, id: &str) -> Result<AccountSummary, DeskError> {
        self.known_account(id)?;
        let values = self.broker.account_summary().await?;
        journal::snapshots::record_account_values(&self.db, &values).await?;
        let mut summary = AccountSummary {
            account: id.to_owned(),
            ..AccountSummary::default()
        };
        for v in values.into_iter().filter(|v| v.account == id) {
            let value = Decimal::from_str(&v.value).ok();
            let slot = match v.tag.as_str() {
                "NetLiquidation" => &mut summary.net_liquidation,
                "TotalCashValue" => &mut summary.total_cash_value,
                "BuyingPower" => &mut summary.buying_power,
                "AvailableFunds" => &mut summary.available_funds,
                "GrossPositionValue" => &mut summary.gross_position_value,
                "MaintMarginReq" => &mut summary.maint_margin_req,
                "ExcessLiquidity" => &mut summary.excess_liquidity,
                _ => continue,
            };
            *slot = value;
            if summary.currency.is_empty() {
                summary.currency = v.currency;
            }
        }
        Ok(summary)
    }

    /// The account's profit and loss.
    pub async fn pnl(&self, id: &str) -> Result<Pnl, DeskError> {
        self.known_account(id)?;
        let pnl = self.broker.pnl(id).await?;
        metrics::set_pnl(pnl.unrealized, pnl.daily);
        journal::snapshots::record_pnl(&self.db, &pnl).await?;
        Ok(pnl)
    }

    /// Historical bars.
    pub async fn bars(
        &self,
        symbol: &str,
        size: &str,
        duration: &str,
    ) -> Result<Vec<Bar>, DeskError> {
        let symbol = self.symbol(symbol)?;
        let mut errors = Vec::new();
        let size = size.trim().to_ascii_lowercase();
        if !BAR_SIZES.contains(&size.as_str()) {
            errors.push(FieldError {
                field: "size".to_owned(),
                reason: format!("must be one of: {}", BAR_SIZES.join(", ")),
            });
        }
        let duration = duration.trim().to_ascii_uppercase();
        let valid_duration = duration.split_once(' ').is_some_and(|(n, unit)| {
            n.parse::<u32>().is_ok_and(|n| n > 0) && matches!(unit, "S" | "D" | "W" | "M" | "Y")
        });
        if !valid_duration {
            errors.push(FieldError {
                field: "duration".to_owned(),
                reason: "must be a count and a unit: S, D, W, M or Y (e.g. \"1 D\", \"2 W\")"
                    .to_owned(),
            });
        }
        if !errors.is_empty() {
            return Err(DeskError::Invalid(errors));
        }
        Ok(self.broker.bars(&symbol, &size, &duration).await?)
    }

    /// Contract search.
    pub async fn contracts(&self, query: &str) -> Result<Vec<ContractInfo>, DeskError> {
        let query = query.trim();
        if query.is_empty() || query.len() > 32 {
            return Err(DeskError::Invalid(vec![FieldError {
                field: "query".to_owned(),
                reason: "must be 1 to 32 characters: a symbol or a contract id".to_owned(),
            }]));
        }
        Ok(self.broker.contracts(query).await?)
    }

    /// One position by symbol.
    pub async fn position(&self, symbol: &str) -> Result<BrokerPosition, DeskError> {
        let symbol = self.symbol(symbol)?;
        self.positions()
            .await?
            .into_iter()
            .find(|p| p.symbol == symbol && !p.qty.is_zero())
            .ok_or(DeskError::PositionNotFound)
    }

    /// Closes a position with a market order for its whole quantity.
    pub async fn close_position(&self, symbol: &str) -> Result<Placed, DeskError> {
        let position = self.position(symbol).await?;
        let side = if position.qty > Decimal::ZERO {
            Side::Sell
        } else {
            Side::Buy
        };
        let input = OrderRequestInput {
            symbol: Some(position.symbol.clone()),
            side: Some(side.as_str().to_owned()),
            qty: text(position.qty.abs()),
            order_type: Some("market".to_owned()),
            account: Some(position.account.clone()),
            ..OrderRequestInput::default()
        };
        let request = OrderRequest::parse(&input).map_err(DeskError::Invalid)?;
        self.place_order(request).await
    }

    /// One order by the caller's id.
    pub async fn order_by_client_id(
        &self,
        client_order_id: &str,
        account: Option<&str>,
    ) -> Result<OrderView, DeskError> {
        let account = match account {
            Some(a) => a.to_owned(),
            None => match self.accounts().as_slice() {
                [only] => only.clone(),
                _ => {
                    return Err(DeskError::Invalid(vec![FieldError {
                        field: "account".to_owned(),
                        reason: "is required: this gateway session manages several accounts"
                            .to_owned(),
                    }]));
                }
            },
        };
        journal::orders::find_by_client_order_id(&self.db, &account, client_order_id)
            .await?
            .ok_or(DeskError::OrderNotFound)
    }

    /// Changes a working order's quantity, prices or time in force (same broker id).
    #[tracing::instrument(skip_all, fields(order_id = id))]
    pub async fn modify_order(&self, id: &str, patch: &OrderPatch) -> Result<OrderView, DeskError> {
        let order = self.order(id).await?;
        if !order.status.can_become(OrderStatus::PendingReplace) {
            return Err(DeskError::NotModifiable(order.status));
        }
        let keep = |new: &Option<DecimalInput>, old: Option<Decimal>| {
            new.clone().or_else(|| old.and_then(text))
        };
        let input = OrderRequestInput {
            symbol: Some(order.symbol.clone()).filter(|_| order.con_id.is_none()),
            con_id: order.con_id,
            side: Some(order.side.as_str().to_owned()),
            qty: keep(&patch.qty, Some(order.qty)),
            order_type: Some(order.order_type.as_str().to_owned()),
            limit_price: keep(&patch.limit_price, order.limit_price),
            stop_price: keep(&patch.stop_price, order.stop_price),
            trail_amount: keep(&patch.trail_amount, order.trail_amount),
            trail_percent: keep(&patch.trail_percent, order.trail_percent),
            time_in_force: patch
                .time_in_force
                .clone()
                .or_else(|| Some(order.time_in_force.as_str().to_owned())),
            outside_rth: Some(order.outside_rth),
            // The leg prices of a bracket live in the legs themselves: each is modified on its own.
            client_order_id: None,
            order_class: None,
            take_profit: None,
            stop_loss: None,
            account: Some(order.account.clone()),
        };
        let request = OrderRequest::parse(&input).map_err(DeskError::Invalid)?;
        if request.qty().get() <= order.filled_qty {
            return Err(DeskError::Invalid(vec![FieldError {
                field: "qty".to_owned(),
                reason: format!("must be more than the {} already filled", order.filled_qty),
            }]));
        }
        self.check_link()?;
        let uuid = Uuid::from_str(&order.id).map_err(|e| JournalError::Corrupt(e.to_string()))?;
        let terms = Terms {
            qty: request.qty().get(),
            pricing: request.pricing(),
            time_in_force: request.time_in_force(),
        };
        match journal::orders::request_replace(&self.db, uuid, &terms).await? {
            Applied::Changed { order, seq } => self.notify(Change::Order { seq, order }),
            Applied::Illegal { from, .. } => return Err(DeskError::NotModifiable(from)),
            Applied::Unchanged => {}
        }
        let (parent_broker_id, oca_group) = journal::orders::grouping(&self.db, uuid).await?;
        let mut changes = self.subscribe();
        self.broker
            .place(BrokerOrder {
                parent_broker_id,
                oca_group,
                transmit: true,
                broker_order_id: order.broker_order_id,
                instrument: request.instrument().clone(),
                side: request.side(),
                qty: request.qty(),
                pricing: request.pricing(),
                time_in_force: request.time_in_force(),
                outside_rth: request.outside_rth(),
                order_ref: order.client_order_id.clone(),
                account: Some(order.account.clone()),
            })
            .await?;
        let deadline = tokio::time::Instant::now() + self.config.ack_timeout;
        loop {
            let current = self.order(id).await?;
            if current.status != OrderStatus::PendingReplace
                || tokio::time::timeout_at(deadline, changes.recv())
                    .await
                    .is_err()
            {
                return Ok(current);
            }
        }
    }

    /// Refuses when the link cannot carry a request now.
    pub(super) fn check_link(&self) -> Result<(), DeskError> {
        match self.broker.state() {
            app::domain::BrokerState::Ready | app::domain::BrokerState::Degraded => Ok(()),
            other => Err(DeskError::BrokerNotReady(other)),
        }
    }
}

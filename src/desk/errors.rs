//! Why a use case failed, in terms the HTTP edge maps to stable codes.

use app::domain::BrokerState;
use app::domain::order::{FieldError, OrderStatus};

use crate::broker::{BrokerError, PacingError};
use crate::journal::JournalError;

/// A use case's failure.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// The request is invalid; each error names its field.
    #[error("the order is invalid")]
    Invalid(Vec<FieldError>),
    /// The broker link is not ready (connecting, reconciling, disconnected).
    #[error("the broker link is {}; orders are accepted once it is ready", .0.as_str())]
    BrokerNotReady(BrokerState),
    /// Inside the gateway's daily restart window.
    #[error("new orders are refused during the gateway's daily maintenance window")]
    MaintenanceWindow {
        /// Seconds until the window ends.
        retry_after_secs: u64,
    },
    /// The caller's id is already used in this account.
    #[error("client_order_id is already used by another order")]
    DuplicateClientOrderId {
        /// The existing order's id.
        existing_id: String,
    },
    /// No such order.
    #[error("no order with this id")]
    OrderNotFound,
    /// The order cannot be modified in its state.
    #[error("the order is {} and cannot be modified", .0.as_str())]
    NotModifiable(OrderStatus),
    /// No such account in this gateway session.
    #[error("no such account in this gateway session")]
    AccountNotFound,
    /// No open position in this symbol.
    #[error("no open position in this symbol")]
    PositionNotFound,
    /// The order cannot be canceled in its state.
    #[error("the order is {} and cannot be canceled", .0.as_str())]
    NotCancelable(OrderStatus),
    /// One of IB's limits.
    #[error(transparent)]
    Pacing(#[from] PacingError),
    /// The broker refused or failed.
    #[error(transparent)]
    Broker(BrokerError),
    /// The order was journaled but the broker refused it at once.
    #[error("the broker rejected the order: {reason}")]
    Rejected {
        /// The journaled order's id.
        order_id: String,
        /// IB's reason.
        reason: String,
    },
    /// The journal failed.
    #[error(transparent)]
    Journal(#[from] JournalError),
}

impl From<BrokerError> for DeskError {
    fn from(err: BrokerError) -> Self {
        match err {
            BrokerError::Pacing(p) => Self::Pacing(p),
            BrokerError::NotReady(state) => Self::BrokerNotReady(state),
            other => Self::Broker(other),
        }
    }
}

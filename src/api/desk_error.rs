//! How the desk's failures reach clients: a stable code, the right status, and details a
//! program can act on (the field at fault, the existing order, when to retry).

use serde_json::json;

use super::error::{AppError, ErrorCode};
use crate::broker::{BrokerError, PacingError, codes};
use crate::desk::DeskError;

impl From<DeskError> for AppError {
    fn from(err: DeskError) -> Self {
        let message = err.to_string();
        match err {
            DeskError::Invalid(fields) => AppError::new(
                ErrorCode::InvalidOrder,
                "the order is invalid; see details.fields",
            )
            .with_details(json!({ "fields": fields })),
            DeskError::BrokerNotReady(state) => AppError::new(ErrorCode::BrokerNotReady, message)
                .with_details(json!({ "broker_state": state }))
                .retry_after(5),
            DeskError::MaintenanceWindow { retry_after_secs } => {
                AppError::new(ErrorCode::MaintenanceWindow, message).retry_after(retry_after_secs)
            }
            DeskError::DuplicateClientOrderId { existing_id } => {
                AppError::new(ErrorCode::DuplicateClientOrderId, message)
                    .with_details(json!({ "existing_order_id": existing_id }))
            }
            DeskError::OrderNotFound => AppError::new(ErrorCode::OrderNotFound, message),
            DeskError::AccountNotFound => AppError::new(ErrorCode::AccountNotFound, message),
            DeskError::PositionNotFound => AppError::new(ErrorCode::PositionNotFound, message),
            DeskError::NotModifiable(status) => {
                AppError::new(ErrorCode::OrderNotModifiable, message)
                    .with_details(json!({ "status": status }))
            }
            DeskError::NotCancelable(status) => {
                AppError::new(ErrorCode::OrderNotCancelable, message)
                    .with_details(json!({ "status": status }))
            }
            DeskError::Pacing(p) => pacing(p),
            DeskError::Broker(BrokerError::Pacing(p)) => pacing(p),
            DeskError::Broker(BrokerError::Ib {
                code,
                message: ib_message,
            }) => {
                let known = codes::lookup(code);
                AppError::new(
                    ErrorCode::BrokerError,
                    known.map_or("the broker reported an error", |c| c.explanation),
                )
                .with_details(json!({
                    "ib_code": code,
                    "ib_message": ib_message,
                    "binder_code": codes::binder_code(code),
                    "retryable": known.is_some_and(|c| c.retryable),
                }))
            }
            DeskError::Broker(BrokerError::NotReady(state)) => {
                AppError::new(ErrorCode::BrokerNotReady, message)
                    .with_details(json!({ "broker_state": state }))
                    .retry_after(5)
            }
            DeskError::Broker(other) => AppError::new(
                ErrorCode::BrokerError,
                "the broker did not complete the request",
            )
            .with_details(json!({ "reason": other.to_string() })),
            DeskError::Rejected { order_id, reason } => {
                AppError::new(ErrorCode::OrderRejected, message)
                    .with_details(json!({ "order_id": order_id, "reason": reason }))
            }
            DeskError::Journal(journal) => AppError::internal(journal),
        }
    }
}

fn pacing(p: PacingError) -> AppError {
    let code = match p {
        PacingError::QueueFull { .. } => ErrorCode::PacingLimit,
        PacingError::MarketDataLines { .. } => ErrorCode::MarketDataLineLimit,
        PacingError::Historical { .. } => ErrorCode::HistoricalPacing,
    };
    let retry = p.retry_after_secs();
    AppError::new(code, p.to_string()).retry_after(retry)
}

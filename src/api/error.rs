//! The one error type at the HTTP edge and its JSON envelope.
//!
//! Every error the server produces reaches the client as
//! `{error_code, message, details, timestamp, request_id}` with a stable `error_code`.
//! Causes of 5xx errors are logged once, with the request id, and never sent to the client.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use crate::telemetry;

/// Stable, documented error codes. Clients match on these, never on messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// No route matches the path.
    NotFound,
    /// The route exists but not with this method.
    MethodNotAllowed,
    /// The body is not syntactically valid JSON.
    MalformedJson,
    /// The body is JSON but does not match the expected shape.
    InvalidJson,
    /// The body is not declared as `application/json`.
    UnsupportedMediaType,
    /// The body exceeds the configured size limit.
    PayloadTooLarge,
    /// The request took longer than the configured time limit.
    RequestTimeout,
    /// A request the server could not interpret.
    BadRequest,
    /// A dependency needed for this request is not ready (database, broker).
    NotReady,
    /// No valid session or token: sign in, or send `Authorization: Bearer`.
    Unauthenticated,
    /// Wrong username or password (deliberately not saying which).
    InvalidCredentials,
    /// The caller's role does not include what this route needs.
    Forbidden,
    /// Too many failed logins locked the account; an admin must unlock it.
    AccountLocked,
    /// Login attempts for this account must wait (`Retry-After` says how long).
    LoginThrottled,
    /// A state-changing browser request came from another origin, or was not JSON.
    CrossOriginRequest,
    /// A refresh token was presented again after it had been rotated: the session is revoked.
    RefreshTokenReused,
    /// A user with this name already exists.
    UsernameTaken,
    /// An API token with this name already exists.
    TokenNameTaken,
    /// A field has a value the server does not accept; `details` names it.
    ValidationFailed,
    /// An order request failed validation; details list each field and why.
    InvalidOrder,
    /// The broker link is not ready (connecting, reconciling, disconnected).
    BrokerNotReady,
    /// New orders are refused during the gateway's daily restart window.
    MaintenanceWindow,
    /// The client order id is already used in this account.
    DuplicateClientOrderId,
    /// No order with this id.
    OrderNotFound,
    /// The order's state does not allow the operation.
    OrderNotCancelable,
    /// The order's state does not allow a modification.
    OrderNotModifiable,
    /// No such account in this gateway session.
    AccountNotFound,
    /// No open position in this symbol.
    PositionNotFound,
    /// The broker refused the order.
    OrderRejected,
    /// IB's message rate limit: the outbound queue is full.
    PacingLimit,
    /// All market data lines are in use.
    MarketDataLineLimit,
    /// IB's historical data pacing rules.
    HistoricalPacing,
    /// The broker failed or answered with an error.
    BrokerError,
    /// The `Idempotency-Key` header is not 1 to 255 printable ASCII characters.
    InvalidIdempotencyKey,
    /// The `Idempotency-Key` was used before with a different request (method, path or body).
    IdempotencyKeyReused,
    /// The first request with this `Idempotency-Key` is still running; retry shortly.
    IdempotencyKeyInFlight,
    /// An unexpected failure inside Binder; the cause is in the log under the request id.
    Internal,
}

impl ErrorCode {
    /// The code as it appears in JSON and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "NOT_FOUND",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::MalformedJson => "MALFORMED_JSON",
            Self::InvalidJson => "INVALID_JSON",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::RequestTimeout => "REQUEST_TIMEOUT",
            Self::BadRequest => "BAD_REQUEST",
            Self::NotReady => "NOT_READY",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::InvalidCredentials => "INVALID_CREDENTIALS",
            Self::Forbidden => "FORBIDDEN",
            Self::AccountLocked => "ACCOUNT_LOCKED",
            Self::LoginThrottled => "LOGIN_THROTTLED",
            Self::CrossOriginRequest => "CROSS_ORIGIN_REQUEST",
            Self::RefreshTokenReused => "REFRESH_TOKEN_REUSED",
            Self::UsernameTaken => "USERNAME_TAKEN",
            Self::TokenNameTaken => "TOKEN_NAME_TAKEN",
            Self::ValidationFailed => "VALIDATION_FAILED",
            Self::InvalidOrder => "INVALID_ORDER",
            Self::BrokerNotReady => "BROKER_NOT_READY",
            Self::MaintenanceWindow => "MAINTENANCE_WINDOW",
            Self::DuplicateClientOrderId => "DUPLICATE_CLIENT_ORDER_ID",
            Self::OrderNotFound => "ORDER_NOT_FOUND",
            Self::OrderNotCancelable => "ORDER_NOT_CANCELABLE",
            Self::OrderNotModifiable => "ORDER_NOT_MODIFIABLE",
            Self::AccountNotFound => "ACCOUNT_NOT_FOUND",
            Self::PositionNotFound => "POSITION_NOT_FOUND",
            Self::OrderRejected => "ORDER_REJECTED",
            Self::PacingLimit => "PACING_LIMIT",
            Self::MarketDataLineLimit => "MARKET_DATA_LINE_LIMIT",
            Self::HistoricalPacing => "HISTORICAL_PACING",
            Self::BrokerError => "BROKER_ERROR",
            Self::InvalidIdempotencyKey => "INVALID_IDEMPOTENCY_KEY",
            Self::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            Self::IdempotencyKeyInFlight => "IDEMPOTENCY_KEY_IN_FLIGHT",
            Self::Internal => "INTERNAL",
        }
    }

    /// The HTTP status that goes with the code.
    pub fn status(self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::MalformedJson | Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::InvalidJson | Self::ValidationFailed => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthenticated | Self::InvalidCredentials | Self::RefreshTokenReused => {
                StatusCode::UNAUTHORIZED
            }
            Self::Forbidden | Self::CrossOriginRequest => StatusCode::FORBIDDEN,
            Self::AccountLocked => StatusCode::LOCKED,
            Self::LoginThrottled => StatusCode::TOO_MANY_REQUESTS,
            Self::UsernameTaken | Self::TokenNameTaken => StatusCode::CONFLICT,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::NotReady => StatusCode::SERVICE_UNAVAILABLE,
            Self::InvalidOrder | Self::OrderRejected => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BrokerNotReady | Self::MaintenanceWindow => StatusCode::SERVICE_UNAVAILABLE,
            Self::DuplicateClientOrderId | Self::OrderNotCancelable | Self::MarketDataLineLimit => {
                StatusCode::CONFLICT
            }
            Self::OrderNotFound | Self::AccountNotFound | Self::PositionNotFound => {
                StatusCode::NOT_FOUND
            }
            Self::OrderNotModifiable => StatusCode::CONFLICT,
            Self::PacingLimit | Self::HistoricalPacing => StatusCode::TOO_MANY_REQUESTS,
            Self::BrokerError => StatusCode::BAD_GATEWAY,
            Self::InvalidIdempotencyKey => StatusCode::BAD_REQUEST,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::IdempotencyKeyInFlight => StatusCode::CONFLICT,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The code for a bare error status produced below the handlers (limits, timeouts).
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => Self::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            StatusCode::REQUEST_TIMEOUT => Self::RequestTimeout,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::UnsupportedMediaType,
            StatusCode::SERVICE_UNAVAILABLE => Self::NotReady,
            StatusCode::UNAUTHORIZED => Self::Unauthenticated,
            StatusCode::FORBIDDEN => Self::Forbidden,
            s if s.is_client_error() => Self::BadRequest,
            _ => Self::Internal,
        }
    }
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Envelope {
    /// Stable machine-readable code.
    pub error_code: ErrorCode,
    /// One sentence for a person.
    pub message: String,
    /// Structured context (field names, limits), or null.
    pub details: Value,
    /// When the error was produced (RFC 3339, UTC).
    pub timestamp: String,
    /// The request's id, also in the `x-request-id` header and the logs.
    pub request_id: Option<String>,
}

/// An error leaving a handler.
#[derive(Debug)]
pub struct AppError {
    code: ErrorCode,
    message: String,
    details: Value,
    retry_after_secs: Option<u64>,
    cause: Option<anyhow::Error>,
}

impl AppError {
    /// An error with a code and a message for the client.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: Value::Null,
            retry_after_secs: None,
            cause: None,
        }
    }

    /// Adds structured details.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// Asks the client to retry after this many seconds (`Retry-After`).
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    /// An unexpected failure: the cause is logged, the client sees a generic message.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self {
            cause: Some(cause.into()),
            ..Self::new(
                ErrorCode::Internal,
                "internal error; the request id identifies it in the server log",
            )
        }
    }

    /// The error's stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        let (code, message) = match &rejection {
            JsonRejection::JsonSyntaxError(_) => (
                ErrorCode::MalformedJson,
                "the request body is not valid JSON",
            ),
            JsonRejection::JsonDataError(_) => (
                ErrorCode::InvalidJson,
                "the request body does not match the expected fields and types",
            ),
            JsonRejection::MissingJsonContentType(_) => (
                ErrorCode::UnsupportedMediaType,
                "send the body with Content-Type: application/json",
            ),
            JsonRejection::BytesRejection(_)
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                (ErrorCode::PayloadTooLarge, "the request body is too large")
            }
            _ => (ErrorCode::BadRequest, "the request body could not be read"),
        };
        // serde's message names the field and the problem without echoing secrets' values.
        let reason = rejection.body_text();
        Self::new(code, message).with_details(serde_json::json!({ "reason": reason }))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.cause {
            tracing::error!(
                error_code = self.code.as_str(),
                cause = format!("{cause:#}"),
                "request failed"
            );
        }
        let mut response = envelope_response(self.code, self.message, self.details);
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Renders the envelope for `code`; the request id comes from the request's task.
pub fn envelope_response(code: ErrorCode, message: String, details: Value) -> Response {
    let envelope = Envelope {
        error_code: code,
        message,
        details,
        timestamp: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        request_id: telemetry::current_request_id(),
    };
    let mut response = (code.status(), Json(envelope)).into_response();
    response.extensions_mut().insert(code);
    response
}

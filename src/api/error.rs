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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
            Self::Internal => "INTERNAL",
        }
    }

    /// The HTTP status that goes with the code.
    pub fn status(self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::MalformedJson | Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::InvalidJson => StatusCode::UNPROCESSABLE_ENTITY,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::NotReady => StatusCode::SERVICE_UNAVAILABLE,
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
            s if s.is_client_error() => Self::BadRequest,
            _ => Self::Internal,
        }
    }
}

/// The JSON body of every error response.
#[derive(Debug, Serialize)]
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

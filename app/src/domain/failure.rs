//! Why a use case called from the UI failed: a stable code, a sentence, and the fields at fault.
//!
//! Server functions return it as their error type, so the browser gets the same shape as the
//! REST API's error envelope (`error_code`, `message`), plus the per-field reasons of an
//! invalid order. The UI gate's refusals (no session, wrong role) are that envelope, so they
//! decode into this type too.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use super::order::FieldError;

/// A failed call, as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// Stable SCREAMING_SNAKE code, the same as the REST API's for the same failure.
    pub error_code: String,
    /// One sentence for a person.
    pub message: String,
    /// For an invalid order: each field at fault and why.
    #[serde(default)]
    pub fields: Vec<FieldError>,
}

impl Failure {
    /// A failure without field errors.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            error_code: code.to_owned(),
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// An invalid order, with every field at fault.
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        Self {
            error_code: "INVALID_ORDER".to_owned(),
            message: "the order is invalid".to_owned(),
            fields,
        }
    }

    /// The reason given for `field`, if it is at fault.
    pub fn field(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.field == field)
            .map(|f| f.reason.as_str())
    }
}

impl FromServerFnError for Failure {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) => Self::new(
                "SERVER_UNREACHABLE",
                "the server could not be reached; check the connection",
            ),
            ServerFnErrorErr::ServerError(message) => Self::new("SERVER_ERROR", message),
            other => Self::new("SERVER_FN_ERROR", other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_edge_error_envelope_decodes_as_a_failure() {
        // What the UI gate answers when the role is missing.
        let body = serde_json::json!({
            "error_code": "FORBIDDEN",
            "message": "this needs the trader role",
            "details": null,
            "timestamp": "2026-01-02T03:04:05.000Z",
            "request_id": "abc"
        });
        let failure: Failure = serde_json::from_value(body).expect("decodes");
        assert_eq!(failure.error_code, "FORBIDDEN");
        assert_eq!(failure.to_string(), "this needs the trader role");
        assert!(failure.fields.is_empty());
    }

    #[test]
    fn field_reasons_are_found_by_name() {
        let failure = Failure::invalid(vec![FieldError {
            field: "qty".to_owned(),
            reason: "must be greater than zero".to_owned(),
        }]);
        assert_eq!(failure.field("qty"), Some("must be greater than zero"));
        assert_eq!(failure.field("symbol"), None);
    }
}

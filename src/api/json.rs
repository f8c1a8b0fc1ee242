//! The JSON body extractor: axum's, with its rejections turned into the error envelope.

use axum::extract::FromRequest;

use super::error::AppError;

/// A JSON request body; malformed, mistyped, oversized or undeclared bodies become envelopes.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

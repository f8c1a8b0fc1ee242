//! Logs and request tracking: the tracing subscriber, request ids, one log line per request.
//!
//! Every request gets an id (the client's `x-request-id` if it is sane, else a new UUID). The
//! id is echoed in the response, carried by the request's span (so it is on every log line
//! written while the request runs), and available to the error envelope through a task-local.

use std::io;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::api::error::{ErrorCode, envelope_response};
use crate::config::LogFormat;
use crate::metrics;

/// The request id header, read and echoed.
pub static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Route label for requests no route matched (bounded, unlike the raw path).
const UNMATCHED_ROUTE: &str = "fallback";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served by the current task, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Installs the global subscriber writing to stdout. Call once, at start-up.
pub fn init(filter: &str, format: LogFormat) -> anyhow::Result<()> {
    install(filter, format, io::stdout)
}

/// Installs the global subscriber with a given writer (tests capture logs with it).
pub fn install<W>(filter: &str, format: LogFormat, writer: W) -> anyhow::Result<()>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(filter)
        .map_err(|err| anyhow::anyhow!("invalid BINDER_LOG filter {filter:?}: {err}"))?;
    let registry = tracing_subscriber::registry().with(filter);
    let fmt = tracing_subscriber::fmt::layer().with_writer(writer);
    match format {
        LogFormat::Json => registry
            .with(
                fmt.json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init()?,
        LogFormat::Pretty => registry.with(fmt.compact()).try_init()?,
    }
    Ok(())
}

/// Middleware: request id, span, one log line and metrics per request; bare error statuses
/// from lower layers (limits, timeouts) become the JSON error envelope.
pub async fn track_requests(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| is_sane_request_id(id))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        req.headers_mut().insert(REQUEST_ID_HEADER.clone(), value);
    }
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE, MatchedPath::as_str)
        .to_owned();
    let is_server_fn = req.uri().path().starts_with("/api/fn/");
    let span =
        tracing::info_span!("request", request_id = %request_id, method = %method, route = %route);

    let mut response = REQUEST_ID
        .scope(request_id.clone(), async move {
            let response = next.run(req).await;
            if is_server_fn {
                response
            } else {
                envelope_bare_errors(response)
            }
        })
        .instrument(span.clone())
        .await;

    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(REQUEST_ID_HEADER.clone(), value);
    }
    let status = response.status();
    let elapsed = started.elapsed();
    let error_code = response.extensions().get::<ErrorCode>().map(|c| c.as_str());
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            error_code,
            "request"
        );
    });
    metrics::record_request(method.as_str(), &route, status.as_u16(), elapsed);
    response
}

/// Replaces an error response that has no body of its own (axum's 405, the body limit's
/// plain-text 413, the timeout's 408) with the envelope. Must run inside the request's scope.
fn envelope_bare_errors(response: Response) -> Response {
    let status = response.status();
    let has_own_body = response.extensions().get::<ErrorCode>().is_some()
        || response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || has_own_body {
        return response;
    }
    let code = ErrorCode::for_status(status);
    let message = match code {
        ErrorCode::PayloadTooLarge => "the request body is too large",
        ErrorCode::RequestTimeout => "the request took too long and was abandoned",
        ErrorCode::MethodNotAllowed => "this route does not accept this method",
        ErrorCode::NotFound => "no such route",
        ErrorCode::Internal => "internal error; the request id identifies it in the server log",
        _ => "the request could not be served",
    };
    let mut enveloped = envelope_response(code, message.to_owned(), serde_json::Value::Null);
    *enveloped.status_mut() = status;
    if let Some(allow) = response.headers().get(header::ALLOW) {
        enveloped.headers_mut().insert(header::ALLOW, allow.clone());
    }
    enveloped
}

/// Accepts client-chosen ids that are short and made of safe characters, so they cannot
/// forge log lines or bloat headers.
fn is_sane_request_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use super::is_sane_request_id;

    #[test]
    fn request_ids_are_filtered() {
        assert!(is_sane_request_id("abc-123_x.y:z"));
        assert!(!is_sane_request_id(""));
        assert!(!is_sane_request_id("a b"));
        assert!(!is_sane_request_id("line\nbreak"));
        assert!(!is_sane_request_id(&"x".repeat(129)));
    }
}

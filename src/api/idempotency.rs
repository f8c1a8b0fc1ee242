//! The `Idempotency-Key` header: a client that retries a POST, PATCH or DELETE under `/api/v1`
//! with the same key gets the first answer again instead of a second effect.
//!
//! The key is scoped to the caller (a user, or an API token), remembered for 24 h, and bound to
//! a fingerprint of the request (sha256 of method, path with query, and body): the same key
//! with a different request is refused with 422 `IDEMPOTENCY_KEY_REUSED`, and a retry while the
//! first attempt still runs gets 409 `IDEMPOTENCY_KEY_IN_FLIGHT`.
//!
//! Not covered, on purpose: `/api/v1/auth/*` (login and refresh hand out credentials, and a
//! replay would hand out a refresh token that rotation has already retired, and keep it at
//! rest) and `POST /api/v1/tokens` (its answer is an API token's secret, shown once and never
//! stored). On those routes the header is ignored.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::FutureExt;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use super::error::{AppError, ErrorCode};
use crate::auth::{Credential, Principal, cookies};
use crate::journal::idempotency::{self, Claim, StoredResponse, Windows};
use crate::state::AppState;

/// The request header carrying the key.
pub const HEADER: &str = "idempotency-key";
/// Set to `true` on a response that is a replay of a stored one.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// How long a key and its response are honoured.
pub const TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// Longest key accepted, in bytes (all printable ASCII, so also characters).
pub const MAX_KEY_LEN: usize = 255;
/// Added to the request time limit before an in-flight key counts as abandoned: the time limit
/// cuts the attempt off, and this covers the clock and the journal write of the first attempt.
const STALE_MARGIN: Duration = Duration::from_secs(2);

/// Whether the header is honoured on `method path`.
pub fn covers(method: &Method, path: &str) -> bool {
    let mutating = matches!(
        *method,
        Method::POST | Method::PATCH | Method::DELETE | Method::PUT
    );
    mutating
        && path.starts_with("/api/v1/")
        && !path.starts_with("/api/v1/auth/")
        && !(*method == Method::POST && path == "/api/v1/tokens")
}

/// Middleware on the REST routes (see the module doc).
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !covers(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    let Some(raw) = req.headers().get(HEADER) else {
        return next.run(req).await;
    };
    let key = match parse_key(raw) {
        Ok(key) => key,
        Err(err) => return err.into_response(),
    };
    // The route's own guard resolves the caller only inside the route, after this layer, so
    // the caller is verified here as well, without side effects (no cookie refresh).
    let Some(principal) = caller(&state, req.headers()).await else {
        return AppError::new(
            ErrorCode::Unauthenticated,
            "an Idempotency-Key needs a valid `Authorization: Bearer` token or a current session",
        )
        .into_response();
    };
    let scope = scope_of(&principal);

    let (parts, body) = req.into_parts();
    let method = parts.method.clone();
    let target = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    // Bytes honours the body limit the edge set, and says 413 when it is exceeded.
    let bytes = match Bytes::from_request(Request::from_parts(parts.clone(), body), &()).await {
        Ok(bytes) => bytes,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return AppError::new(ErrorCode::PayloadTooLarge, "the request body is too large")
                .into_response();
        }
        Err(_) => {
            return AppError::new(ErrorCode::BadRequest, "the request body could not be read")
                .into_response();
        }
    };
    let fingerprint = fingerprint(&method, &target, &bytes);
    let pool = state.auth.db();
    let windows = Windows {
        ttl: TTL,
        stale_after: state.settings.request_timeout() + STALE_MARGIN,
    };
    let owner = match idempotency::claim(pool, &scope, &key, &fingerprint, windows).await {
        Ok(Claim::Claimed { owner }) => owner,
        Ok(Claim::Replay(stored)) => return replay(stored),
        Ok(Claim::Mismatch) => {
            return AppError::new(
                ErrorCode::IdempotencyKeyReused,
                "this Idempotency-Key was used with a different request; use a new key",
            )
            .with_details(serde_json::json!({ "header": "Idempotency-Key" }))
            .into_response();
        }
        Ok(Claim::InFlight) => {
            return AppError::new(
                ErrorCode::IdempotencyKeyInFlight,
                "the first request with this Idempotency-Key is still running; retry shortly",
            )
            .retry_after(1)
            .into_response();
        }
        Err(err) => return AppError::internal(err).into_response(),
    };
    // Expired keys are swept here, by the requests that use keys, instead of by a timer.
    if let Err(err) = idempotency::purge_expired(pool, TTL).await {
        tracing::warn!(error = %err, "cannot purge expired idempotency keys");
    }

    let req = Request::from_parts(parts, Body::from(bytes));
    // A panicking handler must not leave the key in flight: give it up, then let the panic go
    // on to the layer that turns it into a 500.
    let response = match AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(response) => response,
        Err(panic) => {
            if let Err(err) = idempotency::release(pool, &scope, &key, owner).await {
                tracing::error!(error = %err, "cannot release an idempotency key after a panic");
            }
            std::panic::resume_unwind(panic);
        }
    };

    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(err) => {
            if let Err(err) = idempotency::release(pool, &scope, &key, owner).await {
                tracing::error!(error = %err, "cannot release an idempotency key");
            }
            return AppError::internal(anyhow::Error::new(err)).into_response();
        }
    };
    let outcome = if worth_keeping(parts.status) {
        let stored = StoredResponse {
            status: parts.status.as_u16(),
            content_type: parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body: body.to_vec(),
        };
        idempotency::complete(pool, &scope, &key, owner, &stored).await
    } else {
        idempotency::release(pool, &scope, &key, owner).await
    };
    if let Err(err) = outcome {
        // The answer is still right; only a retry of it is not protected until the in-flight
        // row counts as abandoned.
        tracing::error!(error = %err, "cannot store the idempotent response");
    }
    Response::from_parts(parts, Body::from(body))
}

/// Checks the header's value: 1 to 255 printable ASCII characters.
pub fn parse_key(raw: &HeaderValue) -> Result<String, AppError> {
    let bytes = raw.as_bytes();
    let ok =
        (1..=MAX_KEY_LEN).contains(&bytes.len()) && bytes.iter().all(|b| (0x20..0x7f).contains(b));
    if ok && let Ok(key) = raw.to_str() {
        return Ok(key.to_owned());
    }
    Err(AppError::new(
        ErrorCode::InvalidIdempotencyKey,
        "Idempotency-Key must be 1 to 255 printable ASCII characters (a UUID is a good choice)",
    )
    .with_details(serde_json::json!({ "header": "Idempotency-Key", "max_length": MAX_KEY_LEN })))
}

/// sha256 over method, target and body, with separators so that no two requests run together.
fn fingerprint(method: &Method, target: &str, body: &[u8]) -> Vec<u8> {
    let mut hash = Sha256::new();
    hash.update(method.as_str().as_bytes());
    hash.update(b"\n");
    hash.update(target.as_bytes());
    hash.update(b"\n");
    hash.update(body);
    hash.finalize().to_vec()
}

/// Outcomes that a retry would reproduce are kept; failures a retry might cure (5xx, the time
/// limit, throttling, authentication) give the key back.
fn worth_keeping(status: StatusCode) -> bool {
    status.is_success()
        || (status.is_client_error()
            && !matches!(
                status,
                StatusCode::UNAUTHORIZED
                    | StatusCode::FORBIDDEN
                    | StatusCode::REQUEST_TIMEOUT
                    | StatusCode::TOO_MANY_REQUESTS
            ))
}

/// The caller behind the request's credentials, verified read-only: a bearer token, else the
/// access cookie (an expired one is not refreshed here; the route would refresh it, too late
/// for this layer, so the client must refresh first).
async fn caller(state: &AppState, headers: &HeaderMap) -> Option<Principal> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let bearer = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))?
            .trim();
        return state.auth.authenticate(bearer).await.ok();
    }
    let name = cookies::session_name(state.auth.secure_cookies());
    let access = cookies::read(headers, name)?;
    state
        .auth
        .authenticate_jwt(access.expose_secret())
        .await
        .ok()
}

/// The key's owner: the user (across all their sessions) or the API token.
fn scope_of(principal: &Principal) -> String {
    match principal.via {
        Credential::Session { user_id, .. } => format!("user:{user_id}"),
        Credential::ApiToken { id } => format!("token:{id}"),
    }
}

fn replay(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, Body::from(stored.body)).into_response();
    let headers = response.headers_mut();
    if let Some(ct) = stored
        .content_type
        .and_then(|ct| HeaderValue::from_str(&ct).ok())
    {
        headers.insert(header::CONTENT_TYPE, ct);
    }
    headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_printable_ascii_up_to_255() {
        let ok = |s: &str| parse_key(&HeaderValue::from_str(s).expect("header")).is_ok();
        assert!(ok("a"));
        assert!(ok("order 7 / retry ~ #1"));
        assert!(ok(&"k".repeat(255)));
        assert!(!ok(&"k".repeat(256)));
        assert!(!ok(""));
        assert!(!ok("tab\there"));
        let latin = HeaderValue::from_bytes("café".as_bytes()).expect("opaque header");
        assert!(parse_key(&latin).is_err());
    }

    #[test]
    fn only_state_changes_under_the_api_are_covered() {
        assert!(covers(&Method::POST, "/api/v1/orders"));
        assert!(covers(&Method::DELETE, "/api/v1/orders/x"));
        assert!(covers(&Method::PATCH, "/api/v1/users/ann"));
        assert!(!covers(&Method::GET, "/api/v1/orders"));
        assert!(!covers(&Method::POST, "/api/v1/auth/login"));
        assert!(!covers(&Method::POST, "/api/v1/auth/refresh"));
        assert!(!covers(&Method::POST, "/api/v1/tokens"));
        assert!(covers(&Method::DELETE, "/api/v1/tokens/3"));
        assert!(!covers(&Method::POST, "/api/fn/place_order"));
    }

    #[test]
    fn the_fingerprint_separates_method_target_and_body() {
        let a = fingerprint(&Method::POST, "/api/v1/orders", b"{}");
        assert_eq!(a, fingerprint(&Method::POST, "/api/v1/orders", b"{}"));
        assert_ne!(a, fingerprint(&Method::POST, "/api/v1/orders", b"{ }"));
        assert_ne!(a, fingerprint(&Method::DELETE, "/api/v1/orders", b"{}"));
        assert_ne!(a, fingerprint(&Method::POST, "/api/v1/orders?x=1", b"{}"));
    }

    #[test]
    fn transient_failures_give_the_key_back() {
        assert!(worth_keeping(StatusCode::CREATED));
        assert!(worth_keeping(StatusCode::ACCEPTED));
        assert!(worth_keeping(StatusCode::UNPROCESSABLE_ENTITY));
        assert!(worth_keeping(StatusCode::CONFLICT));
        assert!(!worth_keeping(StatusCode::INTERNAL_SERVER_ERROR));
        assert!(!worth_keeping(StatusCode::SERVICE_UNAVAILABLE));
        assert!(!worth_keeping(StatusCode::REQUEST_TIMEOUT));
        assert!(!worth_keeping(StatusCode::UNAUTHORIZED));
    }
}

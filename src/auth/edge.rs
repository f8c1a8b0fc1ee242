//! Edge guards for the browser session: CSRF (same-origin, JSON-only state changes), the UI
//! gate (pages need a session, server functions their declared role), and security headers.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::extract::{append_cookies, check, resolve};
use super::{Access, Role, cookies};
use crate::api::error::{AppError, ErrorCode};
use crate::metrics::{AuthFailure, record_auth_failure};
use crate::state::AppState;

/// Where server functions live.
pub const SERVER_FN_PREFIX: &str = "/api/fn/";
/// The sign-in page, the one page open without a session.
pub const LOGIN_PATH: &str = "/login";

/// Middleware: a state-changing request that a browser could send with the session cookie
/// (it carries the cookie and no `Authorization`, or it calls a server function) must come from
/// this origin and be JSON. JSON cannot be sent cross-origin without a CORS preflight, which
/// Binder never grants, and the origin check stops the rest.
pub async fn csrf_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let safe = matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    if safe {
        return next.run(req).await;
    }
    let headers = req.headers();
    let server_fn = req.uri().path().starts_with(SERVER_FN_PREFIX);
    let cookie_session = !headers.contains_key(header::AUTHORIZATION)
        && cookies::carries_session(headers, state.auth.secure_cookies());
    if !(server_fn || cookie_session) {
        return next.run(req).await;
    }
    if let Err(reason) = same_origin(headers, state.settings.public_url.as_deref()) {
        record_auth_failure(AuthFailure::Csrf);
        return AppError::new(ErrorCode::CrossOriginRequest, reason).into_response();
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/json"));
    if !json {
        record_auth_failure(AuthFailure::Csrf);
        return AppError::new(
            ErrorCode::CrossOriginRequest,
            "state-changing browser requests must send Content-Type: application/json",
        )
        .into_response();
    }
    next.run(req).await
}

/// Checks `Sec-Fetch-Site`, else `Origin`, against this server's origin.
fn same_origin(headers: &HeaderMap, public_url: Option<&str>) -> Result<(), &'static str> {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return if site == "same-origin" {
            Ok(())
        } else {
            Err("cross-site requests cannot change state with the session cookie")
        };
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Err("state-changing browser requests must carry an Origin header");
    };
    let expected_ok = match public_url {
        Some(url) => origin.eq_ignore_ascii_case(origin_of(url)),
        None => {
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
            let origin_host = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"));
            host.zip(origin_host)
                .is_some_and(|(h, o)| h.eq_ignore_ascii_case(o))
        }
    };
    if expected_ok {
        Ok(())
    } else {
        Err("the request's Origin is not this server")
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    &url[..end]
}

/// Middleware of the UI (pages and server functions): pages other than the login page need a
/// session and redirect to it otherwise; a server function needs the role declared for it in
/// `app::access::SERVER_FN_ACCESS`, and an undeclared one is refused.
pub async fn ui_gate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let server_fn = path.starts_with(SERVER_FN_PREFIX);
    let access = if server_fn {
        match app::access::server_fn_access(&path) {
            Some(access) => access,
            None => {
                tracing::error!(path, "server function without a declared role refused");
                return AppError::new(
                    ErrorCode::Forbidden,
                    "this server function has no declared role",
                )
                .into_response();
            }
        }
    } else if path == LOGIN_PATH {
        Access::Public
    } else {
        Access::Role(Role::Viewer)
    };
    let mut resolution = resolve(&state.auth, req.headers()).await;
    let mut response = match check(access, &mut resolution) {
        Ok(()) if !server_fn && path == LOGIN_PATH && resolution.principal.is_some() => {
            Redirect::to("/").into_response()
        }
        Ok(()) => {
            if let Some(p) = resolution.principal.clone() {
                req.extensions_mut().insert(p.session_user());
                req.extensions_mut().insert(p);
            }
            next.run(req).await
        }
        Err(err) if server_fn => err.into_response(),
        Err(err) if err.code() == ErrorCode::Unauthenticated => {
            Redirect::to(LOGIN_PATH).into_response()
        }
        Err(err) => err.into_response(),
    };
    append_cookies(&mut response, resolution.set_cookies);
    response
}

/// Middleware (state: whether to send HSTS, i.e. Binder is reached over HTTPS): security
/// headers on every response. HTML pages get their CSP (with the hydration script's nonce)
/// from the app shell; everything else gets a deny-all policy. It is the outermost layer, so
/// the envelopes request tracking makes of bare error statuses get the headers too.
pub async fn security_headers(State(hsts): State<bool>, req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let mut response = next.run(req).await;
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    let headers = response.headers_mut();
    let mut set = |name: header::HeaderName, value: &str| {
        if !headers.contains_key(&name)
            && let Ok(value) = HeaderValue::from_str(value)
        {
            headers.insert(name, value);
        }
    };
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "no-referrer");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    let policy = if html {
        app::csp::policy(None)
    } else {
        app::csp::API_POLICY.to_owned()
    };
    set(header::CONTENT_SECURITY_POLICY, &policy);
    if api {
        set(header::CACHE_CONTROL, "no-store");
    }
    if hsts {
        set(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn origins_are_compared_with_the_host_or_the_public_url() {
        let h = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000"),
        ]);
        assert!(same_origin(&h, None).is_ok());
        let h = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://evil.example"),
        ]);
        assert!(same_origin(&h, None).is_err());
        let h = headers(&[("host", "127.0.0.1:3000")]);
        assert!(same_origin(&h, None).is_err());
        let h = headers(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://127.0.0.1:3000"),
        ]);
        assert!(same_origin(&h, None).is_err());
        let h = headers(&[("origin", "https://binder.example.com")]);
        assert!(same_origin(&h, Some("https://binder.example.com/")).is_ok());
        assert!(same_origin(&h, Some("https://other.example.com")).is_err());
        assert_eq!(origin_of("https://a.b:8443/x/y"), "https://a.b:8443");
    }
}

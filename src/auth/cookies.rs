//! The browser session's cookies: names, attributes and parsing.
//!
//! Two cookies, both HttpOnly and SameSite=Strict: the access JWT (short-lived) and the
//! refresh token (longer; rotated transparently when the access cookie has expired). Behind
//! HTTPS they are `Secure` and carry the `__Host-` prefix, which pins them to this host and
//! path `/` so a sibling subdomain cannot plant or overwrite them.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, header};
use secrecy::SecretString;

/// The access cookie's name.
pub fn session_name(secure: bool) -> &'static str {
    if secure {
        "__Host-binder_session"
    } else {
        "binder_session"
    }
}

/// The refresh cookie's name.
pub fn refresh_name(secure: bool) -> &'static str {
    if secure {
        "__Host-binder_refresh"
    } else {
        "binder_refresh"
    }
}

/// A `Set-Cookie` value. Cookie values are base64url or JWT characters, which need no quoting.
fn set_cookie(name: &str, value: &str, max_age: Duration, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{secure}",
        max_age.as_secs()
    ))
    .ok()
}

/// The two cookies of a new or refreshed session.
pub fn session_cookies(
    access: &str,
    access_ttl: Duration,
    refresh: &str,
    refresh_ttl: Duration,
    secure: bool,
) -> Vec<HeaderValue> {
    [
        set_cookie(session_name(secure), access, access_ttl, secure),
        set_cookie(refresh_name(secure), refresh, refresh_ttl, secure),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Cookies that delete the session.
pub fn clearing_cookies(secure: bool) -> Vec<HeaderValue> {
    [
        set_cookie(session_name(secure), "", Duration::ZERO, secure),
        set_cookie(refresh_name(secure), "", Duration::ZERO, secure),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The value of cookie `name` in the request, if present and non-empty.
pub fn read(headers: &HeaderMap, name: &str) -> Option<SecretString> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| SecretString::from(v.to_owned()))
}

/// Whether the request carries either session cookie.
pub fn carries_session(headers: &HeaderMap, secure: bool) -> bool {
    read(headers, session_name(secure)).is_some() || read(headers, refresh_name(secure)).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn attributes_follow_https() {
        let plain = session_cookies(
            "a",
            Duration::from_secs(60),
            "r",
            Duration::from_secs(600),
            false,
        );
        let shown = plain[0].to_str().expect("ascii");
        assert_eq!(
            shown,
            "binder_session=a; Path=/; Max-Age=60; HttpOnly; SameSite=Strict"
        );
        let secure = session_cookies(
            "a",
            Duration::from_secs(60),
            "r",
            Duration::from_secs(600),
            true,
        );
        let shown = secure[1].to_str().expect("ascii");
        assert!(
            shown.starts_with("__Host-binder_refresh=r; Path=/;"),
            "{shown}"
        );
        assert!(shown.ends_with("; Secure"), "{shown}");
    }

    #[test]
    fn reads_one_cookie_among_many() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("x=1; binder_session=tok.en; y=2"),
        );
        let v = read(&headers, "binder_session").expect("present");
        assert_eq!(v.expose_secret(), "tok.en");
        assert!(read(&headers, "binder_refresh").is_none());
    }
}

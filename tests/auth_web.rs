//! The browser session against the real app: sign-in through the server function sets HttpOnly
//! SameSite=Strict cookies, pages need a session, cross-origin and non-JSON cookie requests are
//! refused, and every response carries the security headers.

mod auth_common;
mod support;

use auth_common::{ADMIN_PASSWORD, expect_error, start};
use reqwest::header::{HeaderMap, SET_COOKIE};
use serde_json::json;
use support::TestApp;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// `name=value` pairs of the response's Set-Cookie headers, joined for a Cookie header.
fn cookie_header(headers: &HeaderMap) -> String {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .collect::<Vec<_>>()
        .join("; ")
}

async fn ui_login(app: &TestApp, http: &reqwest::Client) -> (reqwest::StatusCode, HeaderMap) {
    let origin = format!("http://{}", app.addr);
    let res = http
        .post(app.url("/api/fn/login"))
        .header("origin", origin)
        .json(&json!({ "username": "admin", "password": ADMIN_PASSWORD }))
        .send()
        .await
        .expect("request");
    (res.status(), res.headers().clone())
}

#[tokio::test]
async fn the_ui_signs_in_with_a_strict_http_only_cookie_and_pages_need_it() {
    let app = start(&[]).await;
    let http = no_redirects();

    // Without a session, pages redirect to the login page, and server functions refuse.
    for page in ["/", "/status", "/orders", "/admin"] {
        let res = http.get(app.url(page)).send().await.expect("request");
        assert_eq!(res.status(), 303, "{page}");
        assert_eq!(res.headers()["location"], "/login", "{page}");
    }
    let login_page = http.get(app.url("/login")).send().await.expect("request");
    assert_eq!(login_page.status(), 200);
    let origin = format!("http://{}", app.addr);
    let res = http
        .post(app.url("/api/fn/health"))
        .header("origin", &origin)
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    expect_error(res, 401, "UNAUTHENTICATED").await;

    // Sign in through the server function.
    let (status, headers) = ui_login(&app, &http).await;
    assert_eq!(status, 200);
    let set: Vec<&str> = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(set.len(), 2, "{set:?}");
    for cookie in &set {
        assert!(cookie.contains("; HttpOnly"), "{cookie}");
        assert!(cookie.contains("; SameSite=Strict"), "{cookie}");
        assert!(cookie.contains("; Path=/"), "{cookie}");
        assert!(
            !cookie.contains("Secure"),
            "plain HTTP: no Secure flag: {cookie}"
        );
    }
    let cookies = cookie_header(&headers);

    let res = http
        .get(app.url("/status"))
        .header("cookie", &cookies)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    // The page's CSP allows exactly the hydration script's nonce.
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let html = res.text().await.expect("html");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the CSP");
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        html.contains("data-testid=\"current-user\""),
        "the page shows who is signed in"
    );

    // The cookie works for a server function and a REST route.
    let res = http
        .post(app.url("/api/fn/whoami"))
        .header("cookie", &cookies)
        .header("origin", &origin)
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let me: serde_json::Value = res.json().await.expect("json");
    assert_eq!(me["username"], "admin");
    let res = http
        .get(app.url("/api/v1/auth/me"))
        .header("cookie", &cookies)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);

    // Signed in, the login page sends you home.
    let res = http
        .get(app.url("/login"))
        .header("cookie", &cookies)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 303);

    // Sign out clears the cookies and ends the session server-side.
    let res = http
        .post(app.url("/api/fn/logout"))
        .header("cookie", &cookies)
        .header("origin", &origin)
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let cleared: Vec<String> = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    assert!(
        cleared.iter().all(|c| c.contains("Max-Age=0")),
        "{cleared:?}"
    );
    let res = http
        .get(app.url("/api/v1/auth/me"))
        .header("cookie", &cookies)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 401, "the old cookie is dead after logout");
    app.stop().await;
}

#[tokio::test]
async fn cross_origin_or_non_json_cookie_requests_are_refused() {
    let app = start(&[]).await;
    let http = no_redirects();
    let (_, headers) = ui_login(&app, &http).await;
    let cookies = cookie_header(&headers);
    let origin = format!("http://{}", app.addr);
    let target = app.url("/api/v1/auth/logout");

    let cross = http
        .post(&target)
        .header("cookie", &cookies)
        .header("origin", "http://evil.example")
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    expect_error(cross, 403, "CROSS_ORIGIN_REQUEST").await;
    let fetch_site = http
        .post(&target)
        .header("cookie", &cookies)
        .header("sec-fetch-site", "cross-site")
        .header("origin", &origin)
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    expect_error(fetch_site, 403, "CROSS_ORIGIN_REQUEST").await;
    let no_origin = http
        .post(&target)
        .header("cookie", &cookies)
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    expect_error(no_origin, 403, "CROSS_ORIGIN_REQUEST").await;
    let form = http
        .post(&target)
        .header("cookie", &cookies)
        .header("origin", &origin)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("a=b")
        .send()
        .await
        .expect("request");
    expect_error(form, 403, "CROSS_ORIGIN_REQUEST").await;
    // A cross-origin server function call is refused even without a cookie (login CSRF).
    let res = http
        .post(app.url("/api/fn/login"))
        .header("origin", "http://evil.example")
        .json(&json!({ "username": "admin", "password": ADMIN_PASSWORD }))
        .send()
        .await
        .expect("request");
    expect_error(res, 403, "CROSS_ORIGIN_REQUEST").await;

    // The session survived all of that; a same-origin JSON request goes through.
    let ok = http
        .post(&target)
        .header("cookie", &cookies)
        .header("origin", &origin)
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    assert_eq!(ok.status(), 204);
    app.stop().await;
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = start(&[]).await;
    for path in ["/livez", "/api/v1/auth/me", "/no/such/route", "/login"] {
        let res = app.get(path).await;
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        let csp = h["content-security-policy"].to_str().expect("ascii");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(
            h.get("strict-transport-security").is_none(),
            "plain HTTP: {path}"
        );
    }
    let api = app.get("/api/v1/auth/me").await;
    assert_eq!(api.headers()["cache-control"], "no-store");
    // Bare error statuses turned into envelopes by the edge get them too.
    let res = app
        .http
        .delete(app.url("/livez"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    app.stop().await;
}

#[tokio::test]
async fn behind_https_cookies_are_secure_and_host_prefixed() {
    let app = start(&["--public-url", "https://binder.example.com"]).await;
    let http = no_redirects();
    let res = http
        .post(app.url("/api/fn/login"))
        .header("origin", "https://binder.example.com")
        .json(&json!({ "username": "admin", "password": ADMIN_PASSWORD }))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let set: Vec<String> = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    assert_eq!(set.len(), 2);
    for cookie in &set {
        assert!(cookie.starts_with("__Host-binder_"), "{cookie}");
        assert!(cookie.ends_with("; Secure"), "{cookie}");
    }
    assert!(res.headers().get("strict-transport-security").is_some());
    // The origin must now be the public URL, not whatever Host says.
    let res = http
        .post(app.url("/api/fn/login"))
        .header("origin", format!("http://{}", app.addr))
        .json(&json!({ "username": "admin", "password": ADMIN_PASSWORD }))
        .send()
        .await
        .expect("request");
    expect_error(res, 403, "CROSS_ORIGIN_REQUEST").await;
    app.stop().await;
}

#[tokio::test]
async fn an_expired_access_cookie_is_refreshed_transparently_once() {
    let app = start(&[]).await;
    let http = no_redirects();
    let (_, headers) = ui_login(&app, &http).await;
    let refresh_only = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|kv| kv.starts_with("binder_refresh="))
        .expect("refresh cookie")
        .to_owned();
    // The access cookie is gone (expired in the browser) or garbage: the refresh cookie
    // renews the session, and the response carries the new pair.
    let stale = format!("binder_session=garbage.token.here; {refresh_only}");
    let res = http
        .get(app.url("/api/v1/auth/me"))
        .header("cookie", &stale)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let renewed = cookie_header(res.headers());
    assert!(renewed.contains("binder_session=") && renewed.contains("binder_refresh="));
    assert!(
        !renewed.contains(&refresh_only),
        "the refresh cookie rotated"
    );
    // A second request that still carries the old refresh cookie (sent concurrently by the
    // browser) is refused, but does not end the session...
    let res = http
        .get(app.url("/api/v1/auth/me"))
        .header("cookie", &refresh_only)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 401);
    let res = http
        .get(app.url("/api/v1/auth/me"))
        .header("cookie", &renewed)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200, "the renewed session lives on");
    // ...while the same spent token presented to the API is reuse, and ends it.
    let token = refresh_only.trim_start_matches("binder_refresh=");
    let res = http
        .post(app.url("/api/v1/auth/refresh"))
        .json(&json!({ "refresh_token": token }))
        .send()
        .await
        .expect("request");
    expect_error(res, 401, "REFRESH_TOKEN_REUSED").await;
    let res = http
        .get(app.url("/api/v1/auth/me"))
        .header("cookie", &renewed)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 401);
    app.stop().await;
}

//! Helpers for the auth tests: an app with a first admin, sign-in, users of each role.
#![allow(
    dead_code,
    reason = "each auth test binary uses a different part of this module"
)]

use reqwest::Response;
use serde_json::{Value, json};

use crate::support::TestApp;

/// The first admin's password in these tests.
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
/// A JWT secret the tests know, to forge tokens with.
pub const JWT_SECRET: &str = "test-signing-secret-0123456789-abcdefghij";

/// Starts the app with `admin` created from BINDER_ADMIN_PASSWORD and a known JWT secret.
pub async fn start(extra: &[&str]) -> TestApp {
    let mut flags = vec![
        "--admin-password",
        ADMIN_PASSWORD,
        "--jwt-secret",
        JWT_SECRET,
    ];
    flags.extend_from_slice(extra);
    TestApp::start(&flags).await
}

/// POSTs JSON.
pub async fn post(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> Response {
    let mut req = app.http.post(app.url(path)).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("request")
}

/// GETs with an optional bearer token.
pub async fn get(app: &TestApp, path: &str, token: Option<&str>) -> Response {
    let mut req = app.http.get(app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("request")
}

/// Signs in and returns the whole answer (asserting 200).
pub async fn login(app: &TestApp, username: &str, password: &str) -> Value {
    let res = post(
        app,
        "/api/v1/auth/login",
        None,
        json!({ "username": username, "password": password }),
    )
    .await;
    let status = res.status();
    let body: Value = res.json().await.expect("json");
    assert_eq!(status, 200, "login {username}: {body}");
    body
}

/// The admin's access token.
pub async fn admin_token(app: &TestApp) -> String {
    login(app, "admin", ADMIN_PASSWORD).await["access_token"]
        .as_str()
        .expect("access token")
        .to_owned()
}

/// Creates a user with `role` (password `<name>-password`) and returns its access token.
pub async fn user_token(app: &TestApp, admin: &str, name: &str, role: &str) -> String {
    let password = format!("{name}-password");
    let res = post(
        app,
        "/api/v1/users",
        Some(admin),
        json!({ "username": name, "password": password, "role": role }),
    )
    .await;
    assert_eq!(
        res.status(),
        201,
        "{}",
        res.text().await.unwrap_or_default()
    );
    login(app, name, &password).await["access_token"]
        .as_str()
        .expect("access token")
        .to_owned()
}

/// Asserts an error envelope with `status` and `code`; returns the body.
pub async fn expect_error(res: Response, status: u16, code: &str) -> Value {
    let got = res.status().as_u16();
    let body: Value = res.json().await.expect("json envelope");
    assert_eq!(got, status, "{body}");
    assert_eq!(body["error_code"], code, "{body}");
    body
}

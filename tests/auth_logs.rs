//! Secrets never reach the log: a sign-in, refresh, token, order and failure flow is run with the log
//! captured, and no password, token or signing secret appears in it. One test per file: the
//! log subscriber is process-wide.

mod auth_common;
mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use auth_common::{ADMIN_PASSWORD, JWT_SECRET, get, login, post, start};
use binder::config::LogFormat;
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("capture lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn a_login_flow_logs_no_password_token_or_secret() {
    let capture = Capture::default();
    // Debug level, so that even detailed lines are checked.
    binder::telemetry::install("debug", LogFormat::Json, capture.clone()).expect("subscriber");
    let app = start(&[]).await;

    let wrong = "Wrong-Password-Should-Not-Appear";
    let res = post(
        &app,
        "/api/v1/auth/login",
        None,
        json!({ "username": "admin", "password": wrong }),
    )
    .await;
    assert_eq!(res.status(), 401);
    let issued = login(&app, "admin", ADMIN_PASSWORD).await;
    let access = issued["access_token"].as_str().expect("access").to_owned();
    let refresh = issued["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let res = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({ "refresh_token": refresh }),
    )
    .await;
    let rotated: Value = res.json().await.expect("json");
    let access2 = rotated["access_token"].as_str().expect("access").to_owned();
    // Reuse, so the warning path is logged too.
    post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({ "refresh_token": refresh }),
    )
    .await;

    let admin = login(&app, "admin", ADMIN_PASSWORD).await["access_token"]
        .as_str()
        .expect("access")
        .to_owned();
    let created: Value = post(
        &app,
        "/api/v1/tokens",
        Some(&admin),
        json!({ "name": "logbot", "role": "trader" }),
    )
    .await
    .json()
    .await
    .expect("json");
    let api_token = created["token"].as_str().expect("token").to_owned();
    assert_eq!(
        get(&app, "/api/v1/auth/me", Some(&api_token))
            .await
            .status(),
        200
    );
    // An order placed with the bot's token: its whole path is logged too.
    app.wait_for_broker(app::domain::BrokerState::Ready).await;
    let order = post(
        &app,
        "/api/v1/orders",
        Some(&api_token),
        json!({ "symbol": "AAPL", "side": "buy", "qty": "1", "type": "market" }),
    )
    .await;
    let status = order.status().as_u16();
    let body = order.text().await.unwrap_or_default();
    assert!(
        (200..300).contains(&status),
        "the trader token places an order: {status} {body}"
    );
    let new_user_password = "Fresh-User-Password-42";
    post(
        &app,
        "/api/v1/users",
        Some(&admin),
        json!({ "username": "gina", "password": new_user_password, "role": "viewer" }),
    )
    .await;
    // The UI sign-in path.
    let res = app
        .http
        .post(app.url("/api/fn/login"))
        .header("origin", format!("http://{}", app.addr))
        .json(&json!({ "username": "gina", "password": new_user_password }))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|kv| kv.split_once('=').map(|(_, v)| v.to_owned()))
        .next()
        .expect("a session cookie");
    app.stop().await;

    let logs = String::from_utf8(capture.0.lock().expect("lock").clone()).expect("utf-8");
    assert!(logs.contains("login"), "the flow was logged at all");
    for secret in [
        ADMIN_PASSWORD,
        wrong,
        new_user_password,
        JWT_SECRET,
        &access,
        &access2,
        &refresh,
        &admin,
        &api_token,
        &cookie,
    ] {
        assert!(!logs.contains(secret), "a secret reached the log: {secret}");
    }
    // Partial leaks too: the random part of a token.
    let tail = &api_token[api_token.len() - 20..];
    assert!(!logs.contains(tail));
}

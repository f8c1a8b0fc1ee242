//! Health, readiness and metrics against the real app: journal, cache, simulator, broker link.

mod support;

use std::time::Duration;

use app::domain::BrokerState;
use serde_json::Value;
use sqlx::postgres::PgPoolOptions;
use support::TestApp;

/// The first admin's password: `/health` shows its details only to a signed-in caller.
const ADMIN_PASSWORD: &str = "health-admin-password";

/// Starts the app with a first admin.
async fn start(flags: &[&str]) -> TestApp {
    let mut all = vec!["--admin-password", ADMIN_PASSWORD];
    all.extend_from_slice(flags);
    TestApp::start(&all).await
}

/// `GET /health` as the admin.
async fn health_as_admin(app: &TestApp) -> reqwest::Response {
    let login: Value = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({ "username": "admin", "password": ADMIN_PASSWORD }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["access_token"].as_str().expect("access token");
    app.http
        .get(app.url("/health"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn health_is_ok_when_everything_answers() {
    let app = start(&[]).await;
    app.wait_for_broker(BrokerState::Ready).await;
    let res = health_as_admin(&app).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(body["db_connected"], true);
    assert_eq!(body["redis_connected"], true);
    assert_eq!(body["ib_gateway_connected"], true);
    assert_eq!(body["broker_state"], "ready");
    assert_eq!(body["trading_mode"], "paper");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(body["uptime_seconds"].is_u64());

    assert_eq!(app.get("/livez").await.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn health_is_degraded_when_redis_is_unreachable() {
    let app = start(&["--redis-url", "redis://127.0.0.1:1"]).await;
    app.wait_for_broker(BrokerState::Ready).await;
    let body: Value = health_as_admin(&app).await.json().await.expect("json");
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["redis_connected"], false);
    assert_eq!(body["db_connected"], true);
    // Trading does not need the cache: still ready.
    assert_eq!(app.get("/readyz").await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn health_is_down_and_not_ready_when_the_database_url_is_wrong() {
    let pool = PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy("postgres://postgres@127.0.0.1:1/nowhere")
        .expect("lazy pool");
    let app = TestApp::with_journal(pool, &[]).await;
    // The link connects but cannot reconcile without the journal, so it never becomes ready.
    let mut states = app.running_state.desk.watch_broker();
    tokio::time::timeout(
        Duration::from_secs(15),
        states.wait_for(|s| *s == BrokerState::Reconciling),
    )
    .await
    .expect("the link reaches the gateway")
    .expect("alive");
    // Nobody can sign in without the journal, so /health shows only its status; /readyz
    // below says which dependency is missing.
    let res = app.get("/health").await;
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["status"], "down", "{body}");

    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "5");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error_code"], "NOT_READY");
    assert_eq!(body["details"]["db_connected"], false);
    assert_ne!(
        body["details"]["broker_state"], "ready",
        "no trading without the journal"
    );
    assert_eq!(
        app.get("/livez").await.status(),
        200,
        "alive even without a database"
    );
    app.stop().await;
}

#[tokio::test]
async fn not_ready_until_the_broker_is() {
    // A gateway address where nothing listens: the link keeps retrying.
    let app = start(&[
        "--broker",
        "gateway",
        "--ib-gateway-host",
        "127.0.0.1",
        "--ib-gateway-port",
        "1",
    ])
    .await;
    let body: Value = health_as_admin(&app).await.json().await.expect("json");
    assert_eq!(body["ib_gateway_connected"], false, "{body}");
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["broker"], "gateway");
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 503);
    app.stop().await;
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_expose_process_figures() {
    let app = TestApp::start(&[]).await;
    app.wait_for_broker(BrokerState::Ready).await;
    for _ in 0..3 {
        assert_eq!(app.get("/livez").await.status(), 200);
    }
    assert_eq!(app.get("/missing").await.status(), 404);
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain")
    );
    let text = res.text().await.expect("body");

    let count = |needle: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with("api_requests_total{") && l.contains(needle))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no api_requests_total line with {needle} in\n{text}"))
    };
    assert!(count(r#"route="/livez""#) >= 3.0);
    let line = text
        .lines()
        .find(|l| l.starts_with("api_requests_total{") && l.contains(r#"route="/livez""#))
        .expect("livez counter");
    assert!(
        line.contains(r#"method="GET""#) && line.contains(r#"status="200""#),
        "{line}"
    );
    assert!(count(r#"status="404""#) >= 1.0);
    assert!(
        text.contains(r#"api_request_duration_seconds_bucket{route="/livez",le="0.005"}"#),
        "{text}"
    );
    assert!(text.contains(r#"api_request_duration_seconds_count{route="/livez"}"#));
    for name in [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_max_fds",
        "process_virtual_memory_bytes",
        "ib_connection_status 1",
        r#"binder_broker_state{state="ready"} 1"#,
    ] {
        assert!(text.contains(name), "missing {name} in\n{text}");
    }
    // Request paths never become labels: the unmatched request is counted under one route.
    assert!(!text.contains("/missing"));
    app.stop().await;
}

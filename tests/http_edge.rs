//! The error envelope for every kind of failure the edge produces, over real HTTP.

mod support;

use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use binder::api::error::AppError;
use binder::api::json::ApiJson;
use serde_json::Value;

#[derive(serde::Deserialize, serde::Serialize)]
struct Ticket {
    symbol: String,
    qty: u32,
}

/// A router with the production edge layers and handlers that fail in each way.
fn failing_routes() -> Router {
    let settings = support::settings(&["--max-body-bytes", "256", "--request-timeout-secs", "1"]);
    let routes = Router::new()
        .route(
            "/echo",
            post(|ApiJson(t): ApiJson<Ticket>| async move { axum::Json(t) }),
        )
        .route(
            "/fail",
            get(|| async {
                Err::<(), _>(AppError::internal(anyhow::anyhow!(
                    "disk full at /secret/path"
                )))
            }),
        )
        .route(
            "/panic",
            get(|| async {
                if true {
                    panic!("invariant broken: internal detail");
                }
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        );
    binder::api::edge(routes, &settings)
}

async fn check_envelope(res: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "status for {code}");
    let header_id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("x-request-id echoed");
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/json"),
        "{code} is JSON"
    );
    let body: Value = res.json().await.expect("envelope is JSON");
    assert_eq!(body["error_code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(body.get("details").is_some(), "{body}");
    let ts = body["timestamp"].as_str().expect("timestamp");
    chrono::DateTime::parse_from_rfc3339(ts).expect("RFC 3339 timestamp");
    assert_eq!(body["request_id"], header_id.as_str(), "{body}");
    body
}

#[tokio::test]
async fn json_bodies_are_checked_and_rejections_become_envelopes() {
    let (addr, stop) = support::serve(failing_routes()).await;
    let http = reqwest::Client::new();
    let url = format!("http://{addr}/echo");
    let send = |body: &'static str, content_type: &'static str| {
        http.post(&url)
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    let ok = send(r#"{"symbol":"AAPL","qty":5}"#, "application/json")
        .await
        .expect("request");
    assert_eq!(ok.status(), 200);

    let body = check_envelope(
        send("{not json", "application/json")
            .await
            .expect("request"),
        400,
        "MALFORMED_JSON",
    )
    .await;
    assert!(body["details"]["reason"].as_str().is_some(), "{body}");

    let body = check_envelope(
        send(r#"{"symbol":"AAPL","qty":"five"}"#, "application/json")
            .await
            .expect("request"),
        422,
        "INVALID_JSON",
    )
    .await;
    assert!(
        body["details"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("qty")),
        "names the field: {body}"
    );

    check_envelope(
        send(r#"{"symbol":"AAPL"}"#, "application/json")
            .await
            .expect("request"),
        422,
        "INVALID_JSON",
    )
    .await;
    check_envelope(
        send(r#"{"symbol":"AAPL","qty":5}"#, "text/plain")
            .await
            .expect("request"),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;

    let big = format!(r#"{{"symbol":"{}","qty":1}}"#, "A".repeat(1024));
    let res = http
        .post(&url)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .expect("request");
    check_envelope(res, 413, "PAYLOAD_TOO_LARGE").await;
    stop.cancel();
}

#[tokio::test]
async fn internal_errors_and_panics_hide_their_internals() {
    let (addr, stop) = support::serve(failing_routes()).await;
    for path in ["/fail", "/panic"] {
        let res = reqwest::get(format!("http://{addr}{path}"))
            .await
            .expect("request");
        let body = check_envelope(res, 500, "INTERNAL").await;
        let text = body.to_string();
        assert!(
            !text.contains("secret") && !text.contains("internal detail"),
            "{text}"
        );
    }
    // The server survives a panic.
    let res = reqwest::get(format!("http://{addr}/fail"))
        .await
        .expect("request after panic");
    assert_eq!(res.status(), 500);
    stop.cancel();
}

#[tokio::test]
async fn slow_requests_time_out_with_an_envelope() {
    let (addr, stop) = support::serve(failing_routes()).await;
    let res = reqwest::get(format!("http://{addr}/slow"))
        .await
        .expect("request");
    check_envelope(res, 408, "REQUEST_TIMEOUT").await;
    stop.cancel();
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_on_the_real_app() {
    let app = support::TestApp::start(&[]).await;
    check_envelope(app.get("/no/such/route").await, 404, "NOT_FOUND").await;
    check_envelope(app.get("/api/v1/nothing-here").await, 404, "NOT_FOUND").await;
    let res = app
        .http
        .delete(app.url("/health"))
        .send()
        .await
        .expect("request");
    assert_eq!(
        res.headers()
            .get("allow")
            .map(|v| v.to_str().expect("ascii")),
        Some("GET,HEAD")
    );
    check_envelope(res, 405, "METHOD_NOT_ALLOWED").await;
    let res = app
        .http
        .get(app.url("/livez"))
        .header("x-request-id", "client-chosen-id")
        .send()
        .await
        .expect("request");
    assert_eq!(res.headers()["x-request-id"], "client-chosen-id");
    app.stop().await;
}

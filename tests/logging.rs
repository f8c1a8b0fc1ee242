//! Logs: request ids reach the response and every log line of the request; errors are logged
//! once with their cause. One test per file: the log subscriber is process-wide.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::get;
use binder::api::error::AppError;
use binder::config::LogFormat;
use serde_json::Value;

/// A writer that appends to a shared buffer, so the test can read what was logged.
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

impl Capture {
    fn lines(&self) -> Vec<Value> {
        let bytes = self.0.lock().expect("capture lock").clone();
        String::from_utf8(bytes)
            .expect("utf-8 logs")
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }
}

#[tokio::test]
async fn request_ids_are_echoed_and_on_every_log_line_and_errors_are_logged_once() {
    let capture = Capture::default();
    binder::telemetry::install("info", LogFormat::Json, capture.clone()).expect("subscriber");

    let settings = support::settings(&[]);
    let routes = Router::new()
        .route(
            "/work",
            get(|| async {
                tracing::info!(step = "inside", "handler working");
                "done"
            }),
        )
        .route(
            "/fail",
            get(|| async {
                Err::<(), _>(AppError::internal(anyhow::anyhow!(
                    "ledger locked by nightly job"
                )))
            }),
        );
    let (addr, stop) = support::serve(binder::api::edge(routes, &settings)).await;
    let http = reqwest::Client::new();

    let res = http
        .get(format!("http://{addr}/work"))
        .header("x-request-id", "req-from-client-42")
        .send()
        .await
        .expect("request");
    assert_eq!(res.headers()["x-request-id"], "req-from-client-42");

    let res = http
        .get(format!("http://{addr}/work"))
        .send()
        .await
        .expect("request");
    let generated = res.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    uuid::Uuid::parse_str(&generated).expect("a generated UUID");

    let res = http
        .get(format!("http://{addr}/work"))
        .header("x-request-id", "bad id\twith tab")
        .send()
        .await
        .expect("request");
    let replaced = res.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_ne!(replaced, "bad id\twith tab");

    let res = http
        .get(format!("http://{addr}/fail"))
        .header("x-request-id", "req-fail-7")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 500);
    let body = res.text().await.expect("body");
    assert!(
        !body.contains("ledger locked"),
        "cause leaked to the client: {body}"
    );
    stop.cancel();

    let logs = capture.lines();
    let of = |id: &str| -> Vec<&Value> {
        logs.iter()
            .filter(|l| l["span"]["request_id"] == id)
            .collect()
    };

    let client = of("req-from-client-42");
    assert!(
        client.iter().any(|l| l["message"] == "handler working"),
        "{client:?}"
    );
    let summary = client
        .iter()
        .find(|l| l["message"] == "request")
        .expect("request line");
    assert_eq!(summary["status"], 200);
    assert_eq!(summary["span"]["method"], "GET");
    assert_eq!(summary["span"]["route"], "/work");
    assert!(summary["latency_ms"].as_f64().is_some());

    assert!(
        of(&generated)
            .iter()
            .any(|l| l["message"] == "handler working")
    );
    assert!(!of(&replaced).is_empty());

    let failing = of("req-fail-7");
    let errors: Vec<_> = failing.iter().filter(|l| l["level"] == "ERROR").collect();
    assert_eq!(errors.len(), 1, "logged exactly once: {failing:?}");
    assert!(
        errors[0]["cause"]
            .as_str()
            .is_some_and(|c| c.contains("ledger locked"))
    );
    let summary = failing
        .iter()
        .find(|l| l["message"] == "request")
        .expect("request line");
    assert_eq!(summary["status"], 500);
    assert_eq!(summary["error_code"], "INTERNAL");
}

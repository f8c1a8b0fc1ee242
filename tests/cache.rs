//! The cache is optional: with Redis stopped in the middle of a session, reads fall back to
//! the broker, `/health` says degraded, a metric counts the fallbacks, and trading goes on.

mod auth_common;
mod rig;
mod sim_support;
mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use app::domain::BrokerState;
use rig::Rig;
use serde_json::{Value, json};
use sim_support::Sim;

/// A private Redis for this test, so stopping it disturbs nobody else.
struct OwnRedis {
    child: Child,
    port: u16,
}

impl OwnRedis {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("addr")
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        // Owned from here on: Drop kills and reaps it whatever happens next.
        let redis = Self { child, port };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return redis;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server did not start on {port}");
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test]
async fn redis_stopped_mid_session_degrades_reads_to_the_broker() {
    let mut redis = OwnRedis::start().await;
    let sim = Sim::start().await;
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let rig = Rig::start(&sim, &["--redis-url", &url]).await;
    rig.wait("ready", 15, |s| s == BrokerState::Ready).await;

    let (status, _) = rig
        .place(json!({"symbol": "KO", "side": "buy", "qty": "3", "type": "market"}))
        .await;
    assert_eq!(status, 201);
    let positions = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let p = rig.get("/api/v1/positions").await;
            if p.as_array()
                .is_some_and(|a| a.iter().any(|p| p["symbol"] == "KO"))
            {
                break p;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("position shows");
    assert_eq!(
        rig.get("/api/v1/positions").await,
        positions,
        "second read (cached) agrees"
    );
    let health: Value = auth_common::get(&rig.app, "/health", Some(&rig.trader))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(health["redis_connected"], true);

    redis.stop();
    let after = rig.get("/api/v1/positions").await;
    assert!(
        after
            .as_array()
            .expect("array")
            .iter()
            .any(|p| p["symbol"] == "KO" && p["qty"] == "3"),
        "{after}"
    );
    let quote = rig.get("/api/v1/quotes/KO").await;
    assert!(quote["bid"].is_string(), "{quote}");
    assert!(
        rig.metric(r#"cache_fallbacks_total{what="positions"}"#)
            .await
            >= 1.0
    );
    let health: Value = auth_common::get(&rig.app, "/health", Some(&rig.trader))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(health["status"], "degraded", "{health}");
    assert_eq!(health["redis_connected"], false);

    let (status, body) = rig
        .place(json!({"symbol": "KO", "side": "buy", "qty": "1", "type": "market"}))
        .await;
    assert_eq!(status, 201, "trading does not need the cache: {body}");
    let live = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let res = auth_common::get(&rig.app, "/api/v1/positions", Some(&rig.trader)).await;
            assert!(
                res.headers().get("x-positions-as-of").is_none(),
                "live data is not marked"
            );
            let p: Value = res.json().await.expect("json");
            if p.as_array()
                .is_some_and(|a| a.iter().any(|p| p["symbol"] == "KO" && p["qty"] == "4"))
            {
                break p;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the new fill shows");

    // Now the broker goes away too: the last recorded positions, marked with their time.
    sim.stop().await;
    rig.wait("not ready", 15, |s| s != BrokerState::Ready).await;
    let res = auth_common::get(&rig.app, "/api/v1/positions", Some(&rig.trader)).await;
    assert_eq!(res.status(), 200);
    let as_of = res
        .headers()
        .get("x-positions-as-of")
        .map(|v| v.to_str().expect("ascii").to_owned());
    assert!(as_of.is_some_and(|t| chrono::DateTime::parse_from_rfc3339(&t).is_ok()));
    let stale: Value = res.json().await.expect("json");
    assert_eq!(
        stale, live,
        "the journal's snapshot matches the last live answer"
    );
    rig.app.stop().await;
}

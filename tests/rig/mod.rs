//! A rig for end-to-end API tests: Binder connected to a simulator as if it were IB Gateway,
//! with a trader's token, plus a Server-Sent Events reader.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of this module"
)]

use std::time::{Duration, Instant};

use app::domain::BrokerState;
use serde_json::Value;

use crate::auth_common;
use crate::sim_support::Sim;
use crate::support::TestApp;

/// Binder connected to `sim` as if it were IB Gateway, with an admin and a trader.
pub struct Rig {
    /// The app.
    pub app: TestApp,
    /// A trader's access token.
    pub trader: String,
}

impl Rig {
    pub async fn start(sim: &Sim, extra: &[&str]) -> Self {
        let port = sim.addr.port().to_string();
        let mut flags = vec![
            "--broker",
            "gateway",
            "--ib-gateway-host",
            "127.0.0.1",
            "--ib-gateway-port",
            port.as_str(),
        ];
        flags.extend_from_slice(extra);
        let app = auth_common::start(&flags).await;
        let trader = trader_token(&app).await;
        Self { app, trader }
    }

    pub async fn place(&self, body: Value) -> (u16, Value) {
        let res = auth_common::post(&self.app, "/api/v1/orders", Some(&self.trader), body).await;
        let status = res.status().as_u16();
        (status, res.json().await.expect("json body"))
    }

    pub async fn get(&self, path: &str) -> Value {
        let res = auth_common::get(&self.app, path, Some(&self.trader)).await;
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.expect("json")
    }

    /// Waits until the broker state satisfies `pred`, returning how long it took.
    pub async fn wait(
        &self,
        what: &str,
        secs: u64,
        pred: impl Fn(BrokerState) -> bool,
    ) -> Duration {
        let started = Instant::now();
        let mut watch = self.app.running_state.desk.watch_broker();
        let reached = tokio::time::timeout(Duration::from_secs(secs), watch.wait_for(|s| pred(*s)))
            .await
            .map(|r| r.map(|_| ()));
        let last = *watch.borrow();
        reached
            .unwrap_or_else(|_| panic!("broker link never became {what}; last state {last:?}"))
            .expect("link alive");
        started.elapsed()
    }

    pub async fn metric(&self, needle: &str) -> f64 {
        let text = self
            .app
            .get("/metrics")
            .await
            .text()
            .await
            .expect("metrics");
        text.lines()
            .filter(|l| l.starts_with(needle))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

pub async fn trader_token(app: &TestApp) -> String {
    let admin = auth_common::admin_token(app).await;
    auth_common::user_token(app, &admin, "trader1", "trader").await
}

pub async fn bid(sim: &Sim, symbol: &str) -> rust_decimal::Decimal {
    let quote = sim.get(&format!("/quote/{symbol}")).await;
    quote["bid"]
        .as_str()
        .expect("bid")
        .parse()
        .expect("decimal")
}

/// A Server-Sent Events reader: yields the JSON data of each `quote` event.
pub struct QuoteStream {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

impl QuoteStream {
    pub async fn open(rig: &Rig, symbol: &str) -> Result<Self, (u16, Value)> {
        let res = rig
            .app
            .http
            .get(rig.app.url(&format!("/api/v1/quotes/{symbol}/stream")))
            .bearer_auth(&rig.trader)
            .send()
            .await
            .expect("request");
        if res.status() != 200 {
            let status = res.status().as_u16();
            return Err((status, res.json().await.expect("json")));
        }
        Ok(Self {
            body: Box::pin(res.bytes_stream()),
            buffer: String::new(),
        })
    }

    /// The next quote event, within 10 s.
    pub async fn next(&mut self) -> Value {
        use futures::StreamExt;
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let event: String = self.buffer.drain(..end + 2).collect();
                    if event.lines().any(|l| l == "event: quote")
                        && let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: "))
                    {
                        return serde_json::from_str(data).expect("quote JSON");
                    }
                    continue;
                }
                let chunk = self.body.next().await.expect("stream open").expect("chunk");
                self.buffer.push_str(&String::from_utf8_lossy(&chunk));
            }
        })
        .await
        .expect("a quote event within 10 s")
    }

    /// Reads quotes until one satisfies `pred`.
    pub async fn until(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let quote = self.next().await;
            if pred(&quote) {
                return quote;
            }
        }
    }
}

/// One Server-Sent Event.
#[derive(Debug, Clone)]
pub struct Sse {
    /// `event:` field.
    pub event: String,
    /// `id:` field, if any.
    pub id: Option<i64>,
    /// `data:` field, parsed.
    pub data: Value,
}

/// Reads `/api/v1/events`.
pub struct EventReader {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

impl EventReader {
    /// Opens the stream, optionally resuming after `last_event_id`.
    pub async fn open(rig: &Rig, last_event_id: Option<i64>) -> Self {
        let mut req = rig
            .app
            .http
            .get(rig.app.url("/api/v1/events"))
            .bearer_auth(&rig.trader);
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id.to_string());
        }
        let res = req.send().await.expect("request");
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .expect("ascii")
                .starts_with("text/event-stream")
        );
        Self {
            body: Box::pin(res.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next event (comments skipped), within 10 s.
    pub async fn next(&mut self) -> Sse {
        use futures::StreamExt;
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let block: String = self.buffer.drain(..end + 2).collect();
                    let field = |name: &str| {
                        block
                            .lines()
                            .find_map(|l| l.strip_prefix(name).map(str::to_owned))
                    };
                    if let (Some(event), Some(data)) = (field("event: "), field("data: ")) {
                        return Sse {
                            event,
                            id: field("id: ").and_then(|i| i.parse().ok()),
                            data: serde_json::from_str(&data).expect("event JSON"),
                        };
                    }
                    continue;
                }
                let chunk = self.body.next().await.expect("stream open").expect("chunk");
                self.buffer.push_str(&String::from_utf8_lossy(&chunk));
            }
        })
        .await
        .expect("an event within 10 s")
    }

    /// Reads events until one satisfies `pred`, returning all read.
    pub async fn until(&mut self, pred: impl Fn(&Sse) -> bool) -> Vec<Sse> {
        let mut seen = Vec::new();
        loop {
            let e = self.next().await;
            let done = pred(&e);
            seen.push(e);
            if done {
                return seen;
            }
        }
    }
}

//! Shared helpers of the simulator tests: a simulator on port 0, and a raw TWS client for
//! what `ibapi` cannot send (unknown messages, floods, odd handshakes).

// `allow`, not `expect`: sim_contract uses every helper (an `expect` would go unfulfilled
// there), other test binaries only the simulator handle.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::net::SocketAddr;
use std::time::Duration;

use binder::simulator::codec::proto;
use binder::simulator::{SimConfig, Simulator};
use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A running simulator, stopped on drop.
pub struct Sim {
    /// The TWS listener.
    pub addr: SocketAddr,
    /// The control API.
    pub control: SocketAddr,
    token: CancellationToken,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Sim {
    /// A simulator with frozen quotes (tests move prices through the control API).
    pub async fn start() -> Self {
        Self::with(|_| {}).await
    }

    /// A simulator with adjusted settings.
    pub async fn with(adjust: impl FnOnce(&mut SimConfig)) -> Self {
        let mut config = SimConfig {
            port: 0,
            control_port: Some(0),
            tick_ms: 0,
            ..SimConfig::default()
        };
        adjust(&mut config);
        let sim = Simulator::bind("127.0.0.1:0".parse().expect("addr"), config)
            .await
            .expect("simulator binds");
        let addr = sim.local_addr().expect("addr");
        let control = sim.control_addr().expect("control api enabled");
        let token = CancellationToken::new();
        let task = tokio::spawn(sim.run(token.clone()));
        Self {
            addr,
            control,
            token,
            task: Some(task),
        }
    }

    /// Connects the real client.
    pub async fn connect(&self, client_id: i32) -> ibapi::Client {
        ibapi::Client::connect(&self.addr.to_string(), client_id)
            .await
            .expect("ibapi connects to the simulator")
    }

    /// POSTs JSON to the control API.
    pub async fn post(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let response = reqwest::Client::new()
            .post(format!("http://{}{path}", self.control))
            .json(&body)
            .send()
            .await
            .expect("control API answers");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.expect("json")
    }

    /// GETs JSON from the control API.
    pub async fn get(&self, path: &str) -> serde_json::Value {
        reqwest::get(format!("http://{}{path}", self.control))
            .await
            .expect("control API answers")
            .json()
            .await
            .expect("json")
    }

    /// Moves a symbol's market: bid = price, ask = price + 0.01.
    pub async fn set_price(&self, symbol: &str, price: &str) {
        self.post(
            "/price",
            serde_json::json!({ "symbol": symbol, "price": price }),
        )
        .await;
    }

    /// Stops the simulator and waits for it.
    pub async fn stop(mut self) {
        self.token.cancel();
        if let Some(task) = self.task.take() {
            task.await.expect("simulator task").expect("simulator run");
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.token.cancel();
    }
}

/// A bare TWS protocol client speaking protobuf.
pub struct RawClient {
    stream: TcpStream,
    /// Negotiated version.
    pub version: i32,
}

async fn read_frame(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).await.ok()?;
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    stream.read_exact(&mut body).await.ok()?;
    Some(body)
}

fn framed(body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

impl RawClient {
    /// Handshake only: `Some((version, time))` when the server answered, `None` when it closed.
    pub async fn handshake_only(addr: SocketAddr, offer: &str) -> Option<(i32, String)> {
        let mut stream = TcpStream::connect(addr).await.expect("tcp connect");
        let mut hello = b"API\0".to_vec();
        hello.extend(framed(offer.as_bytes()));
        stream.write_all(&hello).await.expect("write");
        let body = tokio::time::timeout(Duration::from_secs(5), read_frame(&mut stream))
            .await
            .expect("server answers or closes in time")?;
        let text = String::from_utf8(body).expect("utf8");
        let mut fields = text.split('\0');
        let version = fields.next()?.parse().ok()?;
        Some((version, fields.next()?.to_string()))
    }

    /// Handshake + StartApi with `client_id`, waiting for NextValidId.
    pub async fn connect(addr: SocketAddr, min: i32, max: i32, client_id: i32) -> Self {
        let mut stream = TcpStream::connect(addr).await.expect("tcp connect");
        let mut hello = b"API\0".to_vec();
        hello.extend(framed(format!("v{min}..{max}").as_bytes()));
        stream.write_all(&hello).await.expect("write");
        let body = read_frame(&mut stream).await.expect("handshake reply");
        let version = String::from_utf8_lossy(&body)
            .split('\0')
            .next()
            .and_then(|v| v.parse().ok())
            .expect("version");
        let mut client = Self { stream, version };
        let start = proto::StartApiRequest {
            client_id: Some(client_id),
            optional_capabilities: None,
        };
        client.send_protobuf(71, &start.encode_to_vec()).await;
        client.expect_message(9).await;
        client
    }

    /// Sends a protobuf message with id `id` (the +200 is added here).
    pub async fn send_protobuf(&mut self, id: i32, payload: &[u8]) {
        let mut body = (id + 200).to_be_bytes().to_vec();
        body.extend_from_slice(payload);
        self.stream.write_all(&framed(&body)).await.expect("write");
    }

    /// Like [`RawClient::send_protobuf`], but reports a closed socket instead of panicking.
    pub async fn try_send_protobuf(&mut self, id: i32, payload: &[u8]) -> bool {
        let mut body = (id + 200).to_be_bytes().to_vec();
        body.extend_from_slice(payload);
        self.stream.write_all(&framed(&body)).await.is_ok()
    }

    /// The next message: (id without the protobuf offset, payload); `None` when closed.
    pub async fn next(&mut self) -> Option<(i32, Vec<u8>)> {
        let body = tokio::time::timeout(Duration::from_secs(5), read_frame(&mut self.stream))
            .await
            .expect("a message within 5 s")?;
        let id = i32::from_be_bytes(body[..4].try_into().expect("4 bytes"));
        Some((id - 200, body[4..].to_vec()))
    }

    /// Reads until a message with `id` arrives.
    pub async fn expect_message(&mut self, id: i32) -> Vec<u8> {
        loop {
            let (got, payload) = self.next().await.expect("connection open");
            if got == id {
                return payload;
            }
        }
    }

    /// Reads until an error whose code satisfies `wanted`; returns (code, text).
    pub async fn expect_error(&mut self, wanted: impl Fn(i32) -> bool) -> (i32, String) {
        loop {
            let payload = self.expect_message(4).await;
            let error = proto::ErrorMessage::decode(&payload[..]).expect("error message");
            let code = error.error_code.unwrap_or_default();
            if wanted(code) {
                return (code, error.error_msg.unwrap_or_default());
            }
        }
    }

    /// Reads until the server closes the connection; false if it stays open 5 s.
    pub async fn closed(&mut self) -> bool {
        loop {
            match tokio::time::timeout(Duration::from_secs(5), read_frame(&mut self.stream)).await {
                Ok(None) => return true,
                Ok(Some(_)) => continue,
                Err(_) => return false,
            }
        }
    }
}

/// One thing a placed order's subscription delivered.
#[derive(Debug)]
pub enum Ev {
    /// OpenOrder.
    Open(Box<ibapi::orders::OrderData>),
    /// OrderStatus.
    Status(ibapi::orders::OrderStatus),
    /// ExecutionDetails.
    Exec(Box<ibapi::orders::ExecutionData>),
    /// CommissionReport.
    Comm(ibapi::orders::CommissionReport),
    /// A notice or error: (code, text).
    Notice(i32, String),
}

impl Ev {
    /// Short name for sequence assertions.
    pub fn tag(&self) -> String {
        match self {
            Ev::Open(o) => format!("open:{:?}", o.order_state.status),
            Ev::Status(s) => format!("status:{:?}", s.status),
            Ev::Exec(_) => "exec".to_string(),
            Ev::Comm(_) => "commission".to_string(),
            Ev::Notice(code, _) => format!("notice:{code}"),
        }
    }
}

/// Maps a placed order's messages.
pub fn place(item: ibapi::orders::PlaceOrder) -> Option<Ev> {
    use ibapi::orders::PlaceOrder;
    Some(match item {
        PlaceOrder::OpenOrder(o) => Ev::Open(Box::new(o)),
        PlaceOrder::OrderStatus(s) => Ev::Status(s),
        PlaceOrder::ExecutionData(e) => Ev::Exec(Box::new(e)),
        PlaceOrder::CommissionReport(c) => Ev::Comm(c),
    })
}

/// Collects a subscription's items, mapped by `$map`, until `$stop` holds, the stream
/// ends, or 5 s pass without a message. Notices and errors become [`Ev::Notice`].
#[macro_export]
macro_rules! events {
    ($subscription:expr, $map:expr, $stop:expr) => {{
        use ibapi::prelude::StreamExt;
        let mut out: Vec<$crate::sim_support::Ev> = Vec::new();
        loop {
            let next =
                tokio::time::timeout(std::time::Duration::from_secs(5), $subscription.next()).await;
            match next {
                Ok(Some(Ok(ibapi::subscriptions::SubscriptionItem::Data(item)))) => {
                    if let Some(ev) = $map(item) {
                        out.push(ev);
                    }
                }
                Ok(Some(Ok(ibapi::subscriptions::SubscriptionItem::Notice(n)))) => {
                    out.push($crate::sim_support::Ev::Notice(n.code, n.message))
                }
                Ok(Some(Err(ibapi::Error::Notice(n)))) => {
                    out.push($crate::sim_support::Ev::Notice(n.code, n.message))
                }
                Ok(Some(Err(e))) => out.push($crate::sim_support::Ev::Notice(-1000, e.to_string())),
                Ok(None) | Err(_) => break,
            }
            if $stop(&out[..]) {
                break;
            }
        }
        out
    }};
}

/// Whether the events end a placed order's story (filled, cancelled or rejected).
pub fn finished(events: &[Ev]) -> bool {
    events.iter().any(|e| match e {
        Ev::Comm(_) => events.iter().any(
            |e| matches!(e, Ev::Status(s) if s.status == ibapi::orders::OrderStatusKind::Filled),
        ),
        Ev::Status(s) => s.status == ibapi::orders::OrderStatusKind::Cancelled,
        Ev::Notice(code, _) => *code != 202 && *code < 2000,
        _ => false,
    })
}

/// A US stock contract as Binder builds it (no conId).
pub fn stock(symbol: &str) -> ibapi::contracts::Contract {
    ibapi::contracts::Contract::stock(symbol).build()
}

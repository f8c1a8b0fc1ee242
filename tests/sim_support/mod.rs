//! Shared helpers of the simulator tests: a simulator on port 0, and a raw TWS client for
//! what `ibapi` cannot send (unknown messages, floods, odd handshakes).

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

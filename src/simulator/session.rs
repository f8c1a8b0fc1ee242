//! One client session: handshake, StartApi, the request loop with IB's message-rate limit,
//! and the writer task that encodes outgoing messages in the negotiated protocol.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::clock::ib_timestamp;
use super::codec::{self, Outgoing, Protocol, Request};
use super::connection::{self, HandshakeError};
use super::exchange::Exchange;

/// IB's limit on messages per second from one client (the default of `--max-msg-rate`).
pub const MAX_MESSAGES_PER_SECOND: u32 = 50;
/// Consecutive seconds over the limit after which the client is disconnected.
pub const SUSTAINED_SECONDS: u32 = 3;
/// How long a client may take to send its handshake and StartApi.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Messages encoded per socket write.
const WRITE_BATCH: usize = 256;

/// Counts messages per one-second window (time injected so tests can drive it).
#[derive(Debug)]
pub struct RateLimiter {
    limit: u32,
    window: i64,
    count: u32,
    warned: bool,
    over_seconds: u32,
}

/// What the limiter says about one more message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rate {
    /// Within the limit.
    Ok,
    /// Over the limit: send error 100 (once per second).
    Warn(u32),
    /// Over the limit, already warned this second.
    Over,
    /// Over the limit for too long: disconnect.
    Disconnect,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::new(MAX_MESSAGES_PER_SECOND)
    }
}

impl RateLimiter {
    /// A limiter allowing `limit` messages per second; 0 allows any rate.
    pub fn new(limit: u32) -> Self {
        Self {
            limit,
            window: 0,
            count: 0,
            warned: false,
            over_seconds: 0,
        }
    }

    /// Records one message at `now_ms`.
    pub fn hit(&mut self, now_ms: i64) -> Rate {
        if self.limit == 0 {
            return Rate::Ok;
        }
        let window = now_ms.div_euclid(1000);
        if window != self.window {
            let consecutive = window == self.window + 1 && self.warned;
            self.over_seconds = if consecutive { self.over_seconds } else { 0 };
            self.window = window;
            self.count = 0;
            self.warned = false;
        }
        self.count += 1;
        if self.count <= self.limit {
            return Rate::Ok;
        }
        if self.warned {
            return Rate::Over;
        }
        self.warned = true;
        self.over_seconds += 1;
        if self.over_seconds >= SUSTAINED_SECONDS {
            Rate::Disconnect
        } else {
            Rate::Warn(self.count)
        }
    }
}

fn encode(protocol: Protocol, version: i32, message: &Outgoing) -> Option<Vec<u8>> {
    match protocol {
        Protocol::Protobuf => Some(codec::protobuf::encode(message)),
        Protocol::Text => codec::text::encode(version, message),
    }
}

fn decode(
    protocol: Protocol,
    version: i32,
    frame: &[u8],
) -> Result<Request, codec::protobuf::DecodeError> {
    match protocol {
        Protocol::Protobuf => codec::protobuf::decode(frame),
        Protocol::Text => codec::text::decode(version, frame),
    }
}

/// Serves one TCP connection until the client leaves, misbehaves or `shutdown` fires.
#[tracing::instrument(name = "sim_session", skip_all, fields(conn_id = conn_id))]
pub async fn serve(
    stream: TcpStream,
    conn_id: u64,
    exchange: Arc<Exchange>,
    shutdown: CancellationToken,
) {
    let peer = stream.peer_addr().ok();
    let _ = stream.set_nodelay(true);
    let (read_half, mut write_half) = stream.into_split();
    let mut reader = BufReader::new(read_half);

    let offer = match tokio::time::timeout(
        HANDSHAKE_TIMEOUT,
        connection::read_handshake(&mut reader),
    )
    .await
    {
        Ok(Ok(offer)) => offer,
        Ok(Err(HandshakeError::Io(e))) => {
            debug!(?peer, error = %e, "connection closed during the handshake");
            return;
        }
        Ok(Err(e)) => {
            warn!(?peer, error = %e, "refusing connection");
            return;
        }
        Err(_) => {
            warn!(?peer, "no handshake within {HANDSHAKE_TIMEOUT:?}; closing");
            return;
        }
    };
    let (protocol, version) = match codec::negotiate(offer.min, offer.max) {
        Ok(chosen) => chosen,
        Err(reason) => {
            warn!(?peer, offer = ?offer, %reason, "refusing connection: unsupported API version");
            return;
        }
    };
    let reply = format!("{version}\0{}\0", ib_timestamp(exchange.now()));
    if connection::write_frame(&mut write_half, reply.as_bytes())
        .await
        .is_err()
    {
        return;
    }

    let client_id =
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, connection::read_frame(&mut reader)).await {
            Ok(Ok(Some(frame))) => match decode(protocol, version, &frame) {
                Ok(Request::StartApi { client_id }) => client_id,
                Ok(other) => {
                    warn!(?peer, request = ?other, "expected StartApi first; closing");
                    return;
                }
                Err(e) => {
                    warn!(?peer, error = %e, "undecodable StartApi; closing");
                    return;
                }
            },
            _ => {
                debug!(?peer, "no StartApi; closing");
                return;
            }
        };

    let session_cancel = shutdown.child_token();
    let (tx, rx) = mpsc::unbounded_channel();
    if exchange
        .connect(client_id, conn_id, tx.clone(), session_cancel.clone())
        .is_err()
    {
        info!(?peer, client_id, "client id already in use (326)");
        let message = exchange.error(
            -1,
            326,
            &format!("Unable to connect as the client id {client_id} is already in use. Retry with a unique client id."),
        );
        if let Some(body) = encode(protocol, version, &message) {
            let _ = connection::write_frame(&mut write_half, &body).await;
        }
        let _ = write_half.shutdown().await;
        return;
    }
    info!(?peer, client_id, ?protocol, version, "client connected");

    let writer = tokio::spawn(write_loop(
        write_half,
        rx,
        protocol,
        version,
        session_cancel.clone(),
    ));

    let _ = tx.send(Outgoing::ManagedAccounts(exchange.account_id().to_string()));
    let _ = tx.send(Outgoing::NextValidId(exchange.next_valid_id()));
    for (code, text) in [
        (2104, "Market data farm connection is OK:usfarm"),
        (2106, "HMDS data farm connection is OK:ushmds"),
        (2158, "Sec-def data farm connection is OK:secdefnj"),
    ] {
        let _ = tx.send(exchange.error(-1, code, text));
    }

    let mut session = Session {
        client_id,
        exchange: Arc::clone(&exchange),
        tx: tx.clone(),
        limiter: RateLimiter::new(exchange.message_rate_limit()),
    };
    loop {
        let frame = tokio::select! {
            _ = session_cancel.cancelled() => break,
            frame = connection::read_frame(&mut reader) => frame,
        };
        let frame = match frame {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(e) => {
                debug!(client_id, error = %e, "read failed");
                break;
            }
        };
        match session.limiter.hit(exchange.now().timestamp_millis()) {
            Rate::Ok | Rate::Over => {}
            Rate::Warn(count) => {
                let _ = tx.send(exchange.error(
                    -1,
                    100,
                    &format!(
                        "Max rate of messages per second has been exceeded:max={} rec={count}",
                        exchange.message_rate_limit()
                    ),
                ));
            }
            Rate::Disconnect => {
                warn!(
                    client_id,
                    "message rate exceeded for {SUSTAINED_SECONDS} s; disconnecting"
                );
                let _ = tx.send(exchange.error(
                    -1,
                    100,
                    &format!(
                        "Max rate of messages per second has been exceeded for {SUSTAINED_SECONDS} seconds; disconnecting"
                    ),
                ));
                break;
            }
        }
        match decode(protocol, version, &frame) {
            Ok(request) => session.handle(request).await,
            Err(e) => {
                warn!(client_id, error = %e, "undecodable message");
                let _ = tx.send(exchange.error(-1, 321, &format!("Error validating request:-{e}")));
            }
        }
    }
    exchange.disconnect(client_id, conn_id);
    drop(session);
    drop(tx);
    // The writer drains what is queued (e.g. a final error 100) and then closes the socket.
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    session_cancel.cancel();
    info!(client_id, "client disconnected");
}

async fn write_loop(
    mut socket: tokio::net::tcp::OwnedWriteHalf,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
    protocol: Protocol,
    version: i32,
    cancel: CancellationToken,
) {
    let mut out = Vec::with_capacity(64 * 1024);
    loop {
        let first = tokio::select! {
            message = rx.recv() => message,
            _ = cancel.cancelled() => None,
        };
        let Some(first) = first else { break };
        out.clear();
        if let Some(body) = encode(protocol, version, &first) {
            connection::put_frame(&mut out, &body);
        }
        for _ in 0..WRITE_BATCH {
            let Ok(next) = rx.try_recv() else { break };
            if let Some(body) = encode(protocol, version, &next) {
                connection::put_frame(&mut out, &body);
            }
        }
        if out.is_empty() {
            continue;
        }
        if socket.write_all(&out).await.is_err() {
            cancel.cancel();
            break;
        }
    }
    let _ = socket.shutdown().await;
}

struct Session {
    client_id: i32,
    exchange: Arc<Exchange>,
    tx: mpsc::UnboundedSender<Outgoing>,
    limiter: RateLimiter,
}

impl Session {
    fn reply(&self, messages: Vec<Outgoing>) {
        for message in messages {
            let _ = self.tx.send(message);
        }
    }

    async fn handle(&mut self, request: Request) {
        let exchange = &self.exchange;
        let client_id = self.client_id;
        debug!(client_id, ?request, "request");
        match request {
            Request::StartApi { .. } => {}
            Request::CurrentTime => {
                self.reply(vec![Outgoing::CurrentTime(exchange.now().timestamp())])
            }
            Request::CurrentTimeMillis => self.reply(vec![Outgoing::CurrentTimeMillis(
                exchange.now().timestamp_millis(),
            )]),
            Request::Ids => self.reply(vec![Outgoing::NextValidId(exchange.next_valid_id())]),
            Request::ManagedAccounts => self.reply(vec![Outgoing::ManagedAccounts(
                exchange.account_id().to_string(),
            )]),
            Request::ContractDetails { req_id, contract } => {
                self.reply(exchange.contract_details(req_id, &contract))
            }
            Request::PlaceOrder {
                order_id,
                contract,
                ticket,
            } => {
                let delay = exchange.faults().ack_delay_ms;
                if delay > 0 {
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                }
                exchange.place_order(client_id, order_id, &contract, &ticket);
            }
            Request::CancelOrder { order_id } => exchange.cancel_order(client_id, order_id),
            Request::GlobalCancel => exchange.global_cancel(),
            Request::OpenOrders | Request::AutoOpenOrders { .. } => {
                self.reply(exchange.open_orders(Some(client_id)))
            }
            Request::AllOpenOrders => self.reply(exchange.open_orders(None)),
            Request::CompletedOrders { .. } => self.reply(exchange.completed_orders()),
            Request::Executions { req_id, filter } => {
                self.reply(exchange.executions(req_id, &filter))
            }
            Request::Positions => self.reply(exchange.positions(client_id, true)),
            Request::CancelPositions => self.reply(exchange.positions(client_id, false)),
            Request::AccountSummary { req_id, tags } => {
                self.reply(exchange.account_summary(client_id, req_id, &tags))
            }
            Request::AccountUpdates { subscribe } => {
                self.reply(exchange.account_updates(client_id, subscribe))
            }
            Request::AccountUpdatesMulti { req_id } => {
                self.reply(exchange.account_updates_multi(client_id, req_id))
            }
            Request::PnL { req_id } => self.reply(exchange.pnl(client_id, req_id)),
            Request::PnLSingle { req_id, con_id } => {
                self.reply(exchange.pnl_single(client_id, req_id, con_id))
            }
            Request::MarketData {
                req_id,
                contract,
                snapshot,
            } => self.reply(exchange.market_data(client_id, req_id, &contract, snapshot)),
            Request::MarketDataType { market_data_type } => {
                exchange.set_market_data_type(client_id, market_data_type)
            }
            Request::RealTimeBars { req_id, contract } => {
                self.reply(exchange.real_time_bars(client_id, req_id, &contract))
            }
            Request::HistoricalData(request) => {
                self.reply(exchange.historical_data(client_id, &request))
            }
            Request::CancelAccountSummary { req_id }
            | Request::CancelAccountUpdatesMulti { req_id }
            | Request::CancelPnL { req_id }
            | Request::CancelPnLSingle { req_id }
            | Request::CancelMarketData { req_id }
            | Request::CancelRealTimeBars { req_id }
            | Request::CancelHistoricalData { req_id } => exchange.unsubscribe(client_id, req_id),
            Request::Quiet { message_id } => debug!(client_id, message_id, "accepted quietly"),
            Request::Unknown { message_id } => {
                debug!(client_id, message_id, "unknown message id");
                self.reply(vec![exchange.error(
                    -1,
                    321,
                    &format!("Error validating request:-message id {message_id} is not supported by the simulator"),
                )]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limiter_warns_then_disconnects_when_sustained() {
        let mut limiter = RateLimiter::default();
        let mut warned = 0;
        for second in 0..SUSTAINED_SECONDS as i64 {
            for i in 0..60 {
                match limiter.hit(second * 1000 + i) {
                    Rate::Warn(_) => warned += 1,
                    Rate::Disconnect => {
                        assert_eq!(second, SUSTAINED_SECONDS as i64 - 1);
                        return;
                    }
                    Rate::Ok | Rate::Over => {}
                }
            }
        }
        panic!("never disconnected (warned {warned} times)");
    }

    #[test]
    fn rate_limiter_forgives_a_quiet_second() {
        let mut limiter = RateLimiter::default();
        for i in 0..60 {
            limiter.hit(i);
        }
        for i in 0..10 {
            assert_eq!(limiter.hit(1000 + i), Rate::Ok);
        }
        for i in 0..60 {
            assert_ne!(limiter.hit(2000 + i), Rate::Disconnect);
        }
    }
}

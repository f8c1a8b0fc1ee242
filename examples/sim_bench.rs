//! Benchmark: place → Filled round trips through the real `ibapi` client against the
//! simulator, one order at a time. Prints round trips per second and p50/p99 latency.
//!
//! `cargo run --example sim_bench -- [ORDERS] [HOST:PORT]`: without an address it starts an
//! in-process simulator with the message-rate limit off (IB's 50 msg/s would otherwise cap
//! the figure, and the simulator is what is measured).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use binder::simulator::{SimConfig, Simulator};
use ibapi::orders::{Action, OrderStatusKind, PlaceOrder, order_builder};
use ibapi::prelude::StreamExt;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let orders: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(2000);
    let shutdown = CancellationToken::new();
    let addr: SocketAddr = match args.next() {
        Some(addr) => addr.parse()?,
        None => {
            let config = SimConfig {
                port: 0,
                tick_ms: 0,
                max_msg_rate: 0,
                ..SimConfig::default()
            };
            let sim = Simulator::bind("127.0.0.1:0".parse()?, config).await?;
            let addr = sim.local_addr()?;
            tokio::spawn(sim.run(shutdown.clone()));
            addr
        }
    };

    let client = ibapi::Client::connect(&addr.to_string(), 1).await?;
    let contract = ibapi::contracts::Contract::stock("AAPL").build();
    let first_id = client.next_order_id();
    let mut latencies = Vec::with_capacity(orders);

    // A short warm-up so connection set-up is not in the figures.
    for round in 0..(orders + 50) {
        let order_id = first_id + i32::try_from(round)?;
        let action = if round % 2 == 0 {
            Action::Buy
        } else {
            Action::Sell
        };
        let order = order_builder::market_order(action, 1.0);
        let started = Instant::now();
        let mut subscription = client.place_order(order_id, &contract, &order).await?;
        loop {
            let item = tokio::time::timeout(Duration::from_secs(5), subscription.next())
                .await
                .map_err(|_| anyhow::anyhow!("order {order_id} got no Filled status within 5 s"))?;
            match item {
                Some(Ok(ibapi::subscriptions::SubscriptionItem::Data(
                    PlaceOrder::OrderStatus(s),
                ))) if s.status == OrderStatusKind::Filled => {
                    break;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => anyhow::bail!("order failed: {e}"),
                None => anyhow::bail!("the order stream ended before Filled"),
            }
        }
        if round >= 50 {
            latencies.push(started.elapsed());
        }
    }

    let total: Duration = latencies.iter().sum();
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    println!("simulator at {addr}, {orders} sequential MKT orders through ibapi 5.5");
    println!("round trips/s: {:.0}", orders as f64 / total.as_secs_f64());
    println!(
        "latency place→Filled: p50 {:?}, p99 {:?}, max {:?}",
        at(0.50),
        at(0.99),
        latencies[latencies.len() - 1]
    );
    shutdown.cancel();
    Ok(())
}

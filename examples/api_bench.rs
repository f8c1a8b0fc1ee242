//! Benchmark of the order path over HTTP: Binder in-process with its embedded simulator, a
//! fresh journal database, and an open-loop load generator.
//!
//! Prints latency percentiles (p50/p99/p99.9) for POST /orders at a fixed rate (measured from
//! each request's scheduled start, so a slow server cannot hide queueing), the share
//! acknowledged by the broker, GET /positions throughput and latency at 8 connections, and
//! resident memory.
//!
//! `cargo run --release --example api_bench -- [ORDERS_PER_SECOND] [SECONDS]`
//! (defaults: 40 orders/s for 15 s). Needs Postgres and Redis as the tests do.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

const PASSWORD: &str = "bench-admin-password";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let rate: u32 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(40);
    let seconds: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(15);
    let base = std::env::var("BINDER_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
    let database = format!("{base}/binder_bench_{}", uuid::Uuid::new_v4().simple());

    let settings = {
        use clap::Parser;
        binder::cli::Cli::try_parse_from([
            "binder",
            "--database-url",
            &database,
            "--broker",
            "simulator",
            "--log",
            "warn",
            "--admin-password",
            PASSWORD,
            "--jwt-secret",
            "bench-signing-secret-0123456789-abcdef",
        ])?
        .settings
    };
    binder::telemetry::init("warn", binder::config::LogFormat::Json)?;
    let shutdown = CancellationToken::new();
    let tasks = TaskTracker::new();
    let running = binder::server::Running::start(settings, &shutdown, &tasks).await?;
    let mut ready = running.state.desk.watch_broker();
    tokio::time::timeout(
        Duration::from_secs(15),
        ready.wait_for(|s| *s == app::domain::BrokerState::Ready),
    )
    .await??;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server_stop = CancellationToken::new();
    let app = binder::api::app(running.state.clone());
    let stop = server_stop.clone();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await
    });
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let url = |p: &str| format!("http://{addr}{p}");
    let login: Value = http
        .post(url("/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["access_token"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("login failed: {login}"))?
        .to_owned();

    println!("Binder API benchmark: in-process server, embedded simulator, fresh journal");
    println!(
        "phase 1: POST /orders open loop, {rate} orders/s for {seconds} s (market orders, 1 share)"
    );
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate));
    let total = u64::from(rate) * seconds;
    let started = Instant::now();
    let mut handles = Vec::with_capacity(usize::try_from(total)?);
    for i in 0..total {
        let scheduled = started + interval.mul_f64(i as f64);
        tokio::time::sleep_until(scheduled.into()).await;
        let (http, token, url) = (http.clone(), token.clone(), url("/api/v1/orders"));
        handles.push(tokio::spawn(async move {
            let side = if i % 2 == 0 { "buy" } else { "sell" };
            let res = http
                .post(url)
                .bearer_auth(token)
                .json(&json!({"symbol": "SPY", "side": side, "qty": "1", "type": "market"}))
                .send()
                .await;
            let status = res.map(|r| r.status().as_u16()).unwrap_or(0);
            (status, scheduled.elapsed())
        }));
    }
    let mut all = Histogram::<u64>::new(3)?;
    let mut acked = Histogram::<u64>::new(3)?;
    let mut statuses = std::collections::BTreeMap::new();
    for h in handles {
        let (status, latency) = h.await?;
        *statuses.entry(status).or_insert(0_u32) += 1;
        let micros = u64::try_from(latency.as_micros())?;
        if (200..300).contains(&status) {
            all.record(micros)?;
        }
        if status == 201 {
            acked.record(micros)?;
        }
    }
    let took = started.elapsed();
    println!(
        "  sent {total} in {:.1} s ({:.1}/s); statuses {statuses:?}",
        took.as_secs_f64(),
        total as f64 / took.as_secs_f64()
    );
    report("  POST /orders -> 2xx          ", &all);
    report("  POST /orders -> broker ack   ", &acked);

    println!("phase 2: GET /positions closed loop, 8 connections for {seconds} s");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for _ in 0..8 {
        let (http, token, url) = (http.clone(), token.clone(), url("/api/v1/positions"));
        workers.push(tokio::spawn(async move {
            let mut h = Histogram::<u64>::new(3).expect("histogram");
            let mut errors = 0_u32;
            while Instant::now() < deadline {
                let t = Instant::now();
                match http.get(&url).bearer_auth(&token).send().await {
                    Ok(r) if r.status() == 200 => {
                        let _ = r.bytes().await;
                        h.record(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX))
                            .expect("record");
                    }
                    _ => errors += 1,
                }
            }
            (h, errors)
        }));
    }
    let mut positions = Histogram::<u64>::new(3)?;
    let mut errors = 0;
    for w in workers {
        let (h, e) = w.await?;
        positions.add(h)?;
        errors += e;
    }
    println!(
        "  {} requests, {:.0}/s, {errors} errors",
        positions.len(),
        positions.len() as f64 / seconds as f64
    );
    report("  GET /positions               ", &positions);

    let metrics = http.get(url("/metrics")).send().await?.text().await?;
    let rss = metrics
        .lines()
        .find_map(|l| l.strip_prefix("process_resident_memory_bytes "))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_default();
    println!(
        "resident memory (server and load generator in one process): {:.1} MB",
        rss / 1_048_576.0
    );

    server_stop.cancel();
    shutdown.cancel();
    running.stop(&tasks).await;
    let admin = sqlx::PgPool::connect(&format!("{base}/postgres")).await?;
    let name = database.rsplit('/').next().unwrap_or_default();
    sqlx::query(&format!("drop database if exists \"{name}\" with (force)"))
        .execute(&admin)
        .await?;
    Ok(())
}

fn report(label: &str, h: &Histogram<u64>) {
    if h.is_empty() {
        println!("{label} no samples");
        return;
    }
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "{label} n={} p50={:.2} ms p99={:.2} ms p99.9={:.2} ms max={:.2} ms",
        h.len(),
        ms(0.5),
        ms(0.99),
        ms(0.999),
        h.max() as f64 / 1000.0
    );
}

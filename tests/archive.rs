//! `binder archive --older-than 90d` moves finished orders with their events and fills, and
//! nothing else.

mod auth_common;
mod rig;
mod sim_support;
mod support;

use std::process::Command;

use app::domain::BrokerState;
use rig::{Rig, bid};
use serde_json::{Value, json};
use sim_support::Sim;

#[tokio::test]
async fn old_finished_orders_move_to_the_archive_with_their_events_and_fills() {
    let sim = Sim::start().await;
    let rig = Rig::start(&sim, &[]).await;
    rig.wait("ready", 15, |s| s == BrokerState::Ready).await;
    let (_, filled) = rig
        .place(json!({"symbol": "PG", "side": "buy", "qty": "1", "type": "market"}))
        .await;
    let below = bid(&sim, "PG").await - rust_decimal::Decimal::from(10);
    let (_, resting) = rig.place(json!({"symbol": "PG", "side": "buy", "qty": "1", "type": "limit", "limit_price": below.to_string()})).await;
    let filled_id = filled["id"].as_str().expect("id").to_owned();
    let resting_id = resting["id"].as_str().expect("id").to_owned();
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while rig.get(&format!("/api/v1/orders/{filled_id}")).await["status"] != "filled" {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("filled");

    let database = rig.app.running_state.settings.database_url.clone();
    let pool = sqlx::PgPool::connect(&database).await.expect("db");
    // Both orders are made old; only the finished one may move.
    sqlx::query("update orders set updated_at = now() - interval '100 days', created_at = now() - interval '100 days'")
        .execute(&pool)
        .await
        .expect("age the orders");

    let output = Command::new(env!("CARGO_BIN_EXE_binder"))
        .args(["archive", "--older-than", "90d"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &database)
        .env("BINDER_LOG", "warn")
        .output()
        .expect("run binder archive");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("Archived 1 orders"), "{stderr}");

    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .expect("count")
        }
    };
    assert_eq!(
        count("select count(*) from orders").await,
        1,
        "the open order stays"
    );
    assert_eq!(count("select count(*) from orders_archive").await, 1);
    assert_eq!(
        count("select count(*) from fills where order_id is not null").await,
        0
    );
    assert!(count("select count(*) from fills_archive").await >= 1);
    assert!(
        count("select count(*) from order_events_archive").await >= 3,
        "created, accepted, fill, filled"
    );
    let res = auth_common::get(
        &rig.app,
        &format!("/api/v1/orders/{filled_id}"),
        Some(&rig.trader),
    )
    .await;
    assert_eq!(res.status(), 404, "archived orders leave the hot API");
    let open: Value = rig.get(&format!("/api/v1/orders/{resting_id}")).await;
    assert_eq!(open["status"], "accepted");
    pool.close().await;
    rig.app.stop().await;
    sim.stop().await;
}

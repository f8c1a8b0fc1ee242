//! Start-up and shutdown of the real binary and the journal: database creation, advice when
//! Postgres is missing, degraded start without Redis, graceful stop on SIGTERM.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn binder() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_binder"));
    // Only what the test sets: no developer `.env` or shell variables leak in.
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .stdin(Stdio::null());
    cmd
}

/// Collects a child's output lines on a thread so the test can wait for one with a deadline.
fn lines(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait_for_line(rx: &mpsc::Receiver<String>, seen: &mut Vec<String>, needle: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                seen.push(line.clone());
                if line.contains(needle) {
                    return line;
                }
            }
            Err(_) => break,
        }
    }
    panic!("no line containing {needle:?}; saw:\n{}", seen.join("\n"));
}

fn kill_term(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

#[tokio::test]
async fn opening_the_journal_creates_a_missing_database_once() {
    let url = support::fresh_database_url();
    let name = url.rsplit('/').next().expect("name").to_owned();
    let admin = sqlx::PgPool::connect(&format!("{}/postgres", support::pg_base()))
        .await
        .expect("admin connection");
    let exists = || {
        sqlx::query_scalar::<_, bool>(
            "select exists (select 1 from pg_database where datname = $1)",
        )
        .bind(&name)
        .fetch_one(&admin)
    };
    assert!(!exists().await.expect("query"));

    let pool = binder::journal::open(&url).await.expect("journal opens");
    assert!(exists().await.expect("query"), "database created");
    let first = binder::journal::instance_id(&pool).await.expect("instance");
    pool.close().await;

    let pool = binder::journal::open(&url).await.expect("journal reopens");
    assert_eq!(
        binder::journal::instance_id(&pool).await.expect("instance"),
        first
    );
    let migrations: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .expect("migrations table");
    assert_eq!(
        migrations,
        i64::try_from(binder::journal::MIGRATOR.iter().count()).expect("small")
    );
    pool.close().await;
    admin.close().await;
    support::drop_database(&url).await;
}

#[test]
fn without_postgres_the_binary_exits_with_advice_not_a_trace() {
    let output = binder()
        .env(
            "DATABASE_URL",
            "postgres://binder:hunter2@127.0.0.1:1/binder",
        )
        .env("BINDER_ADDR", "127.0.0.1:0")
        .env("BINDER_LOG", "error")
        .output()
        .expect("run binder");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot reach Postgres at postgres://binder:***@127.0.0.1:1/binder"),
        "{stderr}"
    );
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
    assert!(stderr.contains("pg_ctlcluster"), "{stderr}");
    let all = format!("{stderr}{}", String::from_utf8_lossy(&output.stdout));
    assert!(!all.contains("hunter2"), "password leaked: {all}");
    assert!(
        !all.contains("panicked") && !all.contains("backtrace"),
        "{all}"
    );
    assert!(stderr.lines().count() <= 3, "short message: {stderr}");
}

#[test]
fn production_refuses_a_short_jwt_secret() {
    let output = binder()
        .env("ENVIRONMENT", "production")
        .env("BINDER_JWT_SECRET", "tooshort")
        .output()
        .expect("run binder");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("BINDER_JWT_SECRET must be set to at least 32 bytes"),
        "{stderr}"
    );
    assert!(!stderr.contains("tooshort"));
}

#[tokio::test]
async fn starts_degraded_without_redis_and_stops_gracefully_on_sigterm() {
    let url = support::fresh_database_url();
    let mut child = binder()
        .env("DATABASE_URL", &url)
        .env("REDIS_URL", "redis://127.0.0.1:1")
        .env("BINDER_ADMIN_PASSWORD", "startup-admin-password")
        .env("BINDER_ADDR", "127.0.0.1:0")
        .env("BINDER_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start binder");
    let stdout = lines(child.stdout.take().expect("stdout"));
    let stderr = lines(child.stderr.take().expect("stderr"));
    let mut seen = Vec::new();
    let banner = wait_for_line(&stderr, &mut seen, "Binder is running at http://");
    let base = banner
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("url in banner")
        .to_owned();
    let mut logs = Vec::new();
    let warning = wait_for_line(&stdout, &mut logs, "Redis is unreachable");
    let warning: serde_json::Value = serde_json::from_str(&warning).expect("JSON log line");
    assert_eq!(warning["level"], "WARN");
    wait_for_line(&stdout, &mut logs, r#""to":"ready""#);

    // The first admin came from BINDER_ADMIN_PASSWORD; /health's details need a session.
    let http = reqwest::Client::new();
    let login: serde_json::Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({ "username": "admin", "password": "startup-admin-password" }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["access_token"]
        .as_str()
        .expect("the first admin can sign in");
    let health: serde_json::Value = http
        .get(format!("{base}/health"))
        .bearer_auth(token)
        .send()
        .await
        .expect("health")
        .json()
        .await
        .expect("json");
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["redis_connected"], false);

    kill_term(&child);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "binder did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "exit status {status}");
    wait_for_line(&stdout, &mut logs, "shutdown requested");
    wait_for_line(&stdout, &mut logs, r#""to":"disconnected""#);
    wait_for_line(&stdout, &mut logs, r#""message":"stopped""#);
    assert!(
        reqwest::get(format!("{base}/livez")).await.is_err(),
        "listener closed"
    );
    support::drop_database(&url).await;
}

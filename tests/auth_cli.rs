//! `binder user …` through the real binary: the password comes from stdin, never from
//! arguments or output, and lands in the journal as an argon2id hash.

mod support;

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn binder(database_url: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_binder"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run binder");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test]
async fn users_are_managed_from_the_command_line_with_the_password_on_stdin() {
    let url = support::fresh_database_url();
    let password = "Cli-Password-9000";
    let out = binder(
        &url,
        &["user", "add", "Ann", "--role", "trader"],
        &format!("{password}\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("Created user ann with role trader"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains(password));

    let out = binder(&url, &["user", "add", "bob", "--role", "viewer"], "short\n");
    assert!(!out.status.success());
    assert!(
        text(&out).contains("at least 8 characters"),
        "{}",
        text(&out)
    );
    let out = binder(
        &url,
        &["user", "add", "ann", "--role", "viewer"],
        "another-password\n",
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("a user with this name exists"),
        "{}",
        text(&out)
    );
    let out = binder(
        &url,
        &["user", "add", "carl", "--role", "root"],
        "another-password\n",
    );
    assert!(!out.status.success(), "unknown roles are refused by clap");

    let out = binder(&url, &["user", "set-role", "ann", "admin"], "");
    assert!(out.status.success(), "{}", text(&out));
    let out = binder(&url, &["user", "list"], "");
    let listing = text(&out);
    assert!(
        listing.contains("ann") && listing.contains("admin"),
        "{listing}"
    );
    let out = binder(&url, &["user", "unlock", "nobody"], "");
    assert!(!out.status.success());
    assert!(text(&out).contains("no such user"));

    let pool = sqlx::PgPool::connect(&url).await.expect("journal");
    let hash: String = sqlx::query_scalar("select password_hash from users where username = 'ann'")
        .fetch_one(&pool)
        .await
        .expect("ann");
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    let actions: Vec<String> =
        sqlx::query_scalar("select action from audit_log where actor = 'cli' order by id")
            .fetch_all(&pool)
            .await
            .expect("audit");
    assert_eq!(actions, ["user_created", "role_changed"]);
    pool.close().await;
    support::drop_database(&url).await;
}

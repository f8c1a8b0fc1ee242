//! The journal: Postgres, the record of every order, event and fill. All SQL lives here.

pub mod archive;
pub mod audit;
pub mod idempotency;
pub mod orders;
pub mod snapshots;
pub mod users;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

use crate::config::redact_url;

/// Migrations embedded in the binary, applied at start-up and by `binder migrate`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long start-up waits for Postgres before giving up with advice.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the journal could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// DATABASE_URL does not parse.
    #[error("DATABASE_URL {url} is not a valid Postgres URL: {reason}")]
    InvalidUrl {
        /// The URL, password redacted.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Postgres did not answer or refused the connection.
    #[error(
        "cannot reach Postgres at {url}: {reason}. Start it (Debian: `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, \
         or install it with `apt-get install -y postgresql`) or set DATABASE_URL to a running server"
    )]
    Unreachable {
        /// The URL, password redacted.
        url: String,
        /// The driver's explanation.
        reason: String,
    },
    /// The database did not exist and could not be created.
    #[error("cannot create database {database} at {url}: {reason}")]
    CreateFailed {
        /// The database name.
        database: String,
        /// The URL, password redacted.
        url: String,
        /// The server's explanation.
        reason: String,
    },
    /// A migration failed.
    #[error("cannot apply the journal's migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The client order id is already used in this account.
    #[error("client_order_id is already used by order {existing_id}")]
    DuplicateClientOrderId {
        /// The order that has it.
        existing_id: String,
    },
    /// The journal holds something the code cannot read (a bug or manual editing).
    #[error("the journal holds unexpected data: {0}")]
    Corrupt(String),
    /// A query failed.
    #[error("journal query failed: {0}")]
    Query(#[from] sqlx::Error),
}

/// Connects to the journal, creating the database if it does not exist, and applies migrations.
pub async fn open(url: &str) -> Result<PgPool, JournalError> {
    let shown = redact_url(url);
    let options = PgConnectOptions::from_str(url).map_err(|err| JournalError::InvalidUrl {
        url: shown.clone(),
        reason: err.to_string(),
    })?;
    let options = options.log_statements(tracing::log::LevelFilter::Trace);
    ensure_database(&options, &shown).await?;
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(|err| unreachable(&shown, &err))?;
    MIGRATOR.run(&pool).await?;
    let instance = instance_id(&pool).await?;
    tracing::info!(database = %shown, %instance, "journal open");
    Ok(pool)
}

/// Whether Postgres answers a trivial query within a second.
pub async fn ping(pool: &PgPool) -> bool {
    let query = sqlx::query_scalar::<_, i32>("select 1").fetch_one(pool);
    matches!(
        tokio::time::timeout(Duration::from_secs(1), query).await,
        Ok(Ok(1))
    )
}

/// The journal's instance id, created on first use.
pub async fn instance_id(pool: &PgPool) -> Result<uuid::Uuid, JournalError> {
    sqlx::query("insert into binder_instance (instance_id) values ($1) on conflict do nothing")
        .bind(uuid::Uuid::new_v4())
        .execute(pool)
        .await?;
    Ok(
        sqlx::query_scalar("select instance_id from binder_instance")
            .fetch_one(pool)
            .await?,
    )
}

/// Creates the target database through the server's `postgres` database if it is missing.
async fn ensure_database(options: &PgConnectOptions, shown: &str) -> Result<(), JournalError> {
    let Some(database) = options.get_database().map(str::to_owned) else {
        return Ok(()); // No database named: the server's default for the user is used.
    };
    let admin = options.clone().database("postgres");
    let mut conn = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&admin))
        .await
        .map_err(|_| JournalError::Unreachable {
            url: shown.to_owned(),
            reason: format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
        })?
        .map_err(|err| unreachable(shown, &err))?;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(&database)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        let statement = format!("create database \"{}\"", database.replace('"', "\"\""));
        match sqlx::query(&statement).execute(&mut conn).await {
            Ok(_) => tracing::info!(%database, "created the journal database"),
            // Another process created it between our check and our create: that is fine.
            Err(sqlx::Error::Database(err)) if err.code().as_deref() == Some("42P04") => {}
            Err(err) => {
                return Err(JournalError::CreateFailed {
                    database,
                    url: shown.to_owned(),
                    reason: err.to_string(),
                });
            }
        }
    }
    conn.close().await.ok();
    Ok(())
}

fn unreachable(shown: &str, err: &sqlx::Error) -> JournalError {
    JournalError::Unreachable {
        url: shown.to_owned(),
        reason: err.to_string(),
    }
}

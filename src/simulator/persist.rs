//! `--state FILE`: the book (open orders, completed orders, executions, account, id
//! counters) as JSON, written atomically whenever it changed and at shutdown.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::warn;

use super::exchange::{Exchange, Persisted};

/// How often the saver looks for changes.
const SAVE_EVERY: Duration = Duration::from_millis(500);

/// Reads the state file; a missing file is a fresh start.
pub fn load(path: &Path) -> io::Result<Option<Persisted>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "simulator state file {} is not valid: {e}; move it away to start fresh",
                    path.display()
                ),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!("cannot read simulator state file {}: {e}", path.display()),
        )),
    }
}

/// Writes the state file atomically (temp file + rename).
pub fn save(path: &Path, state: &Persisted) -> io::Result<()> {
    let json = serde_json::to_vec_pretty(state).map_err(io::Error::other)?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, json)?;
    std::fs::rename(&tmp, path)
}

/// Saves whenever the exchange changed, until `stop`.
pub async fn saver(path: PathBuf, exchange: Arc<Exchange>, stop: CancellationToken) {
    let mut interval = tokio::time::interval(SAVE_EVERY);
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = interval.tick() => {}
        }
        if exchange.is_dirty() {
            let snapshot = exchange.snapshot();
            let path = path.clone();
            // File I/O off the async workers.
            let result = tokio::task::spawn_blocking(move || save(&path, &snapshot)).await;
            if let Ok(Err(e)) | Err(e) = result.map_err(io::Error::other) {
                warn!(error = %e, "could not save simulator state");
            }
        }
    }
}

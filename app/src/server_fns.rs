//! Server functions: the UI's calls into the server's use-case layer.

use leptos::prelude::*;

use crate::domain::HealthReport;

/// The current health report (same as `GET /health`).
#[server(prefix = "/api/fn", endpoint = "health")]
pub async fn get_health() -> Result<HealthReport, ServerFnError> {
    let desk = use_context::<crate::ports::SharedDesk>()
        .ok_or_else(|| ServerFnError::new("the desk is not available"))?;
    Ok(desk.health().await)
}

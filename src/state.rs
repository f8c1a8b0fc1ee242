//! The one application state every handler and server function shares.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::auth::Auth;
use crate::config::Settings;
use crate::desk::Desk;

/// Shared state: cheap to clone (everything inside is reference-counted).
#[derive(Clone)]
pub struct AppState {
    /// The settings the process started with.
    pub settings: Arc<Settings>,
    /// The use-case layer.
    pub desk: Arc<Desk>,
    /// Users, sessions, tokens and permissions.
    pub auth: Arc<Auth>,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// Leptos rendering options (site root, output name).
    pub leptos: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

//! Server functions: the UI's calls into the server's use-case layer.
//!
//! Every one is declared with its access in [`crate::access::SERVER_FN_ACCESS`]; the server
//! enforces that table before the function runs, and the functions that act for a person
//! check again through [`require`]. All take JSON bodies, which a cross-origin form cannot send.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use crate::access::Role;
use crate::access::SessionUser;
use crate::domain::HealthReport;

/// The signed-in person, as the server resolved them for this request.
#[cfg(feature = "ssr")]
fn session_user() -> Option<SessionUser> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<SessionUser>().cloned())
}

/// The signed-in person if their role includes `role`; an error otherwise.
#[cfg(feature = "ssr")]
pub fn require(role: Role) -> Result<SessionUser, ServerFnError> {
    match session_user() {
        Some(user) if user.role.allows(role) => Ok(user),
        Some(_) => Err(ServerFnError::new(format!("this needs the {role} role"))),
        None => Err(ServerFnError::new("sign in first")),
    }
}

/// The current health report (same as `GET /health`).
#[server(prefix = "/api/fn", endpoint = "health", input = Json)]
pub async fn get_health() -> Result<HealthReport, ServerFnError> {
    require(Role::Viewer)?;
    let desk = use_context::<crate::ports::SharedDesk>()
        .ok_or_else(|| ServerFnError::new("the desk is not available"))?;
    Ok(desk.health().await)
}

/// Who is signed in.
#[server(prefix = "/api/fn", endpoint = "whoami", input = Json)]
pub async fn whoami() -> Result<SessionUser, ServerFnError> {
    require(Role::Viewer)
}

/// Signs in: sets the session cookies.
#[server(prefix = "/api/fn", endpoint = "login", input = Json)]
pub async fn login(username: String, password: String) -> Result<SessionUser, ServerFnError> {
    let sessions = use_context::<crate::ports::SharedSessions>()
        .ok_or_else(|| ServerFnError::new("sign-in is not available"))?;
    let response = expect_context::<leptos_axum::ResponseOptions>();
    let (user, cookies) = sessions
        .login(username, password)
        .await
        .map_err(ServerFnError::new)?;
    for cookie in cookies {
        response.append_header(http::header::SET_COOKIE, cookie);
    }
    Ok(user)
}

/// Signs out: ends the session and clears its cookies.
#[server(prefix = "/api/fn", endpoint = "logout", input = Json)]
pub async fn logout() -> Result<(), ServerFnError> {
    let sessions = use_context::<crate::ports::SharedSessions>()
        .ok_or_else(|| ServerFnError::new("sign-out is not available"))?;
    let headers = use_context::<http::request::Parts>()
        .map(|p| p.headers)
        .unwrap_or_default();
    let response = expect_context::<leptos_axum::ResponseOptions>();
    for cookie in sessions.logout(headers).await {
        response.append_header(http::header::SET_COOKIE, cookie);
    }
    Ok(())
}

/// How to create the first admin, while no user exists.
#[server(prefix = "/api/fn", endpoint = "login_hint", input = Json)]
pub async fn login_hint() -> Result<Option<String>, ServerFnError> {
    let sessions = use_context::<crate::ports::SharedSessions>()
        .ok_or_else(|| ServerFnError::new("sign-in is not available"))?;
    Ok(sessions.first_admin_hint().await)
}

//! The sign-in page, and the signed-in person's name with a sign-out button for the top bar.

use leptos::html;
use leptos::prelude::*;

use crate::server_fns::{Login, Logout, login_hint, whoami};

/// The message of a server function error, without the framework's prefix.
fn message(err: &ServerFnError) -> String {
    match err {
        ServerFnError::ServerError(m) => m.clone(),
        other => other.to_string(),
    }
}

/// Loads a new page from the server, so it renders with the new (or no) session.
fn go(path: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().set_href(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

/// `/login`: username and password; the only page open without a session.
#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let hint = Resource::new(|| (), |()| login_hint());
    let username: NodeRef<html::Input> = NodeRef::new();
    let password: NodeRef<html::Input> = NodeRef::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = login.value().get() {
            go("/");
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Some(u), Some(p)) = (username.get(), password.get()) else {
            return;
        };
        login.dispatch(Login {
            username: u.value(),
            password: p.value(),
        });
    };
    view! {
        <h1>"Sign in"</h1>
        <Suspense fallback=|| ()>
            {move || {
                hint.get()
                    .and_then(Result::ok)
                    .flatten()
                    .map(|h| view! { <p class="notice" data-testid="first-admin-hint">{h}</p> })
            }}
        </Suspense>
        <form class="login" on:submit=submit>
            <label>
                "Username"
                <input type="text" name="username" autocomplete="username" required node_ref=username />
            </label>
            <label>
                "Password"
                <input
                    type="password"
                    name="password"
                    autocomplete="current-password"
                    required
                    node_ref=password
                />
            </label>
            <button type="submit" disabled=move || login.pending().get()>
                "Sign in"
            </button>
        </form>
        {move || {
            login
                .value()
                .get()
                .and_then(Result::err)
                .map(|e| view! { <p class="error" role="alert">{message(&e)}</p> })
        }}
    }
}

/// The signed-in person and a sign-out button (empty on the login page).
#[component]
pub fn UserBadge() -> impl IntoView {
    let me = Resource::new(|| (), |()| whoami());
    let logout = ServerAction::<Logout>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            go("/login");
        }
    });
    view! {
        <Suspense fallback=|| ()>
            {move || {
                me.get()
                    .and_then(Result::ok)
                    .map(|user| {
                        view! {
                            <span class="user">
                                <span data-testid="current-user">{user.username}</span>
                                " (" {user.role.as_str()} ") "
                                <button
                                    type="button"
                                    class="linkish"
                                    on:click=move |_| {
                                        logout.dispatch(Logout {});
                                    }
                                >
                                    "Sign out"
                                </button>
                            </span>
                        }
                    })
            }}
        </Suspense>
    }
}

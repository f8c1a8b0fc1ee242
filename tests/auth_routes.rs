//! The route table: every REST route, server function and page, and the role each needs.
//!
//! The expected matrix below is the specification. Adding a route, a server function or a
//! page without adding it here fails this test, and so does declaring a different role.

mod auth_common;
mod support;

use std::collections::BTreeMap;

use app::access::{Access, Role, SERVER_FN_ACCESS};
use auth_common::{admin_token, post, start};
use serde_json::{Value, json};
use support::TestApp;

const PUBLIC: &str = "public";
const VIEWER: &str = "viewer";
const TRADER: &str = "trader";
const ADMIN: &str = "admin";

/// (method, path, who may call it).
const REST: &[(&str, &str, &str)] = &[
    ("GET", "/livez", PUBLIC),
    ("GET", "/readyz", PUBLIC),
    ("GET", "/health", PUBLIC),
    ("GET", "/metrics", PUBLIC),
    ("POST", "/api/v1/auth/login", PUBLIC),
    ("POST", "/api/v1/auth/refresh", PUBLIC),
    ("GET", "/api/v1/auth/me", VIEWER),
    ("POST", "/api/v1/auth/logout", VIEWER),
    ("GET", "/api/v1/users", ADMIN),
    ("POST", "/api/v1/users", ADMIN),
    ("PATCH", "/api/v1/users/{username}", ADMIN),
    ("POST", "/api/v1/users/{username}/unlock", ADMIN),
    ("GET", "/api/v1/tokens", ADMIN),
    ("POST", "/api/v1/tokens", ADMIN),
    ("DELETE", "/api/v1/tokens/{id}", ADMIN),
    ("GET", "/api/v1/audit", ADMIN),
    ("POST", "/api/v1/orders", TRADER),
    ("GET", "/api/v1/orders", VIEWER),
    ("DELETE", "/api/v1/orders", TRADER),
    ("GET", "/api/v1/orders/{id}", VIEWER),
    ("DELETE", "/api/v1/orders/{id}", TRADER),
    ("GET", "/api/v1/fills", VIEWER),
    ("GET", "/api/v1/positions", VIEWER),
    ("GET", "/api/v1/clock", VIEWER),
    ("GET", "/api/v1/quotes/{symbol}", VIEWER),
    ("GET", "/api/v1/quotes/{symbol}/stream", VIEWER),
    ("GET", "/api/v1/events", VIEWER),
    ("GET", "/openapi.json", PUBLIC),
    ("GET", "/docs", PUBLIC),
    ("PATCH", "/api/v1/orders/{id}", TRADER),
    (
        "GET",
        "/api/v1/orders/by-client-id/{client_order_id}",
        VIEWER,
    ),
    ("GET", "/api/v1/positions/{symbol}", VIEWER),
    ("DELETE", "/api/v1/positions/{symbol}", TRADER),
    ("GET", "/api/v1/accounts", VIEWER),
    ("GET", "/api/v1/accounts/{id}/summary", VIEWER),
    ("GET", "/api/v1/accounts/{id}/pnl", VIEWER),
    ("GET", "/api/v1/bars/{symbol}", VIEWER),
    ("GET", "/api/v1/contracts", VIEWER),
];

/// Server functions and who may call them.
const SERVER_FNS: &[(&str, &str)] = &[
    ("/api/fn/health", VIEWER),
    ("/api/fn/whoami", VIEWER),
    ("/api/fn/login", PUBLIC),
    ("/api/fn/logout", PUBLIC),
    ("/api/fn/login_hint", PUBLIC),
    ("/api/fn/orders", VIEWER),
    ("/api/fn/place_order", TRADER),
    ("/api/fn/cancel_order", TRADER),
    ("/api/fn/cancel_all", TRADER),
    ("/api/fn/fills", VIEWER),
    ("/api/fn/positions", VIEWER),
    ("/api/fn/quote", VIEWER),
];

/// Pages: every one but the login page needs a session (any role).
const PAGES: &[(&str, &str)] = &[
    ("/", VIEWER),
    ("/orders", VIEWER),
    ("/positions", VIEWER),
    ("/admin", VIEWER),
    ("/status", VIEWER),
    ("/login", PUBLIC),
];

fn access_name(access: Access) -> &'static str {
    match access {
        Access::Public => PUBLIC,
        Access::Role(Role::Viewer) => VIEWER,
        Access::Role(Role::Trader) => TRADER,
        Access::Role(Role::Admin) => ADMIN,
    }
}

fn rank(name: &str) -> Option<Role> {
    match name {
        VIEWER => Some(Role::Viewer),
        TRADER => Some(Role::Trader),
        ADMIN => Some(Role::Admin),
        _ => None,
    }
}

#[tokio::test]
async fn the_registry_declares_exactly_the_expected_routes_and_roles() {
    let settings = support::settings(&[]);
    let declared: BTreeMap<(String, String), &str> = binder::api::route_table(&settings)
        .specs()
        .iter()
        .map(|s| {
            (
                (s.method.to_string(), s.path.to_owned()),
                access_name(s.access),
            )
        })
        .collect();
    let expected: BTreeMap<(String, String), &str> = REST
        .iter()
        .map(|(m, p, a)| (((*m).to_owned(), (*p).to_owned()), *a))
        .collect();
    assert_eq!(
        declared, expected,
        "update REST in this test with the new route's role"
    );

    let declared: BTreeMap<&str, &str> = SERVER_FN_ACCESS
        .iter()
        .map(|(p, a)| (*p, access_name(*a)))
        .collect();
    let expected: BTreeMap<&str, &str> = SERVER_FNS.iter().copied().collect();
    assert_eq!(declared, expected);

    // Every server function the app registers is in the table (an undeclared one is refused
    // at run time; this catches it at test time).
    let mut registered: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .collect();
    registered.sort();
    let mut listed: Vec<String> = SERVER_FNS.iter().map(|(p, _)| (*p).to_owned()).collect();
    listed.sort();
    assert_eq!(
        registered, listed,
        "declare the server function in SERVER_FN_ACCESS"
    );

    let mut pages: Vec<String> = leptos_axum::generate_route_list(app::App)
        .iter()
        .map(|r| r.path().to_owned())
        .collect();
    pages.sort();
    let mut listed: Vec<String> = PAGES.iter().map(|(p, _)| (*p).to_owned()).collect();
    listed.sort();
    assert_eq!(pages, listed, "add the page to PAGES");

    let metrics_closed = support::settings(&["--metrics-require-auth", "true"]);
    let spec = binder::api::route_table(&metrics_closed)
        .specs()
        .iter()
        .find(|s| s.path == "/metrics")
        .map(|s| s.access);
    assert_eq!(spec, Some(Access::Role(Role::Viewer)));
}

async fn api_token(app: &TestApp, admin: &str, role: &str) -> String {
    let res = post(
        app,
        "/api/v1/tokens",
        Some(admin),
        json!({ "name": format!("matrix-{role}"), "role": role }),
    )
    .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.expect("json");
    body["token"].as_str().expect("token").to_owned()
}

async fn call(app: &TestApp, method: &str, path: &str, token: Option<&str>) -> u16 {
    let url = app.url(
        &path
            .replace("{username}", "nobody")
            .replace("{id}", "0")
            .replace("{symbol}", "AAPL")
            .replace("{client_order_id}", "none"),
    );
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = app.http.request(method.clone(), url);
    if method != reqwest::Method::GET {
        req = req.json(&json!({}));
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("request").status().as_u16()
}

#[tokio::test]
async fn every_route_admits_exactly_its_roles() {
    let app = start(&[]).await;
    let admin = admin_token(&app).await;
    let callers = [
        (None, None),
        (
            Some(api_token(&app, &admin, VIEWER).await),
            Some(Role::Viewer),
        ),
        (
            Some(api_token(&app, &admin, TRADER).await),
            Some(Role::Trader),
        ),
        (
            Some(api_token(&app, &admin, ADMIN).await),
            Some(Role::Admin),
        ),
    ];
    for (method, path, needs) in REST {
        for (token, role) in &callers {
            let status = call(&app, method, path, token.as_deref()).await;
            let admitted = match rank(needs) {
                None => true,
                Some(required) => role.is_some_and(|r| r.allows(required)),
            };
            let who = role.map_or("anonymous", Role::as_str);
            if admitted {
                assert!(
                    status != 401 && status != 403,
                    "{method} {path} as {who}: {status}, expected to pass"
                );
            } else {
                let expected = if role.is_none() { 401 } else { 403 };
                assert_eq!(status, expected, "{method} {path} as {who}");
            }
        }
    }

    // Server functions: anonymous callers reach only the public ones.
    let origin = format!("http://{}", app.addr);
    for (path, needs) in SERVER_FNS {
        let body = if *path == "/api/fn/login" {
            json!({ "username": "nobody", "password": "nothing-here" })
        } else {
            json!({})
        };
        let res = app
            .http
            .post(app.url(path))
            .header("origin", &origin)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        if *needs == PUBLIC {
            assert!(status != 401 && status != 403, "{path}: {status}");
        } else {
            assert_eq!(status, 401, "{path}");
        }
    }
    // Signed-in callers (cookie sessions, as the UI has) reach exactly their roles' functions.
    for role in [Role::Viewer, Role::Trader] {
        let name = format!("fn-{}", role.as_str());
        let password = format!("{name}-password");
        let res = post(
            &app,
            "/api/v1/users",
            Some(&admin),
            json!({ "username": name, "password": password, "role": role.as_str() }),
        )
        .await;
        assert_eq!(res.status(), 201);
        let res = app
            .http
            .post(app.url("/api/fn/login"))
            .header("origin", &origin)
            .json(&json!({ "username": name, "password": password }))
            .send()
            .await
            .expect("login");
        assert_eq!(res.status(), 200);
        let cookies: Vec<String> = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next().map(str::to_owned))
            .collect();
        let cookies = cookies.join("; ");
        for (path, needs) in SERVER_FNS {
            // The public ones were called above; logout would end this session.
            let Some(required) = rank(needs) else {
                continue;
            };
            let res = app
                .http
                .post(app.url(path))
                .header("origin", &origin)
                .header("cookie", &cookies)
                .json(&json!({}))
                .send()
                .await
                .expect("request");
            let status = res.status().as_u16();
            if role.allows(required) {
                assert!(status != 401 && status != 403, "{path} as {role}: {status}");
            } else {
                assert_eq!(status, 403, "{path} as {role}");
            }
        }
    }

    // An undeclared server function path is refused, not served.
    let res = app
        .http
        .post(app.url("/api/fn/undeclared"))
        .header("origin", &origin)
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    assert!(matches!(status, 403..=405), "{status}");

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for (page, needs) in PAGES {
        let status = http.get(app.url(page)).send().await.expect("get").status();
        if *needs == PUBLIC {
            assert_eq!(status, 200, "{page}");
        } else {
            assert_eq!(status, 303, "{page} redirects to the login page");
        }
    }
    app.stop().await;
}

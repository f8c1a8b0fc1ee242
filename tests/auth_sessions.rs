//! Sign-in, sessions and tokens through HTTP against the real app: login, refresh rotation and
//! reuse detection, logout, forged and expired JWTs, API tokens, throttling and lockout, the
//! audit log, the first admin, and /health's details.

mod auth_common;
mod support;

use std::time::Duration;

use auth_common::{
    ADMIN_PASSWORD, JWT_SECRET, admin_token, expect_error, get, login, post, start, user_token,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use support::TestApp;

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("json"))
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64")).expect("claims")
}

fn sign(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .expect("sign")
}

#[tokio::test]
async fn login_me_refresh_rotation_reuse_and_logout() {
    let app = start(&[]).await;
    let issued = login(&app, "Admin", ADMIN_PASSWORD).await;
    assert_eq!(issued["token_type"], "Bearer");
    assert_eq!(issued["role"], "admin");
    let expires_in = issued["expires_in"].as_u64().expect("expires_in");
    assert!(expires_in > 0 && expires_in <= 900, "{issued}");
    let access = issued["access_token"].as_str().expect("access").to_owned();
    let refresh1 = issued["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let claims = claims_of(&access);
    assert_eq!(claims["iss"], "binder");
    assert_eq!(claims["aud"], "binder-api");
    assert!(claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat") <= 900);

    let me: Value = get(&app, "/api/v1/auth/me", Some(&access))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["username"], "admin");
    assert_eq!(me["role"], "admin");
    assert_eq!(me["credential"], "session");

    // Wrong password and unknown user look the same.
    let bad = json!({ "username": "admin", "password": "nope-nope-nope" });
    expect_error(
        post(&app, "/api/v1/auth/login", None, bad).await,
        401,
        "INVALID_CREDENTIALS",
    )
    .await;
    let ghost = json!({ "username": "ghost", "password": "nope-nope-nope" });
    expect_error(
        post(&app, "/api/v1/auth/login", None, ghost).await,
        401,
        "INVALID_CREDENTIALS",
    )
    .await;

    // Rotation: the refresh token buys a new pair once.
    let res = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({ "refresh_token": refresh1 }),
    )
    .await;
    assert_eq!(res.status(), 200);
    let second: Value = res.json().await.expect("json");
    let refresh2 = second["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let access2 = second["access_token"].as_str().expect("access").to_owned();
    assert_ne!(refresh1, refresh2);
    assert_eq!(
        get(&app, "/api/v1/auth/me", Some(&access2)).await.status(),
        200
    );

    // Reuse of the spent token revokes the family: the successor and its access token die.
    let res = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({ "refresh_token": refresh1 }),
    )
    .await;
    expect_error(res, 401, "REFRESH_TOKEN_REUSED").await;
    let res = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({ "refresh_token": refresh2 }),
    )
    .await;
    expect_error(res, 401, "UNAUTHENTICATED").await;
    expect_error(
        get(&app, "/api/v1/auth/me", Some(&access2)).await,
        401,
        "UNAUTHENTICATED",
    )
    .await;
    expect_error(
        get(&app, "/api/v1/auth/me", Some(&access)).await,
        401,
        "UNAUTHENTICATED",
    )
    .await;

    // Logout ends the session at once, before the access token expires.
    let fresh = login(&app, "admin", ADMIN_PASSWORD).await;
    let token = fresh["access_token"].as_str().expect("access");
    let res = post(&app, "/api/v1/auth/logout", Some(token), json!({})).await;
    assert_eq!(res.status(), 204);
    expect_error(
        get(&app, "/api/v1/auth/me", Some(token)).await,
        401,
        "UNAUTHENTICATED",
    )
    .await;
    let res = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({ "refresh_token": fresh["refresh_token"] }),
    )
    .await;
    expect_error(res, 401, "UNAUTHENTICATED").await;

    let garbage = json!({ "refresh_token": "not-a-token" });
    expect_error(
        post(&app, "/api/v1/auth/refresh", None, garbage).await,
        401,
        "UNAUTHENTICATED",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn forged_expired_and_tampered_tokens_are_refused() {
    let app = start(&[]).await;
    let good = admin_token(&app).await;
    assert_eq!(get(&app, "/api/v1/users", Some(&good)).await.status(), 200);
    let claims = claims_of(&good);
    let now = chrono::Utc::now().timestamp();

    // alg none, with and without a signature part.
    let none_header = json!({ "alg": "none", "typ": "JWT" });
    for forged in [
        format!("{}.{}.", b64(&none_header), b64(&claims)),
        format!("{}.{}", b64(&none_header), b64(&claims)),
    ] {
        expect_error(
            get(&app, "/api/v1/users", Some(&forged)).await,
            401,
            "UNAUTHENTICATED",
        )
        .await;
    }
    // Another key.
    let wrong_key = sign(&claims, b"some-other-secret-that-is-32-bytes-long");
    expect_error(
        get(&app, "/api/v1/users", Some(&wrong_key)).await,
        401,
        "UNAUTHENTICATED",
    )
    .await;
    // HS512 with the right key: not on the allow-list.
    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .expect("sign");
    expect_error(
        get(&app, "/api/v1/users", Some(&hs512)).await,
        401,
        "UNAUTHENTICATED",
    )
    .await;
    // Tampered payload (role and subject changed), original signature kept.
    let mut elevated = claims.clone();
    elevated["role"] = json!("admin");
    elevated["sub"] = json!("999");
    let parts: Vec<&str> = good.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], b64(&elevated), parts[2]);
    expect_error(
        get(&app, "/api/v1/users", Some(&tampered)).await,
        401,
        "UNAUTHENTICATED",
    )
    .await;
    // Expired, not yet valid, wrong issuer, wrong audience: all signed with the right key.
    let mut expired = claims.clone();
    expired["iat"] = json!(now - 3600);
    expired["nbf"] = json!(now - 3600);
    expired["exp"] = json!(now - 1800);
    let mut future = claims.clone();
    future["nbf"] = json!(now + 3600);
    future["exp"] = json!(now + 7200);
    let mut issuer = claims.clone();
    issuer["iss"] = json!("someone-else");
    let mut audience = claims.clone();
    audience["aud"] = json!("other-api");
    let mut no_exp = claims.clone();
    no_exp.as_object_mut().expect("object").remove("exp");
    for (what, c) in [
        ("expired", expired),
        ("nbf in the future", future),
        ("issuer", issuer),
        ("audience", audience),
        ("no exp", no_exp),
    ] {
        let token = sign(&c, JWT_SECRET.as_bytes());
        let res = get(&app, "/api/v1/users", Some(&token)).await;
        assert_eq!(res.status(), 401, "{what}");
    }
    // Not a bearer credential at all.
    let res = app
        .http
        .get(app.url("/api/v1/users"))
        .header("authorization", format!("Basic {good}"))
        .send()
        .await
        .expect("request");
    expect_error(res, 401, "UNAUTHENTICATED").await;
    // Anonymous.
    expect_error(
        get(&app, "/api/v1/users", None).await,
        401,
        "UNAUTHENTICATED",
    )
    .await;
    // The metric counts the failures by bounded reason.
    let metrics = get(&app, "/metrics", None)
        .await
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("auth_failures_total{reason=\"invalid_token\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("auth_failures_total{reason=\"expired_token\"}"),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test]
async fn api_tokens_are_shown_once_work_until_revoked_and_record_their_use() {
    let app = start(&[]).await;
    let admin = admin_token(&app).await;
    let res = post(
        &app,
        "/api/v1/tokens",
        Some(&admin),
        json!({ "name": "bot-1", "role": "viewer" }),
    )
    .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.expect("json");
    let token = created["token"].as_str().expect("token").to_owned();
    assert!(token.starts_with("bnd_"));
    let id = created["id"].as_i64().expect("id");
    assert!(created["last_used_at"].is_null());

    let me: Value = get(&app, "/api/v1/auth/me", Some(&token))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["username"], "bot-1");
    assert_eq!(me["role"], "viewer");
    assert_eq!(me["credential"], "api_token");
    // A viewer token cannot administer.
    expect_error(
        get(&app, "/api/v1/tokens", Some(&token)).await,
        403,
        "FORBIDDEN",
    )
    .await;

    let listed: Value = get(&app, "/api/v1/tokens", Some(&admin))
        .await
        .json()
        .await
        .expect("json");
    let row = &listed.as_array().expect("array")[0];
    assert_eq!(row["name"], "bot-1");
    assert!(
        row.get("token").is_none(),
        "the secret is shown once: {row}"
    );
    assert!(row["last_used_at"].is_string(), "{row}");
    let listing = listed.to_string();
    assert!(!listing.contains(&token));

    let dup = post(
        &app,
        "/api/v1/tokens",
        Some(&admin),
        json!({ "name": "bot-1", "role": "viewer" }),
    )
    .await;
    expect_error(dup, 409, "TOKEN_NAME_TAKEN").await;

    let res = app
        .http
        .delete(app.url(&format!("/api/v1/tokens/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 204);
    expect_error(
        get(&app, "/api/v1/auth/me", Some(&token)).await,
        401,
        "UNAUTHENTICATED",
    )
    .await;
    let missing = app
        .http
        .delete(app.url("/api/v1/tokens/999999"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("request");
    expect_error(missing, 404, "NOT_FOUND").await;

    let audit: Value = get(&app, "/api/v1/audit", Some(&admin))
        .await
        .json()
        .await
        .expect("json");
    let actions: Vec<&str> = audit
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for expected in ["token_created", "token_revoked", "login_succeeded"] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    assert!(
        !audit.to_string().contains(&token),
        "the audit log never holds a token"
    );
    app.stop().await;
}

#[tokio::test]
async fn failed_logins_are_delayed_then_lock_the_account_until_an_admin_unlocks_it() {
    let app = start(&["--login-lock-after", "7"]).await;
    let admin = admin_token(&app).await;
    user_token(&app, &admin, "carol", "trader").await;
    let wrong = json!({ "username": "carol", "password": "wrong-password" });
    for _ in 0..5 {
        let res = post(&app, "/api/v1/auth/login", None, wrong.clone()).await;
        expect_error(res, 401, "INVALID_CREDENTIALS").await;
    }
    // From the fifth failure on, the next attempt has to wait; even the right password.
    let right = json!({ "username": "carol", "password": "carol-password" });
    let res = post(&app, "/api/v1/auth/login", None, right.clone()).await;
    assert_eq!(res.headers()["retry-after"], "1");
    expect_error(res, 429, "LOGIN_THROTTLED").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    expect_error(
        post(&app, "/api/v1/auth/login", None, wrong.clone()).await,
        401,
        "INVALID_CREDENTIALS",
    )
    .await;
    let res = post(&app, "/api/v1/auth/login", None, wrong.clone()).await;
    assert_eq!(res.headers()["retry-after"], "2", "the delay doubles");
    expect_error(res, 429, "LOGIN_THROTTLED").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    // The seventh failure locks the account; then even the right password is refused.
    expect_error(
        post(&app, "/api/v1/auth/login", None, wrong.clone()).await,
        423,
        "ACCOUNT_LOCKED",
    )
    .await;
    expect_error(
        post(&app, "/api/v1/auth/login", None, right.clone()).await,
        423,
        "ACCOUNT_LOCKED",
    )
    .await;

    let users: Value = get(&app, "/api/v1/users", Some(&admin))
        .await
        .json()
        .await
        .expect("json");
    let carol = users
        .as_array()
        .expect("array")
        .iter()
        .find(|u| u["username"] == "carol")
        .expect("carol");
    assert_eq!(carol["locked"], true);
    assert!(carol.get("password_hash").is_none());

    // A trader cannot unlock; an admin can.
    let trader = user_token(&app, &admin, "dave", "trader").await;
    let res = post(&app, "/api/v1/users/carol/unlock", Some(&trader), json!({})).await;
    expect_error(res, 403, "FORBIDDEN").await;
    let res = post(&app, "/api/v1/users/carol/unlock", Some(&admin), json!({})).await;
    assert_eq!(res.status(), 204);
    login(&app, "carol", "carol-password").await;

    let audit: Value = get(&app, "/api/v1/audit?action=account_locked", Some(&admin))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(audit.as_array().expect("array").len(), 1, "{audit}");
    assert_eq!(audit[0]["subject"], "carol");
    let unlocked: Value = get(&app, "/api/v1/audit?action=account_unlocked", Some(&admin))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(unlocked[0]["actor"], "admin");
    let metrics = get(&app, "/metrics", None)
        .await
        .text()
        .await
        .expect("text");
    for reason in ["bad_password", "throttled", "locked", "forbidden"] {
        assert!(
            metrics.contains(&format!("auth_failures_total{{reason=\"{reason}\"}}")),
            "{reason}: {metrics}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn role_changes_take_effect_at_once_and_are_audited() {
    let app = start(&[]).await;
    let admin = admin_token(&app).await;
    let erin = user_token(&app, &admin, "erin", "viewer").await;
    let me: Value = get(&app, "/api/v1/auth/me", Some(&erin))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["role"], "viewer");
    let res = app
        .http
        .patch(app.url("/api/v1/users/erin"))
        .bearer_auth(&admin)
        .json(&json!({ "role": "trader" }))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    // A role change ends the user's sessions: sign in again to act with the new role.
    expect_error(
        get(&app, "/api/v1/auth/me", Some(&erin)).await,
        401,
        "UNAUTHENTICATED",
    )
    .await;
    let again = login(&app, "erin", "erin-password").await;
    assert_eq!(again["role"], "trader");

    let res = app
        .http
        .patch(app.url("/api/v1/users/erin"))
        .bearer_auth(&admin)
        .json(&json!({ "disabled": true }))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let res = post(
        &app,
        "/api/v1/auth/login",
        None,
        json!({ "username": "erin", "password": "erin-password" }),
    )
    .await;
    expect_error(res, 401, "INVALID_CREDENTIALS").await;

    let dup = post(
        &app,
        "/api/v1/users",
        Some(&admin),
        json!({ "username": "erin", "password": "whatever-123", "role": "viewer" }),
    )
    .await;
    expect_error(dup, 409, "USERNAME_TAKEN").await;
    let short = post(
        &app,
        "/api/v1/users",
        Some(&admin),
        json!({ "username": "frank", "password": "short", "role": "viewer" }),
    )
    .await;
    let body = expect_error(short, 422, "VALIDATION_FAILED").await;
    assert_eq!(body["details"]["field"], "password");
    let bad_role = post(
        &app,
        "/api/v1/users",
        Some(&admin),
        json!({ "username": "frank", "password": "long-enough", "role": "root" }),
    )
    .await;
    expect_error(bad_role, 422, "INVALID_JSON").await;

    let audit: Value = get(&app, "/api/v1/audit?action=role_changed", Some(&admin))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(audit[0]["subject"], "erin");
    assert_eq!(audit[0]["details"]["from"], "viewer");
    assert_eq!(audit[0]["details"]["to"], "trader");
    app.stop().await;
}

#[tokio::test]
async fn health_shows_details_only_to_a_signed_in_caller() {
    let app = start(&[]).await;
    let anonymous: Value = get(&app, "/health", None).await.json().await.expect("json");
    assert_eq!(
        anonymous.as_object().expect("object").len(),
        1,
        "{anonymous}"
    );
    assert!(anonymous["status"].is_string());
    let token = admin_token(&app).await;
    let full: Value = get(&app, "/health", Some(&token))
        .await
        .json()
        .await
        .expect("json");
    assert!(full["db_connected"].is_boolean(), "{full}");
    assert_eq!(full["version"], env!("CARGO_PKG_VERSION"));
    // A bad token on an open route is simply anonymous.
    let res = get(&app, "/health", Some("bogus")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(get(&app, "/livez", None).await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn without_users_or_admin_password_nobody_can_sign_in() {
    let app = TestApp::start(&[]).await;
    let res = post(
        &app,
        "/api/v1/auth/login",
        None,
        json!({ "username": "admin", "password": "anything-at-all" }),
    )
    .await;
    expect_error(res, 401, "INVALID_CREDENTIALS").await;
    // The login page tells how to create the first admin.
    let html = get(&app, "/login", None).await.text().await.expect("html");
    assert!(
        html.contains("binder user add admin --role admin"),
        "{html}"
    );
    app.stop().await;
}

#[tokio::test]
async fn metrics_can_require_a_token() {
    let app = start(&["--metrics-require-auth", "true"]).await;
    expect_error(get(&app, "/metrics", None).await, 401, "UNAUTHENTICATED").await;
    let token = admin_token(&app).await;
    assert_eq!(get(&app, "/metrics", Some(&token)).await.status(), 200);
    assert_eq!(get(&app, "/livez", None).await.status(), 200);
    app.stop().await;
}

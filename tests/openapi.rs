//! `/openapi.json` and `/docs` over HTTP: the document is OpenAPI 3.1, names every route the
//! router serves with the access the registry declares, and has the order schemas; the docs
//! page loads only this server's files. The document is also written to `target/openapi.json`
//! for the schema validation in `tests/python`.

mod support;

use serde_json::Value;
use support::TestApp;

async fn fetch_document(app: &TestApp) -> Value {
    let res = app.get("/openapi.json").await;
    assert_eq!(res.status(), 200);
    res.json().await.expect("json")
}

#[tokio::test]
async fn the_document_describes_every_route_of_the_router() {
    let app = TestApp::start(&[]).await;
    let doc = fetch_document(&app).await;
    // For the schema validation in tests/python, which has the OpenAPI 3.1 meta-schema.
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/openapi.json");
    std::fs::create_dir_all(out.parent().expect("target dir")).expect("target dir");
    std::fs::write(&out, serde_json::to_vec_pretty(&doc).expect("json")).expect("write spec");
    let version = doc["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3.1."), "{version}");

    let table = binder::api::route_table(&app.running_state.settings);
    assert!(
        table.specs().len() > 20,
        "the registry has the API's routes"
    );
    let mut missing = Vec::new();
    for spec in table.specs() {
        let method = spec.method.as_str().to_ascii_lowercase();
        let operation = &doc["paths"][spec.path][&method];
        if operation.is_null() {
            missing.push(format!("{} {}", spec.method, spec.path));
            continue;
        }
        // The access in the document is the registry's.
        let security = operation["security"].as_array().expect("security declared");
        match spec.access {
            binder::auth::Access::Public => {
                assert!(security.is_empty(), "{} {}", spec.method, spec.path);
            }
            binder::auth::Access::Role(_) => {
                assert!(
                    security.iter().any(|s| s.get("bearer").is_some()),
                    "{} {}",
                    spec.method,
                    spec.path
                );
                assert!(operation["responses"]["401"].is_object());
                assert!(operation["responses"]["403"].is_object());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routes missing from /openapi.json: {missing:?}"
    );

    let mut ids: Vec<&str> = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("path item").values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "operation ids are unique");

    let schemes = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(schemes["scheme"], "bearer");
    assert_eq!(schemes["bearerFormat"], "JWT");

    let schemas = &doc["components"]["schemas"];
    for name in ["OrderRequestInput", "OrderView", "Envelope", "ErrorCode"] {
        assert!(schemas[name].is_object(), "schema {name} missing");
    }
    let codes = schemas["ErrorCode"]["enum"].as_array().expect("codes");
    for code in [
        "IDEMPOTENCY_KEY_REUSED",
        "IDEMPOTENCY_KEY_IN_FLIGHT",
        "INVALID_ORDER",
    ] {
        assert!(codes.iter().any(|c| c == code), "{code} not in {codes:?}");
    }
    assert!(schemas["OrderView"]["properties"]["client_order_id"].is_object());
    assert!(schemas["OrderRequestInput"]["properties"]["qty"].is_object());

    let place = &doc["paths"]["/api/v1/orders"]["post"];
    let params = place["parameters"].as_array().expect("parameters");
    assert!(
        params
            .iter()
            .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"),
        "{place}"
    );
    for status in ["201", "409", "422"] {
        assert!(
            place["responses"][status].is_object(),
            "{status} of POST /orders"
        );
    }

    app.stop().await;
}

#[tokio::test]
async fn the_docs_page_loads_swagger_ui_from_this_server_only() {
    let app = TestApp::start(&[]).await;
    let res = app.get("/docs").await;
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(csp.contains("script-src 'self' 'sha256-"), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    let html = res.text().await.expect("html");
    assert!(html.contains("/docs/swagger-ui-bundle.js"));
    assert!(html.contains("url: \"/openapi.json\""));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no remote URL"
    );
    app.stop().await;
}

//! The OpenAPI 3.1 description of the REST API at `/openapi.json`, generated from the handlers'
//! `#[utoipa::path]` annotations and completed from the route registry, and the Swagger UI page
//! at `/docs` that renders it without any network beyond this server.
//!
//! Who may call each operation comes from the registry (the same declarations the router is
//! built from), so the document cannot claim an access the router does not enforce. The
//! Swagger UI files come from the npm package `swagger-ui-dist`, which the build copies into
//! `<site-root>/docs/`; the static file service serves them from there.

use axum::extract::State;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};
use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    Content, ObjectBuilder, OpenApi as Document, Ref, Required, ResponseBuilder, Type,
};

use super::error::Envelope;
use super::{audit, auth, events, health, idempotency, orders, tokens, users};
use crate::auth::Access;
use crate::auth::routes::{RouteSpec, Routes};
use crate::state::AppState;

/// The name of the bearer security scheme in the document.
pub const BEARER: &str = "bearer";

/// The annotated operations and the shared schemas; access, the bearer scheme and the errors
/// every route can answer are added by [`document`].
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Binder",
        description = "Binder's REST API: orders, positions, quotes and events in front of \
                       Interactive Brokers. Decimals are JSON strings; times are RFC 3339 UTC. \
                       Every error is the `Envelope` with a stable `error_code`. \
                       POST, PATCH and DELETE under /api/v1 accept an `Idempotency-Key` \
                       (1-255 printable ASCII characters, kept 24 h per caller)."
    ),
    paths(
        health::livez,
        health::readyz,
        health::health,
        health::prometheus,
        auth::login,
        auth::refresh,
        auth::logout,
        auth::me,
        users::list,
        users::create,
        users::update,
        users::unlock,
        tokens::list,
        tokens::create,
        tokens::revoke,
        audit::list,
        super::quotes::snapshot,
        super::quotes::stream,
        events::events,
        orders::place,
        orders::list,
        orders::cancel_all,
        orders::get_one,
        orders::modify,
        orders::cancel,
        orders::by_client_id,
        orders::fills,
        orders::positions,
        orders::position,
        orders::close_position,
        orders::accounts,
        orders::account_summary,
        orders::pnl,
        orders::bars,
        orders::contracts,
        orders::clock,
        openapi_json,
        docs_page,
    ),
    components(schemas(Envelope, super::error::ErrorCode)),
    tags(
        (name = "health", description = "Probes and metrics"),
        (name = "auth", description = "Sessions: sign in, refresh, sign out"),
        (name = "users", description = "User administration (admin)"),
        (name = "tokens", description = "API tokens for bots (admin)"),
        (name = "audit", description = "The audit log (admin)"),
        (name = "orders", description = "Orders, fills, positions"),
        (name = "quotes", description = "Market data"),
        (name = "events", description = "The live event stream"),
        (name = "docs", description = "This document and its viewer"),
    )
)]
struct ApiDoc;

/// The routes of this module: both public, because they describe the API and hold no data;
/// every operation they describe still needs its own role.
pub fn routes() -> Routes {
    Routes::new()
        .get("/openapi.json", Access::Public, openapi_json)
        .get("/docs", Access::Public, docs_page)
}

/// The whole document for the routes in `specs`.
pub fn document(specs: &[RouteSpec]) -> Document {
    let mut doc = ApiDoc::openapi();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "An access token from /api/v1/auth/login, or an API token (`bnd_…`)",
                ))
                .build(),
        ),
    );
    for spec in specs {
        let Some(item) = doc.paths.paths.get_mut(spec.path) else {
            continue;
        };
        let operation = match spec.method {
            Method::GET => item.get.as_mut(),
            Method::POST => item.post.as_mut(),
            Method::PUT => item.put.as_mut(),
            Method::PATCH => item.patch.as_mut(),
            Method::DELETE => item.delete.as_mut(),
            _ => None,
        };
        if let Some(operation) = operation {
            complete(operation, spec);
        }
    }
    doc
}

/// Adds what the registry knows to one operation: its access, the authentication errors, the
/// idempotency header and its errors, and the internal error.
fn complete(operation: &mut Operation, spec: &RouteSpec) {
    // Handlers in different modules share names (`list`, `create`): the tag makes the
    // operation ids unique, as OpenAPI requires and client generators expect.
    if let (Some(tag), Some(id)) = (
        operation.tags.as_ref().and_then(|t| t.first()),
        operation.operation_id.as_ref(),
    ) && !id.starts_with(tag.as_str())
    {
        operation.operation_id = Some(format!("{tag}_{id}"));
    }
    match spec.access {
        Access::Public => operation.security = Some(Vec::new()),
        Access::Role(role) => {
            operation.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
            let note = format!("Needs the `{}` role.", role.as_str());
            operation.description = Some(match operation.description.take() {
                Some(text) if !text.is_empty() => format!("{text}\n\n{note}"),
                _ => note,
            });
            add_error(
                operation,
                401,
                "`UNAUTHENTICATED`: no valid session or token",
            );
            add_error(
                operation,
                403,
                "`FORBIDDEN`: the caller's role is not enough (`details.required_role`)",
            );
        }
    }
    if operation.request_body.is_some() {
        // What `ApiJson` answers before the handler sees the body.
        add_error(operation, 400, "`MALFORMED_JSON`: the body is not JSON");
        add_error(
            operation,
            413,
            "`PAYLOAD_TOO_LARGE`: the body exceeds the size limit",
        );
        add_error(
            operation,
            415,
            "`UNSUPPORTED_MEDIA_TYPE`: send `Content-Type: application/json`",
        );
        add_error(
            operation,
            422,
            "`INVALID_JSON`: the body does not match the schema (`details.reason`)",
        );
    }
    if idempotency::covers(&spec.method, spec.path) {
        let header = ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Replays the first answer for 24 h when the same caller sends the same request \
                 again with this key (the replay carries `Idempotent-Replayed: true`)",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(idempotency::MAX_KEY_LEN)),
            ))
            .build();
        operation
            .parameters
            .get_or_insert_with(Vec::new)
            .push(header);
        add_error(
            operation,
            400,
            "`INVALID_IDEMPOTENCY_KEY`: not 1 to 255 printable ASCII characters",
        );
        add_error(
            operation,
            409,
            "`IDEMPOTENCY_KEY_IN_FLIGHT`: the first request with this key still runs (`Retry-After`)",
        );
        add_error(
            operation,
            422,
            "`IDEMPOTENCY_KEY_REUSED`: the key was used with a different request",
        );
    }
    if spec.path.starts_with("/api/") {
        add_error(
            operation,
            500,
            "`INTERNAL`: the request id identifies the cause in the server log",
        );
    }
}

/// Adds an error response with the envelope, or appends the code to one already declared for
/// the status.
fn add_error(operation: &mut Operation, status: u16, description: &str) {
    use utoipa::openapi::RefOr;
    let key = status.to_string();
    match operation.responses.responses.get_mut(&key) {
        Some(RefOr::T(existing)) => {
            existing.description = format!("{}; or {description}", existing.description);
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            let response = ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    Content::new(Some(Ref::from_schema_name("Envelope"))),
                )
                .build();
            operation
                .responses
                .responses
                .insert(key, RefOr::T(response));
        }
    }
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "docs",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = serde_json::Value)))]
async fn openapi_json(State(state): State<AppState>) -> Response {
    let table = super::route_table(&state.settings);
    axum::Json(document(table.specs())).into_response()
}

/// The Swagger UI page itself (with its start-up script inline, allowed by its hash).
const DOCS_HTML: &str = include_str!("docs.html");
/// The script that starts Swagger UI, inlined into [`DOCS_HTML`] at `/*BINDER_DOCS_SCRIPT*/`.
const DOCS_SCRIPT: &str = include_str!("docs.js");

/// Swagger UI, rendering `/openapi.json`, from files served by this server only.
#[utoipa::path(get, path = "/docs", tag = "docs",
    responses((status = 200, description = "Swagger UI (HTML)", body = String, content_type = "text/html")))]
async fn docs_page() -> Response {
    let page = DOCS_HTML.replace("/*BINDER_DOCS_SCRIPT*/", DOCS_SCRIPT);
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(DOCS_SCRIPT));
    // The app's page policy plus the one inline script; Swagger UI styles its elements from
    // script, which `style-src` would otherwise refuse.
    let policy = format!(
        "default-src 'self'; script-src 'self' 'sha256-{hash}'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (header::CONTENT_SECURITY_POLICY, policy),
        ],
        page,
    )
        .into_response()
}

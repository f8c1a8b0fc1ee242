//! Resolving the caller of a request and enforcing a route's [`Access`]: the middleware every
//! registered route passes, and the extractors handlers use to learn who is calling.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use secrecy::{ExposeSecret, SecretString};

use super::{Access, Auth, AuthError, Principal, Role, cookies};
use crate::api::error::{AppError, ErrorCode};
use crate::metrics::{AuthFailure, record_auth_failure};
use crate::state::AppState;

/// The outcome of looking at a request's credentials.
pub struct Resolution {
    /// Who is calling, if anyone could be verified.
    pub principal: Option<Principal>,
    /// Why a presented credential was refused (answered only when the route needs a role).
    pub error: Option<AuthError>,
    /// Cookies to set on the response (a transparently refreshed or a cleared session).
    pub set_cookies: Vec<HeaderValue>,
}

impl Resolution {
    fn anonymous() -> Self {
        Self {
            principal: None,
            error: None,
            set_cookies: Vec::new(),
        }
    }
}

/// Reads `Authorization: Bearer …` first; without it, the session cookies, refreshing an
/// expired access cookie with the refresh cookie.
pub async fn resolve(auth: &Auth, headers: &HeaderMap) -> Resolution {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let bearer = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim);
        let Some(bearer) = bearer.filter(|b| !b.is_empty()) else {
            record_auth_failure(AuthFailure::InvalidToken);
            return Resolution {
                error: Some(AuthError::Unauthenticated(
                    "send credentials as `Authorization: Bearer <token>`",
                )),
                ..Resolution::anonymous()
            };
        };
        return match auth.authenticate(bearer).await {
            Ok(p) => Resolution {
                principal: Some(p),
                ..Resolution::anonymous()
            },
            Err(e) => Resolution {
                error: Some(e),
                ..Resolution::anonymous()
            },
        };
    }
    let secure = auth.secure_cookies();
    let access = cookies::read(headers, cookies::session_name(secure));
    let refresh = cookies::read(headers, cookies::refresh_name(secure));
    let mut first_error = None;
    if let Some(access) = &access {
        match auth.authenticate_jwt(access.expose_secret()).await {
            Ok(p) => {
                return Resolution {
                    principal: Some(p),
                    ..Resolution::anonymous()
                };
            }
            Err(e) => first_error = Some(e),
        }
    }
    let Some(refresh) = refresh else {
        return Resolution {
            error: first_error,
            set_cookies: if access.is_some() {
                cookies::clearing_cookies(secure)
            } else {
                Vec::new()
            },
            ..Resolution::anonymous()
        };
    };
    match refresh_session(auth, &refresh).await {
        Ok((principal, set_cookies)) => Resolution {
            principal: Some(principal),
            error: None,
            set_cookies,
        },
        // Another request refreshed a moment ago: its response carries the new cookies.
        Err(e @ AuthError::RefreshRace) => Resolution {
            error: Some(e),
            ..Resolution::anonymous()
        },
        Err(e) => Resolution {
            error: Some(e),
            set_cookies: cookies::clearing_cookies(secure),
            ..Resolution::anonymous()
        },
    }
}

async fn refresh_session(
    auth: &Auth,
    refresh: &SecretString,
) -> Result<(Principal, Vec<HeaderValue>), AuthError> {
    let issued = auth.refresh_cookie(refresh).await?;
    let principal = auth.authenticate_jwt(&issued.access_token).await?;
    let set = cookies::session_cookies(
        &issued.access_token,
        auth.access_ttl(),
        &issued.refresh_token,
        auth.refresh_ttl(),
        auth.secure_cookies(),
    );
    Ok((principal, set))
}

/// Decides whether a caller may pass `access`; the error to answer otherwise.
pub fn check(access: Access, resolution: &mut Resolution) -> Result<(), AppError> {
    let Access::Role(required) = access else {
        return Ok(());
    };
    match &resolution.principal {
        Some(p) if p.role.allows(required) => Ok(()),
        Some(_) => {
            record_auth_failure(AuthFailure::Forbidden);
            Err(AuthError::Forbidden(required).into())
        }
        None => Err(resolution
            .error
            .take()
            .unwrap_or(AuthError::Unauthenticated(
                "sign in, or send `Authorization: Bearer <token>`",
            ))
            .into()),
    }
}

/// Middleware of every registered route: resolves the caller, enforces the route's access,
/// and leaves the [`Principal`] in the request for the handler.
pub async fn enforce(
    State((state, access)): State<(AppState, Access)>,
    mut req: Request,
    next: Next,
) -> Response {
    let mut resolution = resolve(&state.auth, req.headers()).await;
    let mut response = match check(access, &mut resolution) {
        Ok(()) => {
            if let Some(p) = resolution.principal.clone() {
                req.extensions_mut().insert(p);
            }
            next.run(req).await
        }
        Err(err) => err.into_response(),
    };
    append_cookies(&mut response, resolution.set_cookies);
    response
}

/// Adds `Set-Cookie` headers to a response.
pub fn append_cookies(response: &mut Response, cookies: Vec<HeaderValue>) {
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
}

/// The verified caller of a route that needs a role. Registered routes have already checked
/// the role; [`Authenticated::require`] lets a handler demand more for part of its work.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

impl Authenticated {
    /// Fails with FORBIDDEN unless the caller's role includes `role`.
    pub fn require(&self, role: Role) -> Result<&Principal, AppError> {
        if self.0.role.allows(role) {
            Ok(&self.0)
        } else {
            record_auth_failure(AuthFailure::Forbidden);
            Err(AuthError::Forbidden(role).into())
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Self)
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::Unauthenticated,
                    "sign in, or send `Authorization: Bearer <token>`",
                )
            })
    }
}

/// The caller of a public route, if one was verified.
#[derive(Debug, Clone)]
pub struct MaybeAuthenticated(pub Option<Principal>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeAuthenticated {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<Principal>().cloned()))
    }
}

//! The route registry: every REST route is declared with its method, path and [`Access`], and
//! the router is built from the declarations, so a route cannot exist without a role and the
//! route-table test sees every route.

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, on};

use super::{Access, extract};
use crate::state::AppState;

/// One declared route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    /// The HTTP method.
    pub method: Method,
    /// The path pattern, axum syntax (`/api/v1/users/{username}`).
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
}

type Install = Box<dyn FnOnce(Router<AppState>, &AppState) -> Router<AppState> + Send>;

/// A set of declared routes, turned into a router with [`Routes::into_router`].
#[derive(Default)]
pub struct Routes {
    specs: Vec<RouteSpec>,
    installs: Vec<Install>,
}

impl Routes {
    /// No routes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares `method path` with its access and handler.
    pub fn route<H, T>(
        mut self,
        method: Method,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = match MethodFilter::try_from(method.clone()) {
            Ok(filter) => filter,
            // Only the standard methods are used; an exotic one would be a programming error
            // that the route-table test catches, so it is declared but never served.
            Err(_) => return self,
        };
        self.specs.push(RouteSpec {
            method,
            path,
            access,
        });
        self.installs.push(Box::new(move |router, state| {
            let guard =
                axum::middleware::from_fn_with_state((state.clone(), access), extract::enforce);
            router.route(path, on(filter, handler).route_layer(guard))
        }));
        self
    }

    /// Declares a GET route.
    pub fn get<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.route(Method::GET, path, access, handler)
    }

    /// Declares a POST route.
    pub fn post<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.route(Method::POST, path, access, handler)
    }

    /// Declares a PATCH route.
    pub fn patch<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.route(Method::PATCH, path, access, handler)
    }

    /// Declares a DELETE route.
    pub fn delete<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.route(Method::DELETE, path, access, handler)
    }

    /// Adds another module's routes.
    pub fn merge(mut self, other: Routes) -> Self {
        self.specs.extend(other.specs);
        self.installs.extend(other.installs);
        self
    }

    /// The declarations, for the route table and its test.
    pub fn specs(&self) -> &[RouteSpec] {
        &self.specs
    }

    /// The router, each route behind its access guard.
    pub fn into_router(self, state: &AppState) -> Router<AppState> {
        self.installs
            .into_iter()
            .fold(Router::new(), |router, install| install(router, state))
    }
}

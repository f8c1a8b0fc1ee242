//! Roles and access levels, shared by the server (which enforces them) and the UI (which
//! shows what a person may do), plus the access table of every server function.

use serde::{Deserialize, Serialize};

/// What a person or a token may do. Ordered: each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    /// Reads everything; trades nothing.
    Viewer,
    /// Also places, modifies and cancels orders and closes positions.
    Trader,
    /// Also manages users, tokens, risk limits and the kill switch.
    Admin,
}

impl Role {
    /// Every role, least privileged first.
    pub const ALL: [Self; 3] = [Self::Viewer, Self::Trader, Self::Admin];

    /// The lowercase name used in JSON, the database and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Trader => "trader",
            Self::Admin => "admin",
        }
    }

    /// Parses a lowercase role name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// Whether this role includes `required`.
    pub fn allows(self, required: Self) -> bool {
        self >= required
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who may call a route or a server function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "role")]
pub enum Access {
    /// Anyone, without a session (health probes, login).
    Public,
    /// Anyone holding a session or token whose role includes this one.
    Role(Role),
}

impl Access {
    /// Whether a caller with `role` (None: anonymous) may pass.
    pub fn admits(self, role: Option<Role>) -> bool {
        match self {
            Self::Public => true,
            Self::Role(required) => role.is_some_and(|r| r.allows(required)),
        }
    }
}

/// The signed-in person as the server resolved it for this request (inserted into the
/// request's extensions by the server; read by server functions and pages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    /// The username.
    pub username: String,
    /// The role in force.
    pub role: Role,
}

/// Every server function's path and the access it needs. The server refuses a server
/// function that is missing here, and the route-table test fails, so a new one cannot ship
/// without a declared role.
pub const SERVER_FN_ACCESS: &[(&str, Access)] = &[
    ("/api/fn/health", Access::Role(Role::Viewer)),
    ("/api/fn/whoami", Access::Role(Role::Viewer)),
    ("/api/fn/login", Access::Public),
    ("/api/fn/logout", Access::Public),
    ("/api/fn/login_hint", Access::Public),
    ("/api/fn/orders", Access::Role(Role::Viewer)),
    ("/api/fn/place_order", Access::Role(Role::Trader)),
    ("/api/fn/cancel_order", Access::Role(Role::Trader)),
    ("/api/fn/cancel_all", Access::Role(Role::Trader)),
    ("/api/fn/fills", Access::Role(Role::Viewer)),
    ("/api/fn/positions", Access::Role(Role::Viewer)),
    ("/api/fn/quote", Access::Role(Role::Viewer)),
];

/// The access a server function path needs; `None` for an undeclared one.
pub fn server_fn_access(path: &str) -> Option<Access> {
    SERVER_FN_ACCESS
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, a)| *a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_include_the_lesser_ones() {
        assert!(Role::Admin.allows(Role::Trader));
        assert!(Role::Trader.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Trader));
        assert!(!Access::Role(Role::Viewer).admits(None));
        assert!(Access::Public.admits(None));
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
    }
}

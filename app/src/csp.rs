//! The Content-Security-Policy of Binder's pages and API, in one place.
//!
//! Pages allow scripts from this origin plus the one inline module script that starts
//! hydration, identified by a per-response nonce, and WebAssembly compilation
//! (`'wasm-unsafe-eval'`); nothing may frame them.

/// The policy of JSON and other non-HTML responses: nothing may load or frame anything.
pub const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// The policy of an HTML page; `nonce` is the hydration script's, when the page has one.
pub fn policy(nonce: Option<&str>) -> String {
    let scripts = match nonce {
        Some(nonce) => format!("'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
        None => "'self' 'wasm-unsafe-eval'".to_owned(),
    };
    format!(
        "default-src 'self'; script-src {scripts}; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sets the page's CSP with the nonce Leptos gives its inline scripts (server side only).
#[cfg(feature = "ssr")]
pub fn provide_page_policy() {
    use leptos::prelude::use_context;
    let nonce = leptos::nonce::use_nonce();
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(value) = http::HeaderValue::from_str(&policy(nonce.as_deref()))
    {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nonce_is_in_the_script_source() {
        let p = policy(Some("abc"));
        assert!(
            p.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"),
            "{p}"
        );
        assert!(p.contains("frame-ancestors 'none'"));
        assert!(!policy(None).contains("nonce"));
    }
}

//! The UI's sessions port: sign-in and sign-out for the Leptos server functions, on the same
//! auth core as the REST API.

use axum::http::{HeaderMap, HeaderValue};
use secrecy::SecretString;

use app::ports::BoxFuture;

use super::{Auth, AuthError, FIRST_ADMIN_HINT, SessionUser, cookies, extract};

impl app::ports::Sessions for Auth {
    fn login(
        &self,
        username: String,
        password: String,
    ) -> BoxFuture<'_, Result<(SessionUser, Vec<HeaderValue>), String>> {
        let password = SecretString::from(password);
        Box::pin(async move {
            match Auth::login(self, &username, password).await {
                Ok(issued) => {
                    let set = cookies::session_cookies(
                        &issued.access_token,
                        self.access_ttl(),
                        &issued.refresh_token,
                        self.refresh_ttl(),
                        self.secure_cookies(),
                    );
                    let user = SessionUser {
                        username: issued.username,
                        role: issued.role,
                    };
                    Ok((user, set))
                }
                Err(
                    err @ (AuthError::Journal(_) | AuthError::Password(_) | AuthError::Sign(_)),
                ) => {
                    tracing::error!(error = %err, "sign-in failed");
                    Err("sign-in failed on the server; the log has the details".to_owned())
                }
                Err(err) => Err(err.to_string()),
            }
        })
    }

    fn logout(&self, headers: HeaderMap) -> BoxFuture<'_, Vec<HeaderValue>> {
        Box::pin(async move {
            let secure = self.secure_cookies();
            let resolution = extract::resolve(self, &headers).await;
            let ended = match &resolution.principal {
                Some(p) => Auth::logout(self, p).await,
                None => match cookies::read(&headers, cookies::refresh_name(secure)) {
                    Some(refresh) => self.logout_refresh(&refresh).await,
                    None => Ok(()),
                },
            };
            if let Err(err) = ended {
                tracing::error!(error = %err, "cannot end the session");
            }
            cookies::clearing_cookies(secure)
        })
    }

    fn first_admin_hint(&self) -> BoxFuture<'_, Option<String>> {
        Box::pin(async move {
            self.needs_first_admin()
                .await
                .then(|| FIRST_ADMIN_HINT.to_owned())
        })
    }
}

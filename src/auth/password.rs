//! Password hashing with argon2id (m = 19456 KiB, t = 2, p = 1), off the async runtime.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};

/// Shortest password accepted for a new account.
pub const MIN_LENGTH: usize = 8;
/// Longest password accepted (argon2 takes any length; this bounds the work per request).
pub const MAX_LENGTH: usize = 1024;

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// argon2 refused (never expected with fixed parameters).
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The blocking task did not finish.
    #[error("password hashing task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// The hasher with Binder's parameters (OWASP's argon2id recommendation).
fn hasher() -> Result<Argon2<'static>, PasswordError> {
    let params = Params::new(19_456, 2, 1, None).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Checks a new password's length; the message is shown to the person choosing it.
pub fn check_policy(password: &SecretString) -> Result<(), String> {
    let len = password.expose_secret().chars().count();
    if len < MIN_LENGTH {
        return Err(format!(
            "the password must have at least {MIN_LENGTH} characters"
        ));
    }
    if password.expose_secret().len() > MAX_LENGTH {
        return Err(format!("the password must have at most {MAX_LENGTH} bytes"));
    }
    Ok(())
}

/// Hashes a password into a PHC string, on a blocking thread (argon2 takes tens of ms).
pub async fn hash(password: SecretString) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()?
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| PasswordError::Hash(e.to_string()))
    })
    .await?
}

/// Whether `password` matches the stored PHC string, on a blocking thread. A malformed
/// stored hash counts as a mismatch (and is logged, without the hash).
pub async fn verify(password: SecretString, stored: String) -> Result<bool, PasswordError> {
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&stored) else {
            tracing::error!("a stored password hash is not a valid PHC string");
            return Ok(false);
        };
        Ok(hasher()?
            .verify_password(password.expose_secret().as_bytes(), &parsed)
            .is_ok())
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_argon2id_and_verifies() {
        let stored = hash(SecretString::from("correct horse"))
            .await
            .expect("hash");
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(
            verify(SecretString::from("correct horse"), stored.clone())
                .await
                .expect("verify")
        );
        assert!(
            !verify(SecretString::from("wrong horse"), stored)
                .await
                .expect("verify")
        );
        assert!(
            !verify(SecretString::from("x"), "garbage".into())
                .await
                .expect("verify")
        );
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_policy(&SecretString::from("short")).is_err());
        assert!(check_policy(&SecretString::from("long enough")).is_ok());
    }
}

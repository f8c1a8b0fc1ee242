//! Access tokens: HS256 JWTs with an algorithm allow-list and exp, nbf, iss and aud checked.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The `iss` Binder puts in and requires.
pub const ISSUER: &str = "binder";
/// The `aud` Binder puts in and requires.
pub const AUDIENCE: &str = "binder-api";
/// Clock skew tolerated on exp and nbf, in seconds.
const LEEWAY_SECS: u64 = 5;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user's id.
    pub sub: String,
    /// The username (for display; the role is re-read from the journal on each request).
    pub name: String,
    /// The role at issue time.
    pub role: String,
    /// The session (refresh token family) this token belongs to.
    pub sid: Uuid,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expires at.
    pub exp: i64,
    /// The token's own id.
    pub jti: Uuid,
}

/// Why an access token was refused (the reason is a bounded metric label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Past its `exp`.
    #[error("the access token has expired")]
    Expired,
    /// Anything else: bad signature, wrong algorithm, wrong issuer or audience, not yet valid,
    /// malformed.
    #[error("the access token is not valid")]
    Invalid,
}

/// The signing and verification keys (one HMAC secret).
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl Keys {
    /// Keys from a secret of at least 32 bytes (the caller checks the length).
    pub fn new(secret: &[u8]) -> Self {
        // Only HS256 is accepted: a token naming `none`, RS256 or anything else fails before
        // its signature is looked at, which closes the alg-none and key-confusion attacks.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// Signs claims.
    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
    }

    /// Verifies a token and returns its claims.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(now: i64, ttl: i64) -> Claims {
        Claims {
            sub: "1".into(),
            name: "ann".into(),
            role: "viewer".into(),
            sid: Uuid::new_v4(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            nbf: now,
            exp: now + ttl,
            jti: Uuid::new_v4(),
        }
    }

    #[test]
    fn round_trips_and_refuses_other_keys_and_expired_tokens() {
        let keys = Keys::new(&[7; 32]);
        let now = chrono::Utc::now().timestamp();
        let c = claims(now, 60);
        let token = keys.sign(&c).expect("sign");
        assert_eq!(keys.verify(&token), Ok(c.clone()));
        assert_eq!(Keys::new(&[8; 32]).verify(&token), Err(TokenError::Invalid));
        let old = keys.sign(&claims(now - 600, 60)).expect("sign");
        assert_eq!(keys.verify(&old), Err(TokenError::Expired));
        let mut wrong_aud = c;
        wrong_aud.aud = "someone-else".into();
        let token = keys.sign(&wrong_aud).expect("sign");
        assert_eq!(keys.verify(&token), Err(TokenError::Invalid));
    }
}

//! Opaque tokens: random refresh and API tokens, and the SHA-256 digests stored in their place.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// Every API token starts with this, so a bearer credential's kind is clear without a lookup
/// and a leaked token is easy to recognise in secret scanners.
pub const API_TOKEN_PREFIX: &str = "bnd_";

/// Random bytes from the thread's CSPRNG (ChaCha, seeded from the OS).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0_u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// URL-safe base64 without padding.
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of a token. Tokens carry 256 random bits, so a fast digest is enough to make the
/// stored value useless to someone who reads the table.
pub fn sha256(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Compares a presented token with a stored digest in constant time.
pub fn hash_matches(presented: &str, stored: &[u8]) -> bool {
    sha256(presented).ct_eq(stored).into()
}

/// A new API token, `bnd_` + 43 characters.
pub fn new_api_token() -> SecretString {
    SecretString::from(format!(
        "{API_TOKEN_PREFIX}{}",
        encode(&random_bytes::<32>())
    ))
}

/// Whether a bearer credential is an API token (rather than a JWT).
pub fn is_api_token(bearer: &str) -> bool {
    bearer.starts_with(API_TOKEN_PREFIX)
}

/// A refresh token: `<jti>.<secret>`. The jti finds the row; the whole token is hashed.
pub struct RefreshToken {
    /// The row's id.
    pub jti: Uuid,
    token: SecretString,
}

impl RefreshToken {
    /// A fresh token.
    pub fn generate() -> Self {
        let jti = Uuid::new_v4();
        let token = format!("{}.{}", jti.simple(), encode(&random_bytes::<32>()));
        Self {
            jti,
            token: SecretString::from(token),
        }
    }

    /// The digest to store.
    pub fn hash(&self) -> Vec<u8> {
        sha256(self.token.expose_secret())
    }

    /// The token, to hand to the client once.
    pub fn expose(&self) -> String {
        self.token.expose_secret().to_owned()
    }

    /// The jti of a presented token, if it has the right shape.
    pub fn jti_of(presented: &str) -> Option<Uuid> {
        let (jti, secret) = presented.split_once('.')?;
        if secret.len() < 40 {
            return None;
        }
        Uuid::parse_str(jti).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_carry_their_id_and_match_only_themselves() {
        let t = RefreshToken::generate();
        let shown = t.expose();
        assert_eq!(RefreshToken::jti_of(&shown), Some(t.jti));
        assert!(hash_matches(&shown, &t.hash()));
        assert!(!hash_matches(&format!("{shown}x"), &t.hash()));
        assert_eq!(RefreshToken::jti_of("nonsense"), None);
    }

    #[test]
    fn api_tokens_are_recognisable_and_distinct() {
        let a = new_api_token();
        let b = new_api_token();
        assert!(is_api_token(a.expose_secret()));
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_eq!(a.expose_secret().len(), 4 + 43);
    }
}

//! Password hashing (Argon2id) and random secrets. Hashing is deliberately slow, so it runs
//! on the blocking pool, never on the async workers that serve requests.

use crate::{AppError, Result};
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// OWASP's Argon2id baseline: 19 MiB, 2 passes, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str) -> Result<String> {
    let hash: Result<PasswordHash, _> = argon2().hash_password(password.as_bytes());
    hash.map(|h| h.to_string()).map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
}

/// A PHC-format Argon2id hash of `password`.
pub async fn hash_password(password: &str) -> Result<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
}

/// Whether `password` matches `phc`. A malformed stored hash never matches.
pub async fn verify_password(password: &str, phc: &str) -> bool {
    let (password, phc) = (password.to_owned(), phc.to_owned());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&phc).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
    })
    .await
    .unwrap_or(false)
}

/// A hash to verify against when the account does not exist, so that a login for an unknown
/// name costs the same time as one for a known name.
pub(crate) fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking("watchkeeper-timing-equaliser").unwrap_or_default())
}

/// `n` random bytes, URL-safe base64 without padding.
pub fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A password people can type: 20 characters from an alphabet without look-alikes.
pub(crate) fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20).map(|_| char::from(ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()])).collect()
}

/// Session ids and token secrets are stored only as this hash. They are long random strings,
/// so a fast hash is enough; a slow one would make every request slow.
pub(crate) fn fast_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let h = hash_password("correct horse battery").await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("correct horse battery", &h).await);
        assert!(!verify_password("correct horse batterY", &h).await);
        assert!(!verify_password("x", "not a hash").await);
    }

    #[test]
    fn random_secrets_differ() {
        assert_ne!(random_token(32), random_token(32));
        assert_eq!(random_password().len(), 20);
    }
}

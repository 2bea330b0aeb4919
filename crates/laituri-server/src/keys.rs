//! Integration keys and their scopes, independent of any database.
//!
//! Two kinds of callers use the integration API: the warehouse's operator (an admin key: master
//! data, enrolment, keys, every merchant's views) and each merchant's systems (a merchant key:
//! only that merchant's products, notices, orders, stock, receipts and exceptions). The server's
//! configured admin key (`--admin-key`) is the first admin key; with it the operator makes the
//! others (`POST /api/v1/admin/keys`), each shown once and stored only as the SHA-256 of the key.
//! A key is 32 random bytes, so a fast hash is enough: nobody can guess it from the hash, unlike a
//! PIN of a few digits, which is hashed with Argon2id.

use laituri_protocol::{ApiKeyRequest, KeyScope};
use uuid::Uuid;

use crate::enrolment::{checked_note, new_token, token_hash};
use crate::store::Scope;

/// What every key starts with, so a key pasted in the wrong place (a log, a repository) is
/// recognisable as a Laituri key.
pub const KEY_PREFIX: &str = "lk_";

/// A new random key: the prefix and 32 bytes from the thread's CSPRNG, hex encoded.
pub fn new_key() -> String {
    format!("{KEY_PREFIX}{}", new_token())
}

/// The hash a key is stored and looked up by.
pub fn key_hash(key: &str) -> String {
    token_hash(key)
}

/// A checked key to store: its listing id, hash and scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyToStore {
    /// Time-ordered, so listing by id lists oldest first.
    pub id: Uuid,
    pub key_hash: String,
    pub scope: KeyScope,
    pub merchant_id: Option<String>,
    pub note: Option<String>,
}

impl KeyToStore {
    /// The key `key` with the scope of the request, checked; the error says what to send.
    pub fn requested(key: &str, req: &ApiKeyRequest) -> Result<KeyToStore, String> {
        let merchant_id = req
            .merchant_id
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_string);
        match (req.scope, &merchant_id) {
            (KeyScope::Merchant, None) => {
                return Err(
                    "a merchant key needs merchant_id: the merchant whose data the key \
                            may read and change"
                        .into(),
                );
            }
            (KeyScope::Admin, Some(_)) => {
                return Err(
                    "an admin key is for the whole warehouse: leave merchant_id out, or \
                            ask for scope \"merchant\""
                        .into(),
                );
            }
            _ => {}
        }
        let note = checked_note(req.note.as_deref())?;
        Ok(KeyToStore {
            id: Uuid::now_v7(),
            key_hash: key_hash(key),
            scope: req.scope,
            merchant_id,
            note,
        })
    }
}

/// The scope a stored key grants.
pub fn scope_of(scope: KeyScope, merchant_id: Option<String>) -> Option<Scope> {
    match (scope, merchant_id) {
        (KeyScope::Admin, None) => Some(Scope::Warehouse),
        (KeyScope::Merchant, Some(m)) => Some(Scope::Merchant(m)),
        // The schema forbids both; a row that has one grants nothing.
        _ => None,
    }
}

/// The stored form of a scope, and back.
pub fn scope_str(scope: KeyScope) -> &'static str {
    match scope {
        KeyScope::Admin => "admin",
        KeyScope::Merchant => "merchant",
    }
}

pub fn parse_scope(text: &str) -> Option<KeyScope> {
    match text {
        "admin" => Some(KeyScope::Admin),
        "merchant" => Some(KeyScope::Merchant),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(scope: KeyScope, merchant: Option<&str>) -> ApiKeyRequest {
        ApiKeyRequest {
            scope,
            merchant_id: merchant.map(str::to_string),
            note: None,
        }
    }

    #[test]
    fn a_merchant_key_names_its_merchant_and_an_admin_key_none() {
        assert!(KeyToStore::requested("k", &req(KeyScope::Merchant, Some("M1"))).is_ok());
        assert!(KeyToStore::requested("k", &req(KeyScope::Admin, None)).is_ok());
        assert!(KeyToStore::requested("k", &req(KeyScope::Merchant, None)).is_err());
        assert!(KeyToStore::requested("k", &req(KeyScope::Merchant, Some(" "))).is_err());
        assert!(KeyToStore::requested("k", &req(KeyScope::Admin, Some("M1"))).is_err());
    }

    #[test]
    fn keys_are_random_prefixed_and_stored_only_hashed() {
        let (a, b) = (new_key(), new_key());
        assert_ne!(a, b);
        assert!(a.starts_with(KEY_PREFIX) && a.len() == KEY_PREFIX.len() + 64);
        let stored = KeyToStore::requested(&a, &req(KeyScope::Admin, None)).unwrap();
        assert_eq!(stored.key_hash, key_hash(&a));
        assert!(!stored.key_hash.contains(&a[KEY_PREFIX.len()..]));
    }
}

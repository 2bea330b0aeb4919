//! Request extractors that answer every failure as [`ApiFailure`] JSON.
//!
//! It owns: reading JSON bodies (one object or an array of them), query strings, the protocol
//! version header, device bearer tokens and the admin key. axum's own extractors answer plain text
//! and 415/422 for a wrong body; these answer 400 with a message that says what to send instead.
//! It must never panic on any input, and never log a token or a key.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use laituri_protocol::{PROTOCOL_HEADER, PROTOCOL_VERSION, paths};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::{ApiFailure, AppState};
use crate::enrolment::token_hash;
use crate::keys::key_hash;
use crate::store::Scope;

/// Turns a serde_json error into a 400 that says whether the JSON was broken or had the wrong shape.
pub fn json_failure(e: &serde_json::Error, what: &str) -> ApiFailure {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => ApiFailure::bad_request(format!(
            "the request body is not valid JSON ({e}): send {what} as JSON with \
             Content-Type: application/json"
        )),
        Category::Data => ApiFailure::bad_request(format!(
            "the request body is JSON but not {what} ({e}): see {} for the fields",
            paths::OPENAPI
        )),
    }
}

async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiFailure> {
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiFailure::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "the request body is too large: send the items in smaller batches",
            )
        } else {
            ApiFailure::bad_request(format!(
                "the request body could not be read ({}): send it again",
                e.body_text()
            ))
        }
    })
}

/// A JSON body of type `T`.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiFailure;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiFailure> {
        let bytes = body_bytes(req, state).await?;
        let what = short_type_name::<T>();
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| json_failure(&e, &format!("a {what} object")))
    }
}

/// The raw body, for endpoints whose body is optional.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiFailure;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiFailure> {
        body_bytes(req, state).await.map(RawBody)
    }
}

/// A body that is either one `T` or a JSON array of them. Remembers which, so the answer can
/// have the same shape.
pub struct OneOrMany<T> {
    pub items: Vec<T>,
    pub single: bool,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for OneOrMany<T> {
    type Rejection = ApiFailure;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiFailure> {
        let bytes = body_bytes(req, state).await?;
        let what = short_type_name::<T>();
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| json_failure(&e, &format!("a {what} object or an array of them")))?;
        match value {
            serde_json::Value::Array(values) => {
                let mut items = Vec::with_capacity(values.len());
                for (i, v) in values.into_iter().enumerate() {
                    let item = serde_json::from_value(v).map_err(|e| {
                        ApiFailure::bad_request(format!(
                            "item {i} of the array is not a {what} ({e}): fix it and send the \
                             whole array again (nothing was stored); see {} for the fields",
                            paths::OPENAPI
                        ))
                    })?;
                    items.push(item);
                }
                Ok(OneOrMany {
                    items,
                    single: false,
                })
            }
            v => {
                let item = serde_json::from_value(v).map_err(|e| {
                    json_failure(&e, &format!("a {what} object or an array of them"))
                })?;
                Ok(OneOrMany {
                    items: vec![item],
                    single: true,
                })
            }
        }
    }
}

fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

/// A query string parsed into `T`.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiFailure> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| QueryParams(q))
            .map_err(|e| {
                ApiFailure::bad_request(format!(
                    "the query string is not right ({}): see {} for the parameters",
                    e.body_text(),
                    paths::OPENAPI
                ))
            })
    }
}

/// Refuses a protocol version other than ours. A missing header is taken as the current version,
/// so that tools like curl need not send it.
pub fn check_protocol(headers: &HeaderMap) -> Result<(), ApiFailure> {
    let Some(value) = headers.get(PROTOCOL_HEADER) else {
        return Ok(());
    };
    let sent = value.to_str().unwrap_or("?").trim();
    if sent.parse::<u32>().ok() == Some(PROTOCOL_VERSION) {
        return Ok(());
    }
    Err(version_failure(sent))
}

pub fn version_failure(sent: &str) -> ApiFailure {
    ApiFailure::new(
        StatusCode::UPGRADE_REQUIRED,
        "protocol_version",
        format!(
            "this server speaks protocol version {PROTOCOL_VERSION}, the terminal sent {sent}: \
             update the terminal or the server so both speak the same version"
        ),
    )
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The hash of the bearer token a request carries, if it carries one (an enrolment proving the
/// device's current token).
pub fn presented_token_hash(headers: &HeaderMap) -> Option<String> {
    bearer(headers).map(token_hash)
}

/// Constant-time equality, so the admin key cannot be guessed byte by byte from timings.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An enrolled device, proven by its bearer token. Also checks the protocol version.
pub struct DeviceAuth {
    pub device_id: Uuid,
}

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiFailure> {
        check_protocol(&parts.headers)?;
        let Some(token) = bearer(&parts.headers) else {
            return Err(ApiFailure::unauthorized(
                "this call needs the device's token (Authorization: Bearer <token>): enrol the \
                 device with an enrolment code first",
            ));
        };
        let hash = token_hash(token);
        let device = state.store().device_for_token(&hash).await?;
        match device {
            Some(device_id) => Ok(DeviceAuth { device_id }),
            None => Err(ApiFailure::unauthorized(
                "the device's token is not valid (the device was re-enrolled elsewhere or the \
                 server's database was replaced): enrol the device again with an enrolment code",
            )),
        }
    }
}

/// An integration client, proven by its key: the server's configured admin key or a stored
/// key ([`crate::keys`]). Its [`Scope`] is what it may see and change.
pub struct Caller {
    pub scope: Scope,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiFailure> {
        let Some(key) = bearer(&parts.headers) else {
            return Err(ApiFailure::unauthorized(
                "the integration API needs a key: send Authorization: Bearer <key> (an admin key, \
                 or the merchant key the warehouse gave you)",
            ));
        };
        if same_secret(key, &state.inner.admin_key) {
            return Ok(Caller {
                scope: Scope::Warehouse,
            });
        }
        match state.store().api_key_scope(&key_hash(key)).await? {
            Some(scope) => Ok(Caller { scope }),
            None => Err(ApiFailure::unauthorized(
                "the key is not valid for the integration API (not known, or revoked): send a \
                 current key as Authorization: Bearer <key>, or ask the warehouse for a new one",
            )),
        }
    }
}

impl Caller {
    /// The merchant a scoped caller must stay within, and a 403 when `merchant_id` is another's.
    pub fn may_touch(&self, merchant_id: &str, what: &str) -> Result<(), ApiFailure> {
        match self.scope.merchant() {
            Some(own) if own != merchant_id => Err(ApiFailure::forbidden(format!(
                "{what} names merchant {merchant_id:?}, but this key is merchant {own:?}'s: a \
                 merchant key reads and changes only its own merchant's data; nothing was stored"
            ))),
            _ => Ok(()),
        }
    }
}

/// The warehouse's operator, proven by an admin key (the configured one or a stored admin key).
/// A merchant's key is refused with 403.
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiFailure> {
        match Caller::from_request_parts(parts, state).await?.scope {
            Scope::Warehouse => Ok(Admin),
            Scope::Merchant(m) => Err(ApiFailure::forbidden(format!(
                "this endpoint is for the warehouse's operator, and this key is merchant {m:?}'s: \
                 a merchant key reads and changes only its own products, inbound notices, stock, \
                 receipts and exceptions"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_leniently_but_never_empty() {
        let cases = [
            ("Bearer abc", Some("abc")),
            ("bearer abc ", Some("abc")),
            ("Bearer ", None),
            ("Basic abc", None),
            ("abc", None),
        ];
        for (value, expect) in cases {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, value.parse().unwrap());
            assert_eq!(bearer(&h), expect, "{value:?}");
        }
    }

    #[test]
    fn protocol_header_missing_or_current_passes() {
        let (current, next) = (
            PROTOCOL_VERSION.to_string(),
            (PROTOCOL_VERSION + 1).to_string(),
        );
        let cases = [
            (None, true),
            (Some(current.as_str()), true),
            (Some(next.as_str()), false),
            (Some("x"), false),
        ];
        for (value, ok) in cases {
            let mut h = HeaderMap::new();
            if let Some(v) = value {
                h.insert(PROTOCOL_HEADER, v.parse().unwrap());
            }
            assert_eq!(check_protocol(&h).is_ok(), ok, "{value:?}");
        }
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("k", "k") && !same_secret("k", "K") && !same_secret("k", "kk"));
    }
}

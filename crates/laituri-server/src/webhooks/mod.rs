//! Webhooks to merchants, from a durable outbox.
//!
//! 1. **Outbox.** A change that merchants are told of writes its event ([`Effect::Notify`],
//!    a [`Notice`]) into `webhook_events` through the same ledger, in the same transaction, as
//!    the change itself: a committed change has its event, a rolled-back one has none, and a
//!    server that dies after the commit finds the event when it starts again. [`emit`] says
//!    where each event type comes from.
//! 2. **Fan-out.** The [`Worker`] (one per server process, started and stopped with it, like
//!    the planner) takes events not yet fanned out and makes one `webhook_deliveries` row per
//!    active subscription of the event's merchant that wants its type, in one transaction that
//!    also marks the event fanned out (on PostgreSQL only the first of several servers does).
//!    A `stock_level_changed` event's levels (on hand, reserved, available, as
//!    `Views::stock_summaries` answers them) are read then, once, and kept in its body: reading
//!    them in the push's transaction would cost every push a summary query per product moved,
//!    also for merchants with no subscription, on the path whose speed the floor feels. The
//!    levels are then those at fan-out, a moment after the change: a receiver takes them as the
//!    product's latest levels, not as the effect of one move.
//! 3. **Delivery.** The worker claims due deliveries (`claimed_until_ms`, on PostgreSQL with
//!    `FOR UPDATE SKIP LOCKED`, so servers sharing a database never attempt one delivery at
//!    once; a claim of a server that died runs out and is taken again), POSTs the stored body
//!    ([`deliver`]), and records the answer: 2xx is delivered; 410 Gone fails the delivery and
//!    deactivates the subscription; anything else (refused, timeout, 3xx, 4xx, 5xx) is tried
//!    again after an exponential backoff with jitter, from [`Settings::first_retry`] doubling to
//!    [`Settings::max_retry`], until [`Settings::give_up_after`] has passed since the delivery was
//!    made (or redelivered): it is then `failed`, kept in the log, and can be redelivered by hand.
//!    Due times are the server's [`Clock`]'s, so tests move time by hand.
//!
//! At least once, never lost: a delivery is recorded only after its answer, so a server that
//! dies between the POST and the record POSTs it again. Every attempt carries the same event id
//! ([`laituri_protocol::webhooks::ID_HEADER`]) and body; receivers drop ids they have seen.

use std::sync::Arc;
use std::time::Duration;

use laituri_protocol::webhooks::{MAX_SECRET, MAX_URL, MIN_SECRET, rfc3339_utc};
use laituri_protocol::{
    DeliveryStatus, StockSummary, Webhook, WebhookEnvelope, WebhookEventType, WebhookInput,
};
use uuid::Uuid;

use crate::clock::Clock;
use crate::store::{Page, Scope, Store, StoreError, SummaryFilter};

pub mod deliver;
pub mod emit;

pub use emit::{Before, order_shipped, return_received};

/// One event for a merchant's webhooks, as the outbox stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// The envelope's id: the idempotency key receivers deduplicate by.
    pub event_id: Uuid,
    pub merchant_id: String,
    pub kind: WebhookEventType,
    /// What it is about (an order id, a product id, a notice id): for the log and look-ups.
    pub subject: String,
    /// When the change was made, the server's clock (Unix milliseconds).
    pub created_at_ms: i64,
    pub data: serde_json::Value,
}

impl Notice {
    /// The envelope POSTed, as JSON text.
    pub fn body(&self) -> String {
        envelope_text(&WebhookEnvelope {
            id: self.event_id,
            kind: self.kind,
            created_at: rfc3339_utc(self.created_at_ms),
            merchant_id: self.merchant_id.clone(),
            data: self.data.clone(),
        })
    }
}

fn envelope_text(e: &WebhookEnvelope) -> String {
    serde_json::to_string(e).expect("envelopes always serialize")
}

/// How the worker delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Whether the worker runs in this process at all.
    pub enabled: bool,
    /// How often the worker looks for events and due deliveries when it found none.
    pub tick: Duration,
    /// The longest one attempt may take, connecting included.
    pub timeout: Duration,
    /// The first retry's delay; each next one doubles, up to `max_retry`.
    pub first_retry: Duration,
    pub max_retry: Duration,
    /// After this long without a 2xx, a delivery is `failed`.
    pub give_up_after: Duration,
    /// How long a server's claim on a delivery holds before another may take it (a server that
    /// died while attempting it). Longer than `timeout`.
    pub claim: Duration,
    /// Deliveries attempted at once.
    pub batch: u32,
    /// Whether a subscription may point at a loopback address (127.0.0.0/8, ::1, `localhost`).
    /// Allowed by default: a receiver on the server's own machine (a site's integration
    /// process, a test). Sites whose merchants' URLs must never reach the server's machine turn
    /// it off (`--webhooks-deny-loopback`).
    pub allow_loopback: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            enabled: true,
            tick: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            first_retry: Duration::from_secs(60),
            max_retry: Duration::from_secs(3_600),
            give_up_after: Duration::from_secs(48 * 3_600),
            claim: Duration::from_secs(300),
            batch: 16,
            allow_loopback: true,
        }
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A subscription to store: the secret in clear (it signs every delivery).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookToStore {
    pub listed: Webhook,
    pub secret: String,
}

/// A change of a subscription: its URL, types and state, and a new secret when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookChange {
    pub merchant_id: Option<String>,
    pub url: String,
    pub event_types: Vec<WebhookEventType>,
    pub active: bool,
    pub secret: Option<String>,
}

/// An event of the outbox not fanned out yet, and how many subscriptions want it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    pub event_id: Uuid,
    pub merchant_id: String,
    pub kind: WebhookEventType,
    pub subject: String,
    pub body: String,
    pub subscribers: u32,
}

/// A delivery a server claimed, with what it needs to attempt it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDelivery {
    pub delivery_id: Uuid,
    pub webhook_id: Uuid,
    pub event_id: Uuid,
    pub url: String,
    pub secret: String,
    pub body: String,
    /// Attempts made before this one.
    pub attempts: u32,
    pub window_from_ms: i64,
    /// The claim this server holds: the record of the attempt is written only while it holds.
    pub claimed_until_ms: i64,
}

/// What an attempt came to, for the delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempted {
    pub delivery_id: Uuid,
    pub webhook_id: Uuid,
    pub claimed_until_ms: i64,
    pub attempts: u32,
    pub status: DeliveryStatus,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub excerpt: Option<String>,
    pub next_attempt_at_ms: Option<i64>,
    pub delivered_at_ms: Option<i64>,
    /// The receiver answered 410 Gone: the subscription is deactivated.
    pub gone: bool,
}

/// A subscription as sent, checked: what to store, or what to fix. `scope` is the caller's.
pub fn check_input(
    input: WebhookInput,
    scope: &Scope,
    settings: &Settings,
) -> Result<WebhookChange, CheckFailure> {
    let merchant_id = match (input.merchant_id, scope.merchant()) {
        (Some(m), Some(own)) if m != own => {
            return Err(CheckFailure::Forbidden(format!(
                "the subscription names merchant {m:?}, but this key is merchant {own:?}'s: a \
                 merchant key subscribes to its own merchant's events only; nothing was stored"
            )));
        }
        (Some(m), _) => Some(m),
        (None, Some(own)) => Some(own.to_string()),
        (None, None) => None,
    };
    let url = check_url(&input.url, settings.allow_loopback).map_err(CheckFailure::Bad)?;
    let mut event_types = input.event_types;
    event_types.sort();
    event_types.dedup();
    if event_types.is_empty() {
        return Err(CheckFailure::Bad(format!(
            "event_types is empty: name at least one of {}",
            type_names()
        )));
    }
    if let Some(secret) = &input.secret {
        check_secret(secret).map_err(CheckFailure::Bad)?;
    }
    Ok(WebhookChange {
        merchant_id,
        url,
        event_types,
        active: input.active,
        secret: input.secret,
    })
}

/// Why a subscription was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckFailure {
    /// 400, with what to fix.
    Bad(String),
    /// 403: another merchant's.
    Forbidden(String),
}

fn type_names() -> String {
    WebhookEventType::ALL
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A subscription's URL, checked and normalised; the message never repeats more of it than
/// its scheme (a URL may carry a token of the merchant's).
pub fn check_url(raw: &str, allow_loopback: bool) -> Result<String, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("url is empty: send the https URL to POST events to".into());
    }
    if raw.len() > MAX_URL {
        return Err(format!(
            "url is {} characters long, more than the {MAX_URL} a subscription takes: use a \
             shorter URL",
            raw.len()
        ));
    }
    if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("url holds spaces or control characters: send it URL-encoded".into());
    }
    let url = reqwest::Url::parse(raw)
        .map_err(|e| format!("url is not a URL ({e}): send an absolute http or https URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "url's scheme is {:?}: webhooks are POSTed over http or https only",
            url.scheme()
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "url carries a user name or password: leave credentials out; the signature header \
             proves each delivery comes from the warehouse"
                .into(),
        );
    }
    let Some(host) = url.host_str() else {
        return Err("url has no host: send an absolute http or https URL".into());
    };
    if !allow_loopback && is_loopback(host) {
        return Err(
            "url points at a loopback address, which this server does not POST to: use an \
             address other machines reach"
                .into(),
        );
    }
    Ok(url.to_string())
}

/// True for a loopback or unspecified address, and for `localhost` names. The `url` crate
/// writes every IPv4 form (`127.1`, `0x7f.0.0.1`) as four decimals first.
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = h.parse::<std::net::IpAddr>() {
        return ip.to_canonical().is_loopback() || ip.is_unspecified();
    }
    let d = h.trim_end_matches('.').to_ascii_lowercase();
    d == "localhost" || d.ends_with(".localhost")
}

/// A secret as given: printable ASCII, 16 to 200 characters.
pub fn check_secret(secret: &str) -> Result<(), String> {
    let n = secret.chars().count();
    if !(MIN_SECRET..=MAX_SECRET).contains(&n) {
        return Err(format!(
            "secret is {n} characters long: give {MIN_SECRET} to {MAX_SECRET} characters, or \
             leave it out and the server makes one"
        ));
    }
    if !secret.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(
            "secret holds characters other than printable ASCII (no spaces): give letters, \
             digits and punctuation only, or leave it out and the server makes one"
                .into(),
        );
    }
    Ok(())
}

/// A new random secret: 32 bytes, Base64 (URL-safe), with a `whsec_` prefix.
pub fn new_secret() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes[..]);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The body of a `stock_level_changed` event with the product's levels read now, or `None`
/// when the product is not known (any more).
async fn with_levels(store: &dyn Store, event: &OutboxEvent) -> Result<String, StoreError> {
    let mut envelope: WebhookEnvelope = serde_json::from_str(&event.body)
        .map_err(|e| crate::store::rows::corrupt(format!("webhook event body: {e}")))?;
    let filter = SummaryFilter {
        product_id: Some(event.subject.clone()),
        page: Page {
            after: None,
            limit: 1,
        },
        by_location: false,
    };
    let scope = Scope::Merchant(event.merchant_id.clone());
    let summary = store.stock_summaries(&filter, &scope).await?.pop();
    let StockSummary {
        on_hand,
        reserved,
        available,
        ..
    } = summary.unwrap_or(StockSummary {
        merchant_id: event.merchant_id.clone(),
        product_id: event.subject.clone(),
        on_hand: 0,
        reserved: 0,
        available: 0,
        locations: Vec::new(),
    });
    envelope.data = serde_json::to_value(laituri_protocol::webhooks::StockLevelChanged {
        product_id: event.subject.clone(),
        on_hand,
        reserved,
        available,
    })
    .expect("levels serialize");
    Ok(envelope_text(&envelope))
}

/// The delivery worker of one server process.
#[derive(Clone)]
pub struct Worker {
    pub settings: Settings,
    pub clock: Clock,
}

impl Worker {
    /// Runs until the task is dropped or aborted. A failing round is logged and tried again
    /// at the next tick: the events wait in the outbox.
    pub async fn run(self, store: Arc<dyn Store>) {
        if !self.settings.enabled {
            return;
        }
        let client = match deliver::client(&self.settings) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "webhooks: no HTTP client; nothing is delivered");
                return;
            }
        };
        loop {
            let busy = match self.round(&*store, &client).await {
                Ok(busy) => busy,
                Err(e) => {
                    tracing::warn!(error = %e, "webhooks: a round failed; tried again later");
                    false
                }
            };
            if !busy {
                tokio::time::sleep(self.settings.tick).await;
            }
        }
    }

    /// Fans out waiting events and attempts the due deliveries once. True when it did anything.
    pub async fn round(
        &self,
        store: &dyn Store,
        client: &reqwest::Client,
    ) -> Result<bool, StoreError> {
        let events = store.events_to_fan_out(self.settings.batch * 8).await?;
        for event in &events {
            let body = if event.kind == WebhookEventType::StockLevelChanged && event.subscribers > 0
            {
                Some(with_levels(store, event).await?)
            } else {
                None
            };
            store.fan_out(event.event_id, body.as_deref()).await?;
        }
        let due = store
            .claim_deliveries(self.settings.batch, ms(self.settings.claim))
            .await?;
        let attempts = due.iter().map(|d| async move {
            let answer = deliver::attempt(client, d, &self.settings, self.clock.now_ms()).await;
            let record = deliver::settle(d, answer, &self.settings, self.clock.now_ms());
            if let Err(e) = store.settle_delivery(&record).await {
                tracing::warn!(error = %e, delivery = %d.delivery_id,
                    "webhooks: an attempt could not be recorded; it is made again");
            }
        });
        futures_util::future::join_all(attempts).await;
        Ok(!events.is_empty() || !due.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_http_or_https_and_loopback_only_when_allowed() {
        let ok = |u: &str, loopback| check_url(u, loopback).is_ok();
        assert!(ok("https://erp.example.fi/hooks?t=1", false));
        assert!(ok("http://127.0.0.1:8080/x", true));
        for u in [
            "http://127.0.0.1:8080/x",
            "http://127.1/x",
            "http://0x7f.0.0.1/x",
            "http://[::1]/x",
            "http://[::ffff:127.0.0.1]/x",
            "http://0.0.0.0/x",
            "http://localhost/x",
            "http://LocalHost./x",
            "http://a.localhost/x",
        ] {
            assert!(!ok(u, false), "{u}");
        }
        for u in [
            "ftp://example.fi/x",
            "javascript:alert(1)",
            "https://u:p@example.fi/",
            "https://",
            "",
            "https://example.fi/a b",
        ] {
            assert!(!ok(u, true), "{u:?}");
        }
        let long = format!("https://example.fi/{}", "a".repeat(MAX_URL));
        let refused = check_url(&long, true).unwrap_err();
        assert!(!refused.contains("aaaa"), "{refused}");
    }

    #[test]
    fn secrets_are_printable_and_made_when_left_out() {
        assert!(check_secret(&"k".repeat(MIN_SECRET)).is_ok());
        assert!(check_secret(&"k".repeat(MIN_SECRET - 1)).is_err());
        assert!(check_secret(&"k".repeat(MAX_SECRET + 1)).is_err());
        assert!(check_secret("sixteen chars w/ space").is_err());
        assert!(check_secret("äääääääääääääääää").is_err());
        let (a, b) = (new_secret(), new_secret());
        assert!(a != b && check_secret(&a).is_ok());
    }
}

//! Webhooks: what a merchant's system subscribes to, what the server POSTs to it, and the log of
//! those deliveries, as the integration API shows them.
//!
//! A subscription names a URL (http or https), a secret and the event types it wants. Every
//! delivery is a POST of one [`WebhookEnvelope`] as JSON, with three headers:
//! [`ID_HEADER`] (the envelope's id), [`TIMESTAMP_HEADER`] (when this attempt was sent, Unix
//! seconds) and [`SIGNATURE_HEADER`] = `sha256=` + Base64(HMAC-SHA256(secret, raw body)). The
//! same event is delivered at least once: a retry or a redelivery carries the same id and the
//! same body, and a receiver drops an id it has seen.
//!
//! Bodies never carry personal data: orders are named by id and reference only.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::orders::OrderStatus;

/// The header carrying the envelope's id: the same on every retry and redelivery.
pub const ID_HEADER: &str = "Laituri-Webhook-Id";
/// The header carrying when the attempt was sent, Unix seconds.
pub const TIMESTAMP_HEADER: &str = "Laituri-Webhook-Timestamp";
/// The header carrying `sha256=` and the Base64 of HMAC-SHA256(secret, raw body).
pub const SIGNATURE_HEADER: &str = "Laituri-Signature";

/// The longest URL a subscription takes, and its secret's shortest and longest length.
pub const MAX_URL: usize = 2_000;
pub const MIN_SECRET: usize = 16;
pub const MAX_SECRET: usize = 200;

/// What happened, as a webhook's `type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookEventType {
    /// An order moved to another status ([`OrderStatusChanged`]).
    OrderStatusChanged,
    /// An order's parcels left with the carrier ([`OrderShipped`]).
    OrderShipped,
    /// A product's stock changed ([`StockLevelChanged`]).
    StockLevelChanged,
    /// Goods announced by an inbound notice were received and the receipt closed
    /// ([`InboundNoticeReceived`]).
    InboundNoticeReceived,
    /// A customer's return was received and inspected ([`ReturnReceived`]).
    ReturnReceived,
}

impl WebhookEventType {
    pub const ALL: [WebhookEventType; 5] = [
        WebhookEventType::OrderStatusChanged,
        WebhookEventType::OrderShipped,
        WebhookEventType::StockLevelChanged,
        WebhookEventType::InboundNoticeReceived,
        WebhookEventType::ReturnReceived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEventType::OrderStatusChanged => "order_status_changed",
            WebhookEventType::OrderShipped => "order_shipped",
            WebhookEventType::StockLevelChanged => "stock_level_changed",
            WebhookEventType::InboundNoticeReceived => "inbound_notice_received",
            WebhookEventType::ReturnReceived => "return_received",
        }
    }

    pub fn parse(s: &str) -> Option<WebhookEventType> {
        WebhookEventType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// `POST WEBHOOKS` (a new subscription) and `PUT WEBHOOKS/{id}` (a changed one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// Whose events. A merchant key may leave it out (its own merchant); an admin key names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_id: Option<String>,
    /// Where to POST: an http or https URL.
    pub url: String,
    /// The event types wanted, at least one.
    pub event_types: Vec<WebhookEventType>,
    /// The signing secret (16-200 printable ASCII characters). Left out on create, the server
    /// makes one and answers it this once; left out on change, the secret stays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// An inactive subscription gets nothing; true when left out.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// A subscription as listed: never with its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: Uuid,
    pub merchant_id: String,
    pub url: String,
    pub event_types: Vec<WebhookEventType>,
    /// False once deactivated, by the merchant or by the server after the receiver answered
    /// 410 Gone.
    pub active: bool,
    /// Server time, Unix milliseconds.
    pub created_at_ms: i64,
}

/// The answer of `POST WEBHOOKS`: the secret, shown this once, and how it is listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewWebhook {
    pub secret: String,
    #[serde(flatten)]
    pub listed: Webhook,
}

/// What is POSTed to a subscription's URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEnvelope {
    /// The event's id: the idempotency key, the same on every retry and redelivery.
    pub id: Uuid,
    #[serde(rename = "type")]
    pub kind: WebhookEventType,
    /// When the change was committed, RFC 3339 UTC.
    pub created_at: String,
    pub merchant_id: String,
    /// One of [`OrderStatusChanged`], [`OrderShipped`], [`StockLevelChanged`],
    /// [`InboundNoticeReceived`], [`ReturnReceived`], by `type`.
    pub data: serde_json::Value,
}

/// `order_status_changed`: never the recipient, address, comments or documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderStatusChanged {
    pub order_id: Uuid,
    pub reference: String,
    pub old_status: OrderStatus,
    pub new_status: OrderStatus,
    /// Why (an order on hold says what it waits for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When it changed, RFC 3339 UTC.
    pub changed_at: String,
}

/// One parcel of a shipped order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippedParcel {
    pub tracking_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_url: Option<String>,
}

/// `order_shipped`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderShipped {
    pub order_id: Uuid,
    pub reference: String,
    /// The carrier, as the warehouse names it (e.g. `posti`).
    pub carrier: String,
    pub parcels: Vec<ShippedParcel>,
    /// When it was handed to the carrier, RFC 3339 UTC.
    pub shipped_at: String,
}

/// `stock_level_changed`: the product's levels as `GET STOCK_LEVELS` shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevelChanged {
    pub product_id: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
}

/// One product of a received notice: expected vs received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeLineReceived {
    pub product_id: String,
    pub expected: i64,
    pub received: i64,
    /// Part of `received` that went to quarantine.
    pub quarantined: i64,
}

/// `inbound_notice_received`: the receipt of a notice closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundNoticeReceived {
    pub notice_id: String,
    pub reference: String,
    pub receipt_id: Uuid,
    pub lines: Vec<NoticeLineReceived>,
}

/// What became of a returned unit, in the words shops' platforms use for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnDisposition {
    /// Back in sellable stock (on its way to a bin).
    Restocked,
    /// Disposed of, or kept for the merchant to collect.
    NotRestocked,
    /// In quarantine for inspection (also goods whose restock was blocked).
    ProcessingRequired,
    /// Expected and not in the returned parcel.
    Missing,
}

impl ReturnDisposition {
    /// The disposition of a recorded return line.
    pub fn of(line: &crate::ReturnedLine) -> ReturnDisposition {
        use crate::ReturnAction;
        if line.missing {
            return ReturnDisposition::Missing;
        }
        match line.action {
            Some(ReturnAction::Restock) if line.blocked.is_none() => ReturnDisposition::Restocked,
            Some(ReturnAction::Dispose | ReturnAction::BackToMerchant) => {
                ReturnDisposition::NotRestocked
            }
            _ => ReturnDisposition::ProcessingRequired,
        }
    }
}

/// One line of a return as the merchant is told: the line as recorded (product, quantity,
/// reason, action, unexpected, missing, blocked) and its disposition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnLine {
    #[serde(flatten)]
    pub line: crate::ReturnedLine,
    pub disposition: ReturnDisposition,
}

/// `return_received`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnReceived {
    pub return_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub lines: Vec<ReturnLine>,
    /// When it was received, RFC 3339 UTC.
    #[serde(default)]
    pub received_at: String,
}

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not delivered yet: tried again at `next_attempt_at_ms`.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up (retried for two days, or the receiver answered 410 Gone): redeliver it by hand.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        [
            DeliveryStatus::Pending,
            DeliveryStatus::Delivered,
            DeliveryStatus::Failed,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// One event to one subscription, in the delivery log (`GET WEBHOOKS/{id}/deliveries`). No
/// response body is kept beyond a short excerpt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    pub id: Uuid,
    pub event_id: Uuid,
    pub webhook_id: Uuid,
    #[serde(rename = "type")]
    pub kind: WebhookEventType,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// The HTTP status of the last answer, if the receiver answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status_code: Option<u16>,
    /// Why the last attempt failed: `connect`, `timeout`, `status`, `gone`, `other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The first characters of the last answer's body (at most [`MAX_EXCERPT`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_response_excerpt: Option<String>,
    /// When it is tried next, while pending (server time, Unix milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at_ms: Option<i64>,
    pub created_at_ms: i64,
}

/// The most characters of a receiver's answer a delivery log keeps.
pub const MAX_EXCERPT: usize = 200;

/// `ms` (Unix milliseconds) as RFC 3339 UTC with milliseconds, e.g. `2026-03-15T08:30:00.000Z`.
pub fn rfc3339_utc(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rest = ms.rem_euclid(86_400_000);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3_600_000,
        rest / 60_000 % 60,
        rest / 1_000 % 60,
        rest % 1_000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_as_rfc_3339_utc() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_utc(1_773_563_400_123), "2026-03-15T08:30:00.123Z");
        assert_eq!(rfc3339_utc(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_utc(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn event_types_read_back_as_written() {
        for t in WebhookEventType::ALL {
            assert_eq!(WebhookEventType::parse(t.as_str()), Some(t));
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
        }
        assert_eq!(WebhookEventType::parse("order_created"), None);
    }
}

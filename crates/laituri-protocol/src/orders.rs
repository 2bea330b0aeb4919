//! Merchants' orders as the integration API takes and shows them, and the erasure of a
//! customer's personal data.
//!
//! An order is two parts: what the warehouse works with (lines, shipping, priority, status) and
//! the customer's personal data ([`Recipient`], comments, documents), which the server keeps only
//! in the order's erasable row: never in events, logs, exceptions or URLs. After an erasure the
//! order stays (its stock history with it) and shows `erased_at_ms` instead of the personal part.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One line of an order: a product of the order's merchant and how many units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderLine {
    pub product_id: String,
    pub quantity: i64,
}

/// Who receives the parcel: personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    pub name: String,
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address2: Option<String>,
    pub postcode: String,
    pub city: String,
    /// ISO 3166-1 alpha-2, e.g. `FI`.
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A document to print and put in the parcel (a receipt, a return form), by URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderDocument {
    /// What it is, in the merchant's words (`receipt`, `return_form`).
    pub kind: String,
    pub url: String,
}

/// Cash on delivery: what the carrier collects, in minor units of the currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CashOnDelivery {
    pub amount_minor: i64,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
}

/// `POST ORDERS`: an order as a merchant's shop sends it. The same (merchant, reference) sent
/// again is the same order: unchanged, it changes nothing; changed, it replaces the order while
/// picking has not started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderInput {
    pub merchant_id: String,
    /// The shop's order number: unique per merchant.
    pub reference: String,
    pub lines: Vec<OrderLine>,
    /// The carrier service, as the warehouse names it (e.g. `posti-parcel`).
    pub shipping_method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_point: Option<String>,
    /// Higher goes first; 0 when left out.
    #[serde(default)]
    pub priority: i32,
    pub recipient: Recipient,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<OrderDocument>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cash_on_delivery: Option<CashOnDelivery>,
    /// The order's value in minor units of the shop's currency, when a merchant's insert rule
    /// depends on it (a gift with orders over an amount).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_minor: Option<i64>,
}

/// Where an order is. Set by the server only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    New,
    Reserved,
    OnHold,
    Picking,
    /// Every line picked (or short and re-reserved nowhere), the totes dropped at packing.
    Picked,
    Packed,
    Shipped,
    Cancelled,
    /// Every shipped unit came back (or was recorded missing from the return).
    Returned,
    /// Some of what was shipped came back.
    PartlyReturned,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 10] = [
        OrderStatus::New,
        OrderStatus::Reserved,
        OrderStatus::OnHold,
        OrderStatus::Picking,
        OrderStatus::Picked,
        OrderStatus::Packed,
        OrderStatus::Shipped,
        OrderStatus::Cancelled,
        OrderStatus::Returned,
        OrderStatus::PartlyReturned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::New => "new",
            OrderStatus::Reserved => "reserved",
            OrderStatus::OnHold => "on_hold",
            OrderStatus::Picking => "picking",
            OrderStatus::Picked => "picked",
            OrderStatus::Packed => "packed",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Returned => "returned",
            OrderStatus::PartlyReturned => "partly_returned",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Before picking starts: the order may still be replaced or cancelled.
    pub fn not_started(self) -> bool {
        matches!(
            self,
            OrderStatus::New | OrderStatus::Reserved | OrderStatus::OnHold
        )
    }
}

/// An order as the server keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// The server's id of the order.
    pub id: Uuid,
    pub merchant_id: String,
    pub reference: String,
    pub status: OrderStatus,
    /// Why the order is on hold (or was cancelled by the warehouse), for a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    pub lines: Vec<OrderLine>,
    pub shipping_method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_point: Option<String>,
    pub priority: i32,
    /// `None` once the customer's personal data was erased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<Recipient>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<OrderDocument>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cash_on_delivery: Option<CashOnDelivery>,
    /// The order's value in minor units, as the shop sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_minor: Option<i64>,
    /// The totes the order's goods were picked into (one per pick task that picked for it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub totes: Vec<String>,
    /// Every status the order had, oldest first, with the server's time and the reason.
    #[serde(default)]
    pub history: Vec<StatusChange>,
    /// Its parcels once packed, with tracking numbers once booked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parcels: Vec<crate::Parcel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment: Option<crate::Shipment>,
    /// What customers' returns brought back of it, per product (only what it shipped: the
    /// returns themselves, line by line, are `GET RETURNS?order_id=`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub returned: Vec<OrderLine>,
    /// Server time, Unix milliseconds: made, last changed (the status too), personal data erased.
    pub created_at_ms: i64,
    pub modified_at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at_ms: Option<i64>,
}

/// One status of an order's life: when it began (server time, Unix milliseconds) and why, when
/// there is a reason to tell (on hold: not enough stock of a product).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: OrderStatus,
    pub at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `POST RELEASE_ORDERS` (admin): reserve stock for the orders waiting for it and release the
/// reserved ones into pick tasks now. Each field left out is the server's configured limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseOrdersRequest {
    /// Orders (totes) per pick task; 1 makes single-order tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totes: Option<u32>,
    /// Pick lines per task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_lines: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_volume_ml: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_weight_g: Option<u64>,
}

/// What one run of reserving and releasing did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseOrdersResult {
    /// Orders that got their stock (in full, or the rest after a short pick).
    pub reserved: u32,
    /// Orders put on hold (or kept there for a new reason).
    pub on_hold: u32,
    /// Pick tasks made, and the orders in them.
    pub tasks: u32,
    pub orders_released: u32,
}

/// `POST ERASURES`: erase a customer's personal data from a merchant's orders, found by the
/// customer's e-mail address, by the orders' references, or both. The orders stay, without it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    /// The merchant whose orders; a merchant's key may leave it out (its own merchant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_id: Option<String>,
    /// Every order of the merchant to this address (compared without case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// These orders of the merchant.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
}

/// The answer of `POST ERASURES`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureResult {
    /// Orders whose personal data this request erased (0 when there was none left to erase).
    pub orders_erased: u64,
}

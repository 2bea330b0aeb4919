//! Master data as it travels: merchants, products, locations, operators, inbound notices.
//!
//! Merchants' systems send these to the server through the integration API; terminals receive the
//! same shapes through the pull change log. Ids are strings chosen by the warehouse (they appear on
//! labels and in merchants' systems), not database keys.

use serde::{Deserialize, Serialize};

/// A web shop whose goods the warehouse stores, with the rules that apply to its goods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Merchant {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub rules: MerchantRules,
    /// Storage zones whose empty bins may take this merchant's goods, in order of preference.
    #[serde(default)]
    pub zones: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MerchantRules {
    /// Goods with fewer days than this left before expiry go to quarantine on receipt.
    pub min_shelf_life_days: u32,
    /// Receiving more than expected by more than this percentage asks the operator to confirm.
    pub over_receipt_tolerance_pct: u32,
    /// Inserts and free gifts the warehouse adds to the merchant's orders when it releases them
    /// for picking ("one catalogue in every order", "a gift with orders over 50 EUR").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inserts: Vec<InsertRule>,
    /// What becomes of returned goods ([`crate::ReturnRule`]): the first rule that matches a
    /// returned line applies; none, and the person at the returns desk chooses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub returns: Vec<crate::ReturnRule>,
}

/// One insert rule of a merchant: `quantity` of `product_id` goes into every order that meets
/// the condition. The product is the merchant's own, stored like any other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InsertRule {
    pub product_id: String,
    pub quantity: i64,
    /// Only orders whose value is at least this, in minor units of the order's currency; no
    /// condition when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_order_value_minor: Option<i64>,
}

/// One barcode of a product. A case code counts as `pack_qty` units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductBarcode {
    /// A GTIN normalised to 14 digits, or any other code exactly as scanned.
    pub code: String,
    #[serde(default = "one")]
    pub pack_qty: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: String,
    pub merchant_id: String,
    pub name: String,
    pub barcodes: Vec<ProductBarcode>,
    #[serde(default)]
    pub track_lot: bool,
    #[serde(default)]
    pub track_expiry: bool,
    #[serde(default)]
    pub track_serial: bool,
    /// A kit (bundle) is never stored as such: an order of it is picked as these components.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kit: Vec<KitComponent>,
    /// One unit's volume in millilitres and weight in grams, when known: a cart's limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_ml: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_g: Option<u32>,
    /// One unit's outside measures in millimetres, when known: the box it needs at packing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dims_mm: Option<[u32; 3]>,
}

/// One component of a kit: `quantity` units of `product_id` (a product of the same merchant)
/// per unit of the kit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KitComponent {
    pub product_id: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    Dock,
    Bin,
    Quarantine,
    Packing,
    /// Goods on their way in a tote between a pick and the drop at packing: one location per
    /// warehouse, [`crate::IN_TRANSIT`], known to every server without master data.
    Transit,
}

impl LocationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LocationKind::Dock => "dock",
            LocationKind::Bin => "bin",
            LocationKind::Quarantine => "quarantine",
            LocationKind::Packing => "packing",
            LocationKind::Transit => "transit",
        }
    }
    pub fn parse(s: &str) -> Option<LocationKind> {
        Some(match s {
            "dock" => LocationKind::Dock,
            "bin" => LocationKind::Bin,
            "quarantine" => LocationKind::Quarantine,
            "packing" => LocationKind::Packing,
            "transit" => LocationKind::Transit,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// The code printed on the location label, e.g. `A-01-02` or `DOCK-1`.
    pub code: String,
    pub kind: LocationKind,
    /// Zone name; bins of a merchant's zone hold that merchant's goods.
    #[serde(default)]
    pub zone: String,
    /// Position in the walking route; lower comes first.
    #[serde(default)]
    pub walk_order: u32,
    /// How many units the location holds, when known; putaway suggests no bin past it.
    #[serde(default)]
    pub capacity: Option<u32>,
    /// Where a bin lies in its zone, a block of parallel aisles: the aisle (side by side from 1)
    /// and the bay along it (from the front, from 1). Pick tasks are routed by them; a zone whose
    /// bins lack them is walked in `walk_order`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aisle: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bay: Option<u32>,
    /// The shipping boxes a packing location stocks; packing suggests and takes only these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub box_types: Vec<crate::BoxType>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Receiving,
    Putaway,
    Picking,
    Packing,
    Returns,
    Counting,
    Lead,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Receiving => "receiving",
            Role::Putaway => "putaway",
            Role::Picking => "picking",
            Role::Packing => "packing",
            Role::Returns => "returns",
            Role::Counting => "counting",
            Role::Lead => "lead",
        }
    }
}

/// A person on the floor. Terminals get the PIN only as [`crate::pin_hash`]; integration
/// clients never get it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    pub id: String,
    pub name: String,
    /// What the operator's badge barcode says.
    pub badge: String,
    #[serde(default)]
    pub pin_hash: Option<String>,
    pub roles: Vec<Role>,
    /// BCP 47 language tag, e.g. `fi`, `en`, `sv`.
    #[serde(default = "default_language")]
    pub language: String,
    /// The PIN in clear on its way from the integration API to the server's store, which hashes
    /// it (or keeps the stored hash when the PIN did not change). Never serialised, stored or
    /// sent.
    #[serde(skip)]
    pub pin: Option<String>,
    /// How far this operator's counts may differ from the stock before a lead must approve
    /// them; none set: every difference waits for a lead. A lead's counts need no approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_limits: Option<crate::CountLimits>,
}

impl Operator {
    /// The operator as stored and shipped: its PIN as a hash, `stored_hash` kept when it is the
    /// hash of the same PIN (so sending the same operators again changes nothing), a new salted
    /// hash otherwise, none when no PIN was sent.
    pub fn with_pin_hashed(mut self, stored_hash: Option<&str>) -> Operator {
        self.pin_hash = match (self.pin.take(), stored_hash) {
            (None, _) => None,
            (Some(pin), Some(h)) if crate::pin_matches(h, &pin) => Some(h.to_string()),
            (Some(pin), _) => Some(crate::pin_hash(&pin)),
        };
        self
    }

    /// The operator as an integration client may see them: without the PIN's hash.
    pub fn without_pin(mut self) -> Operator {
        self.pin_hash = None;
        self.pin = None;
        self
    }
}

fn default_language() -> String {
    "en".to_string()
}

/// An operator as a merchant system or admin sends it: with the PIN in clear, which the server
/// hashes and never stores or forwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorInput {
    pub id: String,
    pub name: String,
    pub badge: String,
    #[serde(default)]
    pub pin: Option<String>,
    pub roles: Vec<Role>,
    #[serde(default = "default_language")]
    pub language: String,
    /// See [`Operator::count_limits`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_limits: Option<crate::CountLimits>,
}

impl OperatorInput {
    /// The operator with the PIN still in clear: the store hashes it ([`Operator::with_pin_hashed`]).
    pub fn into_operator(self) -> Operator {
        Operator {
            id: self.id,
            name: self.name,
            badge: self.badge,
            pin_hash: None,
            roles: self.roles,
            language: self.language,
            pin: self.pin,
            count_limits: self.count_limits,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeStatus {
    Open,
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeLine {
    pub product_id: String,
    pub expected_qty: i64,
}

/// An advance shipping notice (ASN): what a merchant's supplier says is on its way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundNotice {
    pub id: String,
    pub merchant_id: String,
    /// The reference printed on the delivery papers, scannable.
    pub reference: String,
    /// SSCCs (18 digits) of the pallets or parcels announced.
    #[serde(default)]
    pub ssccs: Vec<String>,
    #[serde(default)]
    pub supplier: String,
    pub lines: Vec<NoticeLine>,
    #[serde(default = "open")]
    pub status: NoticeStatus,
}

fn open() -> NoticeStatus {
    NoticeStatus::Open
}

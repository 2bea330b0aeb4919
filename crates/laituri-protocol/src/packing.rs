//! Packing and shipping: what a packing station needs to pack an order, the parcels it records,
//! and the labels the server books for them.
//!
//! An order whose picks are all at packing is published to every device as a [`PackOrder`]:
//! its goods per tote (with lot and expiry, so the station states exact stock moves), the inserts
//! the merchant's rules added, the kinds of documents to put in. No personal data: the
//! recipient's name and address reach a station only inside a label ([`ShipmentLabels`]), which
//! the server draws and the station keeps only until it is printed.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::OrderLine;

/// A kind of shipping box a packing location stocks. Sizes are inside measures in millimetres.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoxType {
    pub id: String,
    pub name: String,
    /// The code printed on the box shelf's label; the id when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barcode: Option<String>,
    pub inner_mm: [u32; 3],
    pub max_weight_g: u32,
    /// How full a box may be packed, by volume, in percent.
    #[serde(default = "default_fill_pct")]
    pub fill_pct: u32,
    /// The empty box's weight in grams.
    #[serde(default)]
    pub tare_g: u32,
}

fn default_fill_pct() -> u32 {
    80
}

impl BoxType {
    /// The code a scan of this box type's label gives.
    pub fn code(&self) -> &str {
        self.barcode.as_deref().unwrap_or(&self.id)
    }
}

/// An order ready to pack, as every device of the warehouse pulls it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackOrder {
    pub order_id: Uuid,
    pub reference: String,
    pub merchant_id: String,
    pub shipping_method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_point: Option<String>,
    /// Where its totes were dropped, tote by tote, with the goods in each.
    pub goods: Vec<PackGoods>,
    /// Units of the goods that are inserts or gifts the merchant's rules added: the packer
    /// confirms them on a checklist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inserts: Vec<OrderLine>,
    /// The kinds of documents the merchant sent to put in (`receipt`, `return_form`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<String>,
}

impl PackOrder {
    /// The totes that hold the order, in the order they were dropped.
    pub fn totes(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for g in &self.goods {
            if !out.contains(&g.tote.as_str()) {
                out.push(&g.tote);
            }
        }
        out
    }
}

/// Goods of an order in one tote at a packing location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackGoods {
    pub location: String,
    pub tote: String,
    pub product_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    /// ISO date (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
    pub quantity: i64,
}

/// Where a parcel's weight came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightSource {
    /// Read from the station's scale.
    Scale,
    /// Typed by the packer.
    Keypad,
    /// The items' and box's weights added up, accepted by the packer.
    Estimate,
}

/// One parcel of an order: its box, weight and contents, and once booked, its tracking number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parcel {
    /// 1-based within the order.
    pub number: u32,
    /// The box type packed into; `None` for goods shipped in their own packaging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub box_type: Option<String>,
    /// The packer chose another box than the one suggested.
    #[serde(default)]
    pub box_overridden: bool,
    pub weight_g: u32,
    pub weight_source: WeightSource,
    pub contents: Vec<OrderLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_url: Option<String>,
}

/// An order's booking with its carrier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    pub carrier: String,
    pub shipment_id: String,
    /// Server time, Unix milliseconds.
    pub booked_at_ms: i64,
}

/// `POST LABELS`: a station asks for the labels of an order it packed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelRequest {
    pub order_id: Uuid,
}

/// The labels of an order's parcels. Holds the recipient's address (drawn into each label):
/// a station keeps it only until the label is printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentLabels {
    pub order_id: Uuid,
    pub reference: String,
    pub carrier: String,
    pub parcels: Vec<ParcelLabel>,
}

/// One parcel's label: ZPL for a label printer and PNG (Base64) for a screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParcelLabel {
    pub number: u32,
    pub tracking_number: String,
    pub tracking_url: String,
    pub zpl: String,
    pub png_base64: String,
}

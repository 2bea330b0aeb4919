//! Shipping: a packed order's parcels booked with its carrier, their labels kept for reprints,
//! the order `shipped`.
//!
//! A station that finished packing asks for the order's labels (`POST LABELS`). The server
//! books the parcels with the carrier outside any transaction (a carrier is a remote service),
//! under the order's id as the idempotency key, so a booking whose answer was lost, or a server
//! that died before it stored one, books the same shipment again rather than a second one. The
//! booking is then stored in one transaction through the push ledger ([`ship`]'s effects): the
//! tracking numbers on the parcels, the shipment, the labels, the status. An order shipped
//! already answers its stored labels (a reprint); one not yet packed on the server answers 409
//! and the station asks again after its next push.
//!
//! Labels carry the recipient's name and address, so they live in `order_labels`, which an
//! erasure empties with the order's personal row; they never enter events, logs or the change
//! log. The one personal datum a shipment publishes is the customer's name, in the
//! [`ReturnableOrder`] a returns desk finds the return by: kept on terminals for the
//! warehouse's retention, and deleted from the change log and the terminals by an erasure
//! (`Effect::DropReturnable`). The rules here are pure: [`ship`] reads an order and a booking and
//! answers effects.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use laituri_carrier::{
    self as carrier, Address, Carrier, CarrierError, DemoCarrier, ParcelSpec, ShipmentRequest,
};
use laituri_protocol::webhooks::ShippedParcel;
use laituri_protocol::{
    Change, OrderStatus, ParcelLabel, ReturnableOrder, Shipment, ShipmentLabels,
};
use uuid::Uuid;

use crate::orders::{OrderRow, PersonalPart};
use crate::push::Effect;
use crate::store::rows::from_json;
use crate::store::{Store, StoreError};
use crate::webhooks::emit;

/// One parcel's label as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLabel {
    pub parcel: u32,
    pub tracking_number: String,
    pub tracking_url: String,
    pub zpl: String,
    pub png: Vec<u8>,
}

/// What a carrier answered for an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booked {
    pub order_id: Uuid,
    pub carrier: String,
    pub shipment_id: String,
    pub labels: Vec<StoredLabel>,
    /// How long the order stays returnable on the terminals, in milliseconds.
    pub returnable_for_ms: i64,
}

/// The effects of storing `booked` on `order`: its parcels' tracking numbers, the shipment, the
/// labels and the status `shipped`, and the merchant's `order_status_changed` and `order_shipped`
/// webhooks in the same transaction. Nothing when the order is not `packed` (shipped already by
/// another request, or changed meanwhile) or the booking does not name each of its parcels.
pub fn ship(order: &OrderRow, booked: &Booked, now_ms: i64) -> Vec<Effect> {
    if order.status != OrderStatus::Packed || booked.order_id != order.id {
        return Vec::new();
    }
    let order_before = order;
    let mut order = order.clone();
    for parcel in order.packing.parcels.iter_mut() {
        let Some(label) = booked.labels.iter().find(|l| l.parcel == parcel.number) else {
            return Vec::new();
        };
        parcel.tracking_number = Some(label.tracking_number.clone());
        parcel.tracking_url = Some(label.tracking_url.clone());
    }
    order.packing.shipment = Some(Shipment {
        carrier: booked.carrier.clone(),
        shipment_id: booked.shipment_id.clone(),
        booked_at_ms: now_ms,
    });
    let before = emit::Before::of_orders([order_before]);
    order.set_status(OrderStatus::Shipped, None, now_ms);
    let parcels = order
        .packing
        .parcels
        .iter()
        .map(|p| ShippedParcel {
            tracking_number: p.tracking_number.clone().unwrap_or_default(),
            tracking_url: p.tracking_url.clone(),
        })
        .collect();
    let mut effects = emit::order_written(&before, &order, now_ms);
    effects.push(emit::order_shipped(
        &order,
        &booked.carrier,
        parcels,
        now_ms,
    ));
    effects.push(Effect::SaveLabels {
        order_id: order.id,
        labels: booked.labels.clone(),
    });
    effects.push(Effect::PruneReturnables { now_ms });
    if booked.returnable_for_ms > 0 {
        effects.push(Effect::Publish {
            device: None,
            merchant_id: Some(order.merchant_id.clone()),
            change: Change::ReturnableOrder(returnable(&order, now_ms, booked.returnable_for_ms)),
        });
    }
    effects.push(Effect::SaveOrder(order));
    effects
}

/// A shipped order as the terminals keep it to find its return: what it shipped, its parcels'
/// tracking numbers and the customer's name, until `for_ms` after `now_ms`.
fn returnable(order: &OrderRow, now_ms: i64, for_ms: i64) -> ReturnableOrder {
    let personal: Option<PersonalPart> = order
        .personal
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok());
    let lines = order
        .demand
        .clone()
        .or_else(|| order.work_part().ok().map(|w| w.lines))
        .unwrap_or_default();
    ReturnableOrder {
        order_id: order.id,
        merchant_id: order.merchant_id.clone(),
        reference: order.reference.clone(),
        customer_name: personal.map(|p| p.recipient.name),
        tracking: order
            .packing
            .parcels
            .iter()
            .filter_map(|p| p.tracking_number.clone())
            .collect(),
        lines,
        shipped_at_ms: now_ms,
        keep_until_ms: now_ms.saturating_add(for_ms),
    }
}

/// The carrier the server books with and the warehouse's address on every label.
#[derive(Clone)]
pub struct Shipping {
    pub carrier: Arc<dyn Carrier>,
    pub sender: Address,
    /// Days a shipped order stays on the terminals as returnable ([`RETURNS_RETENTION_DAYS`]
    /// unless the warehouse sets another).
    pub returns_retention_days: u32,
}

/// How long a shipped order stays returnable on the terminals unless the warehouse says.
pub const RETURNS_RETENTION_DAYS: u32 = 30;

/// Returnable orders past their retention a shipment deletes from the change log at most (it
/// adds one).
pub const PRUNED_PER_SHIPMENT: u32 = 2;

impl Shipping {
    /// The built-in demo carrier, sending from the demo warehouse.
    pub fn demo() -> Shipping {
        Shipping {
            carrier: Arc::new(DemoCarrier::new()),
            sender: Address {
                name: crate::demo::WAREHOUSE_NAME.to_string(),
                company: None,
                address: "Satamakatu 1".into(),
                address2: None,
                postcode: "00160".into(),
                city: "Helsinki".into(),
                country: "FI".into(),
                phone: None,
                email: None,
            },
            returns_retention_days: RETURNS_RETENTION_DAYS,
        }
    }
}

/// Why an order's labels cannot be given now.
#[derive(Debug, thiserror::Error)]
pub enum LabelFailure {
    #[error("order {0} is not known to the server")]
    UnknownOrder(Uuid),
    /// The station's events have not reached the server yet (or the order is not packed at
    /// all): ask again after the next push.
    #[error(
        "order {reference} is {status} on the server, not packed yet: the label comes when the \
         station's actions have reached the server"
    )]
    NotPacked { reference: String, status: String },
    #[error(
        "order {0}'s customer data was erased: it cannot get a label; give the parcels to a shift \
         lead"
    )]
    Erased(String),
    /// The carrier refused the shipment for good: a lead must fix the order (its address, its
    /// shipping method) with the merchant.
    #[error("the carrier refused order {reference}: {reason}; give the parcels to a shift lead")]
    Refused { reference: String, reason: String },
    /// The carrier did not answer or failed for now: try again later.
    #[error("the carrier is not available now ({0}): the label will be asked for again")]
    CarrierDown(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The labels of `order_id`'s parcels: booked now when the order is packed, or the stored ones
/// when it was shipped before (a reprint).
pub async fn labels(
    store: &dyn Store,
    shipping: &Shipping,
    order_id: Uuid,
) -> Result<ShipmentLabels, LabelFailure> {
    let row = store
        .order_row(order_id)
        .await?
        .ok_or(LabelFailure::UnknownOrder(order_id))?;
    let row = match row.status {
        OrderStatus::Shipped => row,
        OrderStatus::Packed => book(store, shipping, row).await?,
        status => {
            return Err(LabelFailure::NotPacked {
                reference: row.reference,
                status: status.as_str().to_string(),
            });
        }
    };
    let stored = store.order_labels(order_id).await?;
    if stored.is_empty() {
        return Err(LabelFailure::Erased(row.reference));
    }
    let carrier = row
        .packing
        .shipment
        .as_ref()
        .map(|s| s.carrier.clone())
        .unwrap_or_default();
    Ok(ShipmentLabels {
        order_id,
        reference: row.reference,
        carrier,
        parcels: stored
            .into_iter()
            .map(|l| ParcelLabel {
                number: l.parcel,
                tracking_number: l.tracking_number,
                tracking_url: l.tracking_url,
                zpl: l.zpl,
                png_base64: BASE64.encode(&l.png),
            })
            .collect(),
    })
}

/// Books a packed order with the carrier and stores the booking; answers the order after.
async fn book(
    store: &dyn Store,
    shipping: &Shipping,
    row: OrderRow,
) -> Result<OrderRow, LabelFailure> {
    let personal: Option<PersonalPart> = row.personal.as_deref().map(from_json).transpose()?;
    let Some(personal) = personal else {
        return Err(LabelFailure::Erased(row.reference));
    };
    let work = row.work_part()?;
    let r = personal.recipient;
    let request = ShipmentRequest {
        idempotency_key: row.id.to_string(),
        reference: row.reference.clone(),
        service: work.shipping_method,
        pickup_point: work.pickup_point,
        sender: shipping.sender.clone(),
        recipient: Address {
            name: r.name,
            company: None,
            address: r.address,
            address2: r.address2,
            postcode: r.postcode,
            city: r.city,
            country: r.country,
            phone: r.phone,
            email: r.email,
        },
        parcels: row
            .packing
            .parcels
            .iter()
            .map(|p| ParcelSpec {
                number: p.number,
                weight_g: p.weight_g,
                dims_mm: None,
            })
            .collect(),
        cash_on_delivery: work.cash_on_delivery.map(|c| carrier::CashOnDelivery {
            amount_minor: c.amount_minor,
            currency: c.currency,
        }),
    };
    let booking = shipping.carrier.book(&request).await.map_err(|e| match e {
        CarrierError::Rejected { reason } => LabelFailure::Refused {
            reference: row.reference.clone(),
            reason,
        },
        CarrierError::Unavailable { reason } => LabelFailure::CarrierDown(reason),
    })?;
    tracing::info!(
        order = %row.id,
        carrier = shipping.carrier.id(),
        parcels = booking.parcels.len(),
        "order booked with its carrier"
    );
    let booked = Booked {
        order_id: row.id,
        carrier: booking.carrier,
        shipment_id: booking.shipment_id,
        labels: booking
            .parcels
            .into_iter()
            .map(|p| StoredLabel {
                parcel: p.number,
                tracking_number: p.tracking_number,
                tracking_url: p.tracking_url,
                zpl: p.label.zpl,
                png: p.label.png,
            })
            .collect(),
        returnable_for_ms: i64::from(shipping.returns_retention_days) * 86_400_000,
    };
    let reference = row.reference.clone();
    let after = store
        .ship_order(&booked)
        .await?
        .ok_or(LabelFailure::UnknownOrder(booked.order_id))?;
    if after.status != OrderStatus::Shipped {
        // The booking named other parcels than the order has (it changed meanwhile).
        return Err(LabelFailure::NotPacked {
            reference,
            status: after.status.as_str().to_string(),
        });
    }
    Ok(after)
}

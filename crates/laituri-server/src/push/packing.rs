//! Packing's rules: a packing station closes an order's parcels one by one, then finishes the
//! order, and its goods leave the warehouse.
//!
//! An order becomes ready to pack at the drop that brings its last picks to packing
//! ([`super::picking`]): the drop records the goods of each tote (`PackingLife::dropped`) and
//! publishes a [`PackOrder`] to every device, so a station packs it offline. `parcel_packed`
//! records a parcel (box, weight, contents: bookkeeping, no stock moves); the same parcel number
//! again replaces it (the packer opened it again). `packing_finished` moves the goods out of the
//! totes at the packing location and out of the warehouse (through [`super::moves`], like
//! every move), checks that the parcels hold what the order asks, and makes the order `packed`;
//! the station then asks for the labels, and booking them makes it `shipped`
//! (`crate::shipping`). Goods that physically left are applied whatever else is wrong with
//! the event; what the order's bookkeeping cannot take is told as `Partial`, for a lead.
//! Pure: it reads a [`World`] and answers a [`Decision`].

use std::collections::BTreeMap;

use laituri_protocol::{
    Change, EntityKind, EventBody, EventOutcome, LocationKind, OrderLine, OrderStatus, PackGoods,
    PackOrder, Parcel, Removed, StockMove,
};
use uuid::Uuid;

use super::world::{Ctx, Decision, Effect, Refs, World};
use super::{moves, rejected, unknown_location};
use crate::orders::OrderRow;

/// The most parcels one order may ship in.
pub const MAX_PARCELS: u32 = 99;
/// The heaviest parcel a station may record, in grams.
pub const MAX_WEIGHT_G: u32 = 1_000_000;

/// Adds what deciding a packing event reads.
pub(super) fn refs(body: &EventBody, refs: &mut Refs) {
    match body {
        EventBody::ParcelPacked {
            order_id, location, ..
        } => {
            refs.orders.insert(*order_id);
            refs.locations.insert(location.clone());
        }
        EventBody::PackingFinished {
            order_id,
            location,
            moves,
            ..
        } => {
            refs.orders.insert(*order_id);
            refs.locations.insert(location.clone());
            moves::refs(moves, refs);
        }
        _ => {}
    }
}

/// Decides the packing events; anything else is refused.
pub(super) fn decide(body: EventBody, world: &World, ctx: &Ctx) -> Decision {
    match body {
        EventBody::ParcelPacked {
            order_id,
            location,
            parcel,
        } => parcel_packed(world, order_id, &location, parcel),
        EventBody::PackingFinished {
            order_id,
            location,
            parcels,
            moves,
        } => packing_finished(world, ctx, order_id, &location, parcels, &moves),
        other => rejected(
            "unsupported_event_type",
            format!(
                "{} is not a packing event: update the server",
                other.type_name()
            ),
        )
        .into(),
    }
}

fn check_packing_location(world: &World, location: &str) -> Option<EventOutcome> {
    match world.locations.get(location) {
        None => Some(unknown_location(location)),
        Some(LocationKind::Packing) => None,
        Some(kind) => Some(rejected(
            "not_packing",
            format!(
                "location {location} is a {} location, not a packing one: pack at a packing \
                 station",
                kind.as_str()
            ),
        )),
    }
}

/// The order's refusal to be packed now, if it is not ready (or no longer).
fn not_packable(order: &OrderRow) -> Option<String> {
    match order.status {
        OrderStatus::Picked => None,
        OrderStatus::Packed | OrderStatus::Shipped => Some(format!(
            "order {} is packed already: put the parcel aside and give it to a shift lead",
            order.reference
        )),
        status => Some(format!(
            "order {} is {}, not picked: it cannot be packed now; give its totes to a shift lead",
            order.reference,
            status.as_str()
        )),
    }
}

fn parcel_packed(world: &World, order_id: Uuid, location: &str, parcel: Parcel) -> Decision {
    if let Some(r) = check_packing_location(world, location) {
        return r.into();
    }
    if parcel.number == 0 || parcel.number > MAX_PARCELS {
        return rejected(
            "bad_parcel",
            format!(
                "parcel number {} is not possible: parcels are numbered 1 to {MAX_PARCELS}",
                parcel.number
            ),
        )
        .into();
    }
    if parcel.weight_g == 0 || parcel.weight_g > MAX_WEIGHT_G {
        return rejected(
            "bad_weight",
            format!(
                "a parcel of {} g is not possible: weigh the parcel again",
                parcel.weight_g
            ),
        )
        .into();
    }
    if parcel.contents.is_empty() || parcel.contents.iter().any(|l| l.quantity <= 0) {
        return rejected(
            "empty_parcel",
            "a parcel must hold goods: pack its items again",
        )
        .into();
    }
    let Some(order) = world.orders.get(&order_id) else {
        return unknown_order(order_id).into();
    };
    if let Some(reason) = not_packable(order) {
        return rejected("order_not_packable", reason).into();
    }
    let demand = order.demand.clone().unwrap_or_default();
    if let Some(l) = parcel
        .contents
        .iter()
        .find(|l| !demand.iter().any(|d| d.product_id == l.product_id))
    {
        return rejected(
            "not_in_order",
            format!(
                "product {} is not part of order {}: take it out of the parcel and give it to a \
                 shift lead",
                l.product_id, order.reference
            ),
        )
        .into();
    }
    let mut order = order.clone();
    order.packing.parcels.retain(|p| p.number != parcel.number);
    order.packing.parcels.push(Parcel {
        tracking_number: None,
        tracking_url: None,
        ..parcel
    });
    order.packing.parcels.sort_by_key(|p| p.number);
    order.modified_at_ms = world.now_ms;
    Decision::applied(vec![Effect::SaveOrder(order)])
}

fn unknown_order(order_id: Uuid) -> EventOutcome {
    rejected(
        "unknown_order",
        format!("order {order_id} is not known to the server: give the parcel to a shift lead"),
    )
}

fn packing_finished(
    world: &World,
    ctx: &Ctx,
    order_id: Uuid,
    location: &str,
    parcels: u32,
    moves: &[StockMove],
) -> Decision {
    if let Some(r) = check_packing_location(world, location) {
        return r.into();
    }
    if moves.is_empty() {
        return rejected(
            "no_moves",
            "finishing an order ships its goods: pack the order again",
        )
        .into();
    }
    for m in moves {
        let from_here = m
            .from
            .as_ref()
            .is_some_and(|p| p.location == location && p.container.is_some());
        if !from_here || m.to.is_some() {
            return rejected(
                "not_a_shipment",
                format!(
                    "finishing an order at {location} ships the goods out of its totes there: \
                     pack the order again"
                ),
            )
            .into();
        }
    }
    let fx = match moves::decide(world, ctx, moves) {
        Ok(fx) => fx,
        Err(r) => return r.into(),
    };
    let partial = |reason: String, effects: Vec<Effect>| Decision {
        outcome: EventOutcome::Partial {
            code: "packing_not_booked".into(),
            reason,
        },
        effects,
    };
    let Some(order) = world.orders.get(&order_id) else {
        return partial(
            format!(
                "order {order_id} is not known to the server: its goods were booked out; give \
                 the parcels to a shift lead"
            ),
            fx,
        );
    };
    if let Some(reason) = not_packable(order) {
        return partial(format!("{reason}; its goods were booked out"), fx);
    }
    let recorded = order.packing.parcels.len() as u32;
    let numbers_ok = order
        .packing
        .parcels
        .iter()
        .enumerate()
        .all(|(i, p)| p.number == i as u32 + 1);
    if recorded != parcels || !numbers_ok {
        return partial(
            format!(
                "order {} was finished with {parcels} parcels but the server has {recorded}: \
                 its goods were booked out; a shift lead checks its parcels",
                order.reference
            ),
            fx,
        );
    }
    let packed = totals(order.packing.parcels.iter().flat_map(|p| &p.contents));
    let shipped = totals(moves.iter().map(|m| (m.product_id.as_str(), m.quantity)));
    let asked = totals(order.demand.iter().flatten());
    if packed != asked || shipped != asked {
        return partial(
            format!(
                "order {}'s parcels or goods differ from what it asks for: its goods were booked \
                 out; a shift lead checks its parcels",
                order.reference
            ),
            fx,
        );
    }
    let mut order = order.clone();
    order.set_status(OrderStatus::Packed, None, world.now_ms);
    let mut fx = fx;
    fx.push(Effect::Publish {
        device: None,
        merchant_id: Some(order.merchant_id.clone()),
        change: Change::Removed(Removed {
            kind: EntityKind::PackOrder,
            id: order.id.to_string(),
        }),
    });
    fx.push(Effect::SaveOrder(order));
    Decision::applied(fx)
}

/// Units per product.
fn totals<'a, I, L>(lines: I) -> BTreeMap<String, i64>
where
    I: IntoIterator<Item = L>,
    L: Into<Unit<'a>>,
{
    let mut out = BTreeMap::new();
    for l in lines {
        let Unit(product, quantity) = l.into();
        *out.entry(product.to_string()).or_insert(0) += quantity;
    }
    out.retain(|_, q| *q != 0);
    out
}

struct Unit<'a>(&'a str, i64);

impl<'a> From<&'a OrderLine> for Unit<'a> {
    fn from(l: &'a OrderLine) -> Unit<'a> {
        Unit(&l.product_id, l.quantity)
    }
}

impl<'a> From<(&'a str, i64)> for Unit<'a> {
    fn from((p, q): (&'a str, i64)) -> Unit<'a> {
        Unit(p, q)
    }
}

/// Adds the goods a drop brought to packing in `tote` to the order's packing record.
pub(super) fn record_drop(order: &mut OrderRow, location: &str, tote: &str, moves: &[StockMove]) {
    for m in moves {
        let in_tote = m
            .from
            .as_ref()
            .is_some_and(|p| p.container.as_deref() == Some(tote));
        if !in_tote {
            continue;
        }
        let goods = &mut order.packing.dropped;
        match goods.iter_mut().find(|g| {
            g.location == location
                && g.tote == tote
                && g.product_id == m.product_id
                && g.lot == m.lot
                && g.expiry == m.expiry
        }) {
            Some(g) => g.quantity += m.quantity,
            None => goods.push(PackGoods {
                location: location.to_string(),
                tote: tote.to_string(),
                product_id: m.product_id.clone(),
                lot: m.lot.clone(),
                expiry: m.expiry.clone(),
                quantity: m.quantity,
            }),
        }
    }
}

/// What a station needs to pack `order` (picked, its goods at packing); `None` when its work
/// part cannot be read.
pub(crate) fn pack_order(order: &OrderRow) -> Option<PackOrder> {
    let work = order.work_part().ok()?;
    Some(PackOrder {
        order_id: order.id,
        reference: order.reference.clone(),
        merchant_id: order.merchant_id.clone(),
        shipping_method: work.shipping_method,
        pickup_point: work.pickup_point,
        goods: order.packing.dropped.clone(),
        inserts: order.packing.inserts.clone(),
        documents: work.document_kinds,
    })
}

/// The change that tells every device `order` is ready to pack.
pub(super) fn publish_pack_order(order: &OrderRow) -> Option<Effect> {
    pack_order(order).map(|p| Effect::Publish {
        device: None,
        merchant_id: Some(order.merchant_id.clone()),
        change: Change::PackOrder(p),
    })
}

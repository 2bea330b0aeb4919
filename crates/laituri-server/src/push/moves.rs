//! The one path by which stock changes (DESIGN.md section 3, points 5 and 10): every event's
//! [`StockMove`]s are checked here, then subtracted from their `from` place and added to their
//! `to` place as [`Effect::AddStock`], each touched row announced to terminals as a
//! [`Change::Stock`] level.
//!
//! Stock that would go below zero is applied anyway (the goods physically moved) and raises a
//! discrepancy: a `negative_stock` exception and an open count task for the place. A move that
//! breaks a rule (quantity, merchant, product, location, expiry) rejects the whole event before
//! anything is applied.

use std::collections::HashMap;

use laituri_domain::calendar::Date;
use laituri_protocol::{
    Change, EventOutcome, Place, StockLevel, StockMove, Task, TaskKind, TaskLine, TaskStatus,
};

use super::world::{Ctx, Effect, Refs, StockKey, World};
use super::{check_merchant, rejected, unknown_location};
use crate::tasks::TaskRow;

/// The most units one event may move: far beyond any pallet, far below where stock sums could
/// overflow (a stock row would need a trillion such events).
pub const MAX_QUANTITY: i64 = 10_000_000;

/// Adds what deciding `moves` reads: merchants, products, places, the touched stock rows and
/// the count tasks a negative level would look for.
pub(crate) fn refs(moves: &[StockMove], refs: &mut Refs) {
    for m in moves {
        refs.merchants.insert(m.merchant_id.clone());
        refs.products.insert(m.product_id.clone());
        if let Some(from) = &m.from {
            refs.count_reasons
                .insert(negative_stock_reason(&from.location));
        }
        for place in [&m.from, &m.to].into_iter().flatten() {
            refs.locations.insert(place.location.clone());
            refs.stock.insert(key_of(m, place));
        }
    }
}

/// Checks every move; `Some` is the event's rejection, and nothing may be applied then.
pub(crate) fn validate(world: &World, moves: &[StockMove]) -> Option<EventOutcome> {
    for m in moves {
        if let Some(r) = check_merchant(world, &m.merchant_id) {
            return Some(r);
        }
        let (merchant_id, product_id) = (&m.merchant_id, &m.product_id);
        match world.products.get(product_id) {
            None => {
                return Some(rejected(
                    "unknown_product",
                    format!(
                        "product {product_id} is not known to the server: record the barcode as \
                         unknown and set the goods aside for a shift lead"
                    ),
                ));
            }
            Some(owner) if owner != merchant_id => {
                return Some(rejected(
                    "product_of_other_merchant",
                    format!(
                        "product {product_id} belongs to merchant {owner}, not {merchant_id}: \
                         set the goods aside and tell a shift lead; they were not booked"
                    ),
                ));
            }
            Some(_) => {}
        }
        for place in [&m.from, &m.to].into_iter().flatten() {
            if !world.locations.contains_key(&place.location) {
                return Some(unknown_location(&place.location));
            }
        }
        if m.from.is_none() && m.to.is_none() {
            return Some(rejected(
                "move_without_places",
                "a stock move needs a place it comes from or goes to: scan the location again",
            ));
        }
        if m.quantity == 0 {
            return Some(rejected(
                "zero_quantity",
                "a move of 0 units changes nothing: scan the item again or key in the quantity",
            ));
        }
        if m.quantity > MAX_QUANTITY {
            return Some(rejected(
                "quantity_too_large",
                format!(
                    "a move of {} units is more than one event may carry ({MAX_QUANTITY}): count \
                     again; a real delivery that large is booked in several steps",
                    m.quantity
                ),
            ));
        }
        if m.quantity < 0 {
            return Some(rejected(
                "negative_quantity",
                format!(
                    "a move of {} units is not possible: quantities are always positive and the \
                     direction is in from and to; key in the quantity again",
                    m.quantity
                ),
            ));
        }
        if let Some(e) = m.expiry.as_deref()
            && Date::parse_iso(e).is_none()
        {
            return Some(rejected(
                "bad_expiry",
                format!(
                    "expiry {e:?} is not a date in YYYY-MM-DD form: scan the item's GS1 label \
                     again or key in the expiry date"
                ),
            ));
        }
    }
    None
}

/// Checks `moves` and decides their effects; `Err` is the event's rejection (nothing applied).
pub(crate) fn decide(
    world: &World,
    ctx: &Ctx,
    moves: &[StockMove],
) -> Result<Vec<Effect>, EventOutcome> {
    match validate(world, moves) {
        Some(r) => Err(r),
        None => Ok(effects(world, ctx, moves)),
    }
}

/// The effects of moves that passed [`validate`]. Moves of one event that touch one row see
/// each other's levels.
pub(crate) fn effects(world: &World, ctx: &Ctx, moves: &[StockMove]) -> Vec<Effect> {
    let mut fx = Vec::with_capacity(2 * moves.len());
    let mut levels: HashMap<StockKey, i64> = HashMap::new();
    let mut counts_raised: Vec<String> = Vec::new();
    let mut add = |fx: &mut Vec<Effect>, key: StockKey, delta: i64| {
        let level = levels
            .get(&key)
            .copied()
            .unwrap_or_else(|| world.level(&key))
            + delta;
        levels.insert(key.clone(), level);
        let publish = publish_level(ctx, &key, level);
        fx.push(Effect::AddStock { key, delta, level });
        fx.push(publish);
        level
    };
    for m in moves {
        if let Some(from) = &m.from {
            let key = key_of(m, from);
            let level = add(&mut fx, key.clone(), -m.quantity);
            if level < 0 {
                raise_discrepancy(world, ctx, m, &key, level, &mut counts_raised, &mut fx);
            }
        }
        if let Some(to) = &m.to {
            add(&mut fx, key_of(m, to), m.quantity);
        }
    }
    fx
}

pub(crate) fn key_of(m: &StockMove, place: &Place) -> StockKey {
    let some = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    StockKey {
        merchant_id: m.merchant_id.clone(),
        product_id: m.product_id.clone(),
        location: place.location.clone(),
        container: some(&place.container),
        lot: some(&m.lot),
        expiry: some(&m.expiry),
        condition: m.condition,
    }
}

fn publish_level(ctx: &Ctx, key: &StockKey, level: i64) -> Effect {
    Effect::Publish {
        device: None,
        merchant_id: Some(key.merchant_id.clone()),
        change: Change::Stock(StockLevel {
            merchant_id: key.merchant_id.clone(),
            product_id: key.product_id.clone(),
            location: key.location.clone(),
            container: key.container.clone(),
            lot: key.lot.clone(),
            expiry: key.expiry.clone(),
            condition: key.condition,
            quantity: level,
            by_device: Some(ctx.device_id),
            by_seq: Some(ctx.seq),
        }),
    }
}

/// The reason of the count task raised when stock at `location` went below zero.
pub fn negative_stock_reason(location: &str) -> String {
    format!("stock went negative at {location}")
}

fn raise_discrepancy(
    world: &World,
    ctx: &Ctx,
    m: &StockMove,
    key: &StockKey,
    level: i64,
    counts_raised: &mut Vec<String>,
    fx: &mut Vec<Effect>,
) {
    let place = match &key.container {
        Some(c) => format!("{} (container {c})", key.location),
        None => key.location.clone(),
    };
    fx.push(Effect::Exception {
        exception: ctx.exception(
            "negative_stock",
            format!(
                "stock of product {} at {place} went to {level} when {} units were taken from \
                 it: the move was booked; count the place (a count task was opened) and correct \
                 the stock",
                key.product_id, m.quantity
            ),
        ),
        merchant_id: Some(key.merchant_id.clone()),
    });
    let reason = negative_stock_reason(&key.location);
    if counts_raised.contains(&reason) || world.active_task_with_reason(TaskKind::Count, &reason) {
        return;
    }
    let row = TaskRow::new(Task {
        task_id: format!("count-{}-{}", key.location, ctx.event_id),
        kind: TaskKind::Count,
        merchant_id: key.merchant_id.clone(),
        priority: 10,
        status: TaskStatus::Open,
        container: key.container.clone(),
        lines: vec![TaskLine::of(m.same_goods(
            level.saturating_neg(),
            Some(Place {
                location: key.location.clone(),
                container: key.container.clone(),
            }),
            None,
        ))],
        leased_to: None,
        reason: Some(reason.clone()),
        orders: Vec::new(),
    });
    counts_raised.push(reason);
    fx.extend(Effect::save_and_publish_task(row));
}

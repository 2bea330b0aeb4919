//! Picking's rules: goods of an order's pick line go from a bin into the order's tote, a short
//! pick records what was missing, a zero check that finds stock asks for a count, the totes are
//! dropped at packing and the task finishes.
//!
//! Stock changes only through [`super::moves`]: a pick moves goods from the bin to
//! [`IN_TRANSIT`] in the tote, a drop from there to the packing location. The goods move
//! whatever the lease says (they did move); under a lease that is no longer the task's current
//! one, the order's progress is refused (`Partial`, `task_taken`), as in putaway. What a short
//! pick leaves unpicked is reserved again by the planner ([`crate::outbound`]), which runs
//! after the push: elsewhere (a follow-up task) or, with no stock, the order goes on hold.
//! Pure: it reads a [`World`] and answers a [`Decision`].

use laituri_protocol::{
    EventBody, EventOutcome, IN_TRANSIT, LocationKind, OrderStatus, Place, StockMove, Task,
    TaskClaim, TaskKind, TaskLine, TaskStatus,
};
use uuid::Uuid;

use std::collections::BTreeMap;

use super::packing;
use super::putaway::{check_bin, finish_task, stale_claim};
use super::world::{Ctx, Decision, Effect, Refs, World};
use super::{moves, rejected, unknown_location};
use crate::orders::OrderRow;
use crate::tasks::TaskRow;

/// Adds what deciding a picking event reads.
pub(super) fn refs(body: &EventBody, refs: &mut Refs) {
    match body {
        EventBody::Picked {
            task,
            order_id,
            moves,
            ..
        } => {
            refs.tasks.insert(task.task_id.clone());
            refs.orders.insert(*order_id);
            moves::refs(moves, refs);
        }
        EventBody::PickShort {
            task,
            order_id,
            location,
            ..
        } => {
            refs.tasks.insert(task.task_id.clone());
            refs.orders.insert(*order_id);
            refs.locations.insert(location.clone());
            refs.count_reasons.insert(short_pick_reason(location));
        }
        EventBody::ZeroChecked { task, location, .. } => {
            refs.tasks.insert(task.task_id.clone());
            refs.locations.insert(location.clone());
            refs.count_reasons.insert(zero_check_reason(location));
        }
        EventBody::TotesDropped {
            task,
            location,
            totes,
            moves,
        } => {
            refs.tasks.insert(task.task_id.clone());
            refs.locations.insert(location.clone());
            refs.orders.extend(totes.iter().map(|t| t.order_id));
            moves::refs(moves, refs);
        }
        EventBody::PickFinished { task } => {
            refs.tasks.insert(task.task_id.clone());
        }
        _ => {}
    }
}

/// The reason of the count task a short pick at `location` raises.
pub fn short_pick_reason(location: &str) -> String {
    format!("short pick at {location}")
}

/// The reason of the count task a zero check that found stock at `location` raises.
pub fn zero_check_reason(location: &str) -> String {
    format!("zero check found stock at {location}")
}

/// Decides the picking events; anything else is refused.
pub(super) fn decide(body: EventBody, world: &World, ctx: &Ctx) -> Decision {
    match body {
        EventBody::Picked {
            task,
            order_id,
            line_id,
            tote,
            suggested_lot: _,
            moves,
        } => picked(world, ctx, &task, order_id, &line_id, &tote, &moves),
        EventBody::PickShort {
            task,
            order_id,
            line_id,
            location,
            merchant_id,
            product_id,
            lot,
            picked: _,
            missing,
        } => {
            if !world.locations.contains_key(&location) {
                return unknown_location(&location).into();
            }
            if missing <= 0 || missing > moves::MAX_QUANTITY {
                return rejected(
                    "bad_quantity",
                    format!(
                        "a short pick of {missing} missing units is not possible: record the \
                         short pick again with what was not found"
                    ),
                )
                .into();
            }
            let mut fx = Vec::new();
            open_count(
                world,
                ctx,
                &merchant_id,
                &product_id,
                lot,
                &location,
                short_pick_reason(&location),
                &mut fx,
            );
            if let Some(stale) = stale_claim(world, ctx, Some(&task)) {
                return Decision {
                    outcome: stale,
                    effects: fx,
                };
            }
            if let Some(p) = world.picks.get(&(order_id, line_id.clone())) {
                let mut p = p.clone();
                p.short += missing.min(p.open());
                fx.push(Effect::SavePick(p));
            }
            Decision::applied(fx)
        }
        EventBody::ZeroChecked {
            task,
            location,
            merchant_id,
            product_id,
            empty,
        } => {
            if let Some(r) = check_bin(world, &location) {
                return r.into();
            }
            let mut fx = Vec::new();
            if !empty {
                open_count(
                    world,
                    ctx,
                    &merchant_id,
                    &product_id,
                    None,
                    &location,
                    zero_check_reason(&location),
                    &mut fx,
                );
            }
            Decision {
                outcome: stale_claim(world, ctx, Some(&task)).unwrap_or(EventOutcome::Applied),
                effects: fx,
            }
        }
        EventBody::TotesDropped {
            task,
            location,
            totes,
            moves,
        } => {
            match world.locations.get(&location) {
                None => return unknown_location(&location).into(),
                Some(LocationKind::Packing) => {}
                Some(kind) => {
                    return rejected(
                        "not_packing",
                        format!(
                            "location {location} is a {} location, not a packing one: take the \
                             totes to packing and scan the packing location's label",
                            kind.as_str()
                        ),
                    )
                    .into();
                }
            }
            for m in &moves {
                let from_transit = m
                    .from
                    .as_ref()
                    .is_some_and(|p| p.location == IN_TRANSIT && p.container.is_some());
                let to_here = m
                    .to
                    .as_ref()
                    .is_some_and(|p| p.location == location && p.container == from_container(m));
                if !from_transit || !to_here {
                    return rejected(
                        "not_a_drop",
                        format!(
                            "a drop at {location} moves each tote's goods from {IN_TRANSIT} to \
                             {location} in the same tote: drop the totes again"
                        ),
                    )
                    .into();
                }
            }
            let mut fx = match moves::decide(world, ctx, &moves) {
                Ok(fx) => fx,
                Err(r) => return r.into(),
            };
            if let Some(stale) = stale_claim(world, ctx, Some(&task)) {
                return Decision {
                    outcome: stale,
                    effects: fx,
                };
            }
            let mut dropped: BTreeMap<Uuid, OrderRow> = BTreeMap::new();
            for t in &totes {
                let Some(order) = dropped
                    .get(&t.order_id)
                    .or_else(|| world.orders.get(&t.order_id))
                else {
                    continue;
                };
                let mut order = order.clone();
                packing::record_drop(&mut order, &location, &t.tote, &moves);
                dropped.insert(order.id, order);
            }
            for (_, order) in dropped {
                match all_picked(world, &order) {
                    Some(done) => {
                        fx.extend(packing::publish_pack_order(&done));
                        fx.push(Effect::SaveOrder(done));
                    }
                    None => fx.push(Effect::SaveOrder(order)),
                }
            }
            Decision::applied(fx)
        }
        EventBody::PickFinished { task } => {
            if let Some(stale) = stale_claim(world, ctx, Some(&task)) {
                return stale.into();
            }
            Decision::applied(
                world
                    .tasks
                    .get(&task.task_id)
                    .map(finish_task)
                    .unwrap_or_default(),
            )
        }
        other => rejected(
            "unsupported_event_type",
            format!(
                "{} is not a picking event: update the server",
                other.type_name()
            ),
        )
        .into(),
    }
}

fn from_container(m: &StockMove) -> Option<String> {
    m.from.as_ref().and_then(|p| p.container.clone())
}

fn picked(
    world: &World,
    ctx: &Ctx,
    task: &TaskClaim,
    order_id: Uuid,
    line_id: &str,
    tote: &str,
    moves: &[StockMove],
) -> Decision {
    if moves.is_empty() {
        return rejected(
            "no_moves",
            "a pick without goods changes nothing: scan the item and the tote again",
        )
        .into();
    }
    if tote.trim().is_empty() {
        return rejected(
            "no_tote",
            "a pick must name the tote: scan the tote's label",
        )
        .into();
    }
    for m in moves {
        let Some(from) = &m.from else {
            return rejected(
                "no_bin",
                "a pick must say which bin the goods came from: scan the bin's label",
            )
            .into();
        };
        if let Some(r) = check_bin(world, &from.location) {
            return r.into();
        }
        if m.to != Some(Place::in_container(IN_TRANSIT, tote)) {
            return rejected(
                "not_into_tote",
                format!("a pick puts the goods into tote {tote}: scan the tote again"),
            )
            .into();
        }
    }
    let mut fx = match moves::decide(world, ctx, moves) {
        Ok(fx) => fx,
        Err(r) => return r.into(),
    };
    if let Some(stale) = stale_claim(world, ctx, Some(task)) {
        return Decision {
            outcome: stale,
            effects: fx,
        };
    }
    let Some(order) = world.orders.get(&order_id) else {
        return Decision {
            outcome: EventOutcome::Partial {
                code: "unknown_order".into(),
                reason: format!(
                    "order {order_id} is not known to the server: the goods were booked into tote \
                     {tote}; give the tote to a shift lead"
                ),
            },
            effects: fx,
        };
    };
    let units: i64 = moves.iter().map(|m| m.quantity).sum();
    if let Some(p) = world.picks.get(&(order_id, line_id.to_string())) {
        let mut p = p.clone();
        p.picked += units;
        fx.push(Effect::SavePick(p));
    }
    let mut order = order.clone();
    let mut changed = false;
    if !order.totes.iter().any(|t| t == tote) {
        order.totes.push(tote.to_string());
        order.modified_at_ms = world.now_ms;
        changed = true;
    }
    if matches!(order.status, OrderStatus::Reserved | OrderStatus::OnHold) {
        changed |= order.set_status(OrderStatus::Picking, None, world.now_ms);
    }
    if changed {
        fx.push(Effect::SaveOrder(order));
    }
    Decision::applied(fx)
}

/// The order as picked, when every reservation of it is picked or found missing and what is
/// picked covers its demand; `None` while something is still to pick (here or in another task)
/// or to be reserved again.
fn all_picked(world: &World, order: &OrderRow) -> Option<OrderRow> {
    if order.status != OrderStatus::Picking {
        return None;
    }
    let demand = order.demand.as_ref()?;
    let picks: Vec<_> = world.picks_of(order.id).collect();
    if picks.iter().any(|p| p.open() > 0) {
        return None;
    }
    let covered = demand.iter().all(|l| {
        picks
            .iter()
            .filter(|p| p.product_id == l.product_id)
            .map(|p| p.picked)
            .sum::<i64>()
            >= l.quantity
    });
    if !covered {
        return None;
    }
    let mut order = order.clone();
    order.set_status(OrderStatus::Picked, None, world.now_ms);
    Some(order)
}

/// Opens a count task of `location` for `reason`, unless one is open already.
#[allow(clippy::too_many_arguments)]
fn open_count(
    world: &World,
    ctx: &Ctx,
    merchant_id: &str,
    product_id: &str,
    lot: Option<String>,
    location: &str,
    reason: String,
    fx: &mut Vec<Effect>,
) {
    let raised = fx.iter().any(|e| {
        matches!(e, Effect::SaveTask(row) if row.task.reason.as_deref() == Some(reason.as_str()))
    });
    if raised || world.active_task_with_reason(TaskKind::Count, &reason) {
        return;
    }
    let row = TaskRow::new(Task {
        task_id: format!("count-{location}-{}", ctx.event_id),
        kind: TaskKind::Count,
        merchant_id: merchant_id.to_string(),
        priority: 10,
        status: TaskStatus::Open,
        container: None,
        lines: vec![TaskLine::of(StockMove {
            merchant_id: merchant_id.to_string(),
            product_id: product_id.to_string(),
            quantity: 0,
            lot,
            expiry: None,
            serial: None,
            condition: laituri_protocol::GoodsCondition::Good,
            from: Some(Place::at(location)),
            to: None,
            reason: None,
        })],
        leased_to: None,
        reason: Some(reason),
        orders: Vec::new(),
    });
    fx.extend(Effect::save_and_publish_task(row));
}

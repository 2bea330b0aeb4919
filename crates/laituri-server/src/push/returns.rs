//! Returns' rules: a returns desk records a customer's return of a shipped order as one
//! `return_received` event, and its goods enter the warehouse.
//!
//! The event names the order, each line's reason and what became of the goods, and the stock
//! moves that bring them in (through [`super::moves`], like every move): restocked goods from
//! nowhere into the returns tote at the desk, quarantined ones (and those whose restock was
//! blocked) to the quarantine location, goods for the merchant to the desk's location without a
//! tote, disposed ones in and out again. Deciding it:
//! - checks the lines against the moves (every unit a line says came in is moved in, no more);
//! - records the return ([`Effect::SaveReturn`]) for the merchant's API, counts what came back
//!   against what the order shipped and makes the order `partly_returned` or `returned` (its
//!   `order_status_changed` webhook follows from the saved order), and makes the
//!   `return_received` webhook;
//! - makes a putaway task for the tote of restocked goods, as closing a receipt does;
//! - raises an exception for a lead for every line that could not be restocked or is an unknown
//!   barcode: never a silent no-op;
//! - forgets the order on every terminal once it is wholly returned ([`Effect::DropReturnable`]).
//!
//! Goods that physically came in are booked whatever else is wrong with the order's
//! bookkeeping (an unknown order, one not shipped): that part is `Partial`, for a lead. Pure: it
//! reads a [`World`] and answers a [`Decision`].

use std::collections::BTreeMap;

use laituri_protocol::webhooks::{ReturnDisposition, ReturnLine, ReturnReceived, rfc3339_utc};
use laituri_protocol::{
    EventBody, EventOutcome, LocationKind, OrderLine, OrderStatus, Place, ReturnAction,
    ReturnedLine, StockMove, Task, TaskKind, TaskLine, TaskStatus,
};
use uuid::Uuid;

use super::world::{Ctx, Decision, Effect, Refs, World};
use super::{check_merchant, moves, rejected, shown_scan, unknown_location};
use crate::tasks::TaskRow;
use crate::webhooks;

/// The most lines one return may have.
pub const MAX_LINES: usize = 1_000;

/// A return as the server keeps it: no personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnRow {
    pub return_id: Uuid,
    pub merchant_id: String,
    pub order_id: Uuid,
    pub reference: String,
    pub device_id: Uuid,
    pub seq: u64,
    pub location: String,
    pub tote: Option<String>,
    pub lines: Vec<ReturnedLine>,
    pub received_at_ms: i64,
}

/// Adds what deciding a return reads.
pub(super) fn refs(body: &EventBody, refs: &mut Refs) {
    if let EventBody::ReturnReceived {
        order_id,
        merchant_id,
        location,
        tote,
        moves,
        ..
    } = body
    {
        refs.orders.insert(*order_id);
        refs.merchants.insert(merchant_id.clone());
        refs.locations.insert(location.clone());
        if let Some(tote) = tote.as_ref().filter(|t| !t.is_empty()) {
            refs.putaway_containers.insert(tote.clone());
            refs.container_stock
                .insert((location.clone(), tote.clone()));
        }
        moves::refs(moves, refs);
    }
}

/// Decides a return; anything else is refused.
pub(super) fn decide(body: EventBody, world: &World, ctx: &Ctx) -> Decision {
    match body {
        EventBody::ReturnReceived {
            return_id,
            order_id,
            merchant_id,
            location,
            tote,
            lines,
            moves,
        } => {
            let tote = tote.filter(|t| !t.is_empty());
            let ret = Received {
                return_id,
                order_id,
                merchant_id: &merchant_id,
                location: &location,
                tote: tote.as_deref(),
                lines: &lines,
                moves: &moves,
            };
            match received(world, ctx, &ret) {
                Ok(d) | Err(d) => d,
            }
        }
        other => rejected(
            "unsupported_event_type",
            format!(
                "{} is not a returns event: update the server",
                other.type_name()
            ),
        )
        .into(),
    }
}

struct Received<'a> {
    return_id: Uuid,
    order_id: Uuid,
    merchant_id: &'a str,
    location: &'a str,
    tote: Option<&'a str>,
    lines: &'a [ReturnedLine],
    moves: &'a [StockMove],
}

fn refuse(code: &str, reason: impl Into<String>) -> Decision {
    rejected(code, reason).into()
}

/// What is wrong with the lines as recorded, before anything is booked.
fn check_lines(lines: &[ReturnedLine]) -> Option<Decision> {
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Some(refuse(
            "bad_return",
            format!("a return has 1 to {MAX_LINES} lines: record the return again with its items"),
        ));
    }
    for l in lines {
        if l.quantity <= 0 || l.quantity > moves::MAX_QUANTITY {
            return Some(refuse(
                "bad_quantity",
                format!(
                    "a return line of {} units is not possible: count the items again",
                    l.quantity
                ),
            ));
        }
        let named = l.product_id.as_deref().is_some_and(|p| !p.is_empty())
            || l.barcode.as_deref().is_some_and(|b| !b.is_empty());
        if !named {
            return Some(refuse(
                "bad_return",
                "every return line names a product or the barcode scanned: scan the item again",
            ));
        }
        if l.missing {
            if l.product_id.is_none() || l.unexpected {
                return Some(refuse(
                    "bad_return",
                    "a missing line names a product of the order: record the return again",
                ));
            }
        } else if l.reason.is_none() || l.action.is_none() {
            return Some(refuse(
                "bad_return",
                "every returned item needs a reason and what is done with it: choose them and \
                 finish again",
            ));
        }
        if l.action == Some(ReturnAction::Restock) && l.blocked.is_some() {
            return Some(refuse(
                "bad_return",
                "goods whose restock was blocked go to quarantine, not into stock: record the \
                 return again",
            ));
        }
    }
    None
}

/// Units of each product the lines say came in (not missing, a known product).
fn units_in(lines: &[ReturnedLine]) -> BTreeMap<&str, i64> {
    let mut out = BTreeMap::new();
    for l in lines.iter().filter(|l| !l.missing) {
        if let Some(p) = l.product_id.as_deref() {
            *out.entry(p).or_insert(0) += l.quantity;
        }
    }
    out
}

/// What is wrong with the moves against the lines and the desk.
fn check_moves(world: &World, ret: &Received) -> Option<Decision> {
    let mut entered: BTreeMap<&str, i64> = BTreeMap::new();
    for m in ret.moves {
        if m.merchant_id != ret.merchant_id {
            return Some(refuse(
                "bad_return",
                format!(
                    "a return of merchant {}'s order moves only its goods: record the return again",
                    ret.merchant_id
                ),
            ));
        }
        match (&m.from, &m.to) {
            (None, Some(_)) => {
                *entered.entry(m.product_id.as_str()).or_insert(0) += m.quantity;
            }
            // Disposed of: out again from the desk.
            (Some(from), None) if from.location == ret.location && from.container.is_none() => {}
            _ => {
                return Some(refuse(
                    "bad_return",
                    "a return's goods come in from outside the warehouse (and disposed ones \
                     leave from the returns desk): record the return again",
                ));
            }
        }
        if let Some(to) = &m.to
            && to.container.is_some()
            && (to.location != ret.location || to.container.as_deref() != ret.tote)
        {
            return Some(refuse(
                "bad_return",
                "restocked goods go into the return's tote at the returns desk: scan the tote \
                 and record the return again",
            ));
        }
        if let Some(to) = &m.to
            && world.locations.get(&to.location) == Some(&LocationKind::Bin)
        {
            return Some(refuse(
                "bad_return",
                "returned goods do not go straight into a bin: restock them into the tote and \
                 put the tote away",
            ));
        }
    }
    if entered != units_in(ret.lines) {
        return Some(refuse(
            "moves_do_not_match",
            "the goods booked in are not what the return's lines say: record the return again",
        ));
    }
    None
}

fn received(world: &World, ctx: &Ctx, ret: &Received) -> Result<Decision, Decision> {
    if let Some(r) = check_merchant(world, ret.merchant_id) {
        return Err(r.into());
    }
    match world.locations.get(ret.location) {
        None => return Err(unknown_location(ret.location).into()),
        Some(LocationKind::Dock) => {}
        Some(kind) => {
            return Err(refuse(
                "not_a_returns_desk",
                format!(
                    "location {} is a {} location: take returns in at a dock",
                    ret.location,
                    kind.as_str()
                ),
            ));
        }
    }
    if let Some(order) = world.orders.get(&ret.order_id)
        && order.merchant_id != ret.merchant_id
    {
        return Err(refuse(
            "order_of_other_merchant",
            format!(
                "order {} is not merchant {}'s: find the return's order again",
                ret.order_id, ret.merchant_id
            ),
        ));
    }
    if let Some(d) = check_lines(ret.lines) {
        return Err(d);
    }
    if let Some(d) = check_moves(world, ret) {
        return Err(d);
    }
    let mut fx = moves::decide(world, ctx, ret.moves).map_err(Decision::from)?;
    lead_exceptions(ctx, ret, &mut fx);
    let restocked = ret
        .lines
        .iter()
        .any(|l| l.action == Some(ReturnAction::Restock) && !l.missing);
    if restocked
        && let Some(tote) = ret.tote
        && let Some(more) = putaway_task(world, ret, tote, &fx)
    {
        fx.extend(more);
    }
    let Some(order) = world.orders.get(&ret.order_id) else {
        return Ok(partial(
            format!(
                "order {} is not known to the server: the returned goods were booked in; tell a \
                 shift lead",
                ret.order_id
            ),
            fx,
        ));
    };
    if !matches!(
        order.status,
        OrderStatus::Shipped | OrderStatus::PartlyReturned
    ) {
        return Ok(partial(
            format!(
                "order {} is {}, not shipped: the returned goods were booked in; tell a shift \
                 lead",
                order.reference,
                order.status.as_str()
            ),
            fx,
        ));
    }
    let now = world.now_ms;
    let row = ReturnRow {
        return_id: ret.return_id,
        merchant_id: ret.merchant_id.to_string(),
        order_id: order.id,
        reference: order.reference.clone(),
        device_id: ctx.device_id,
        seq: ctx.seq,
        location: ret.location.to_string(),
        tote: ret.tote.map(str::to_string),
        lines: ret.lines.to_vec(),
        received_at_ms: now,
    };
    let mut order = order.clone();
    let shipped = order
        .demand
        .clone()
        .or_else(|| order.work_part().ok().map(|w| w.lines))
        .unwrap_or_default();
    count_returned(&mut order.packing.returned, &shipped, ret.lines);
    let whole = shipped.iter().all(|s| {
        order
            .packing
            .returned
            .iter()
            .filter(|r| r.product_id == s.product_id)
            .map(|r| r.quantity)
            .sum::<i64>()
            >= s.quantity
    });
    let status = if whole {
        OrderStatus::Returned
    } else {
        OrderStatus::PartlyReturned
    };
    if !order.set_status(status, None, now) {
        order.modified_at_ms = now;
    }
    fx.push(webhooks::return_received(
        ret.merchant_id,
        &ReturnReceived {
            return_id: ret.return_id,
            order_id: Some(order.id),
            reference: Some(order.reference.clone()),
            lines: ret
                .lines
                .iter()
                .map(|l| ReturnLine {
                    line: l.clone(),
                    disposition: ReturnDisposition::of(l),
                })
                .collect(),
            received_at: rfc3339_utc(now),
        },
        now,
    ));
    if whole {
        fx.push(Effect::DropReturnable {
            order_id: order.id,
            merchant_id: order.merchant_id.clone(),
        });
    }
    fx.push(Effect::SaveReturn(row));
    fx.push(Effect::SaveOrder(order));
    Ok(Decision::applied(fx))
}

fn partial(reason: String, effects: Vec<Effect>) -> Decision {
    Decision {
        outcome: EventOutcome::Partial {
            code: "return_not_booked".into(),
            reason,
        },
        effects,
    }
}

/// Adds the order's units among `lines` to what came back of it: only what it shipped, never
/// more (the rest is unexpected).
fn count_returned(returned: &mut Vec<OrderLine>, shipped: &[OrderLine], lines: &[ReturnedLine]) {
    for l in lines.iter().filter(|l| !l.missing && !l.unexpected) {
        let Some(product) = l.product_id.as_deref() else {
            continue;
        };
        let cap: i64 = shipped
            .iter()
            .filter(|s| s.product_id == product)
            .map(|s| s.quantity)
            .sum();
        match returned.iter_mut().find(|r| r.product_id == product) {
            Some(r) => r.quantity = (r.quantity + l.quantity).min(cap),
            None if cap > 0 => returned.push(OrderLine {
                product_id: product.to_string(),
                quantity: l.quantity.min(cap),
            }),
            None => {}
        }
    }
}

/// An exception for a lead per line that could not be restocked or that no product matched.
fn lead_exceptions(ctx: &Ctx, ret: &Received, fx: &mut Vec<Effect>) {
    for l in ret.lines.iter().filter(|l| !l.missing) {
        let what = match (&l.product_id, &l.barcode) {
            (Some(p), _) => format!("product {p}"),
            (None, Some(b)) => format!("barcode {}", shown_scan(b)),
            (None, None) => "an item".to_string(),
        };
        let (kind, message) = if l.product_id.is_none() {
            (
                "return_unknown_item",
                format!(
                    "{} unit(s) of {what} came back in a return that no product of merchant {} \
                     matches: they were set aside at {}; identify them with the merchant",
                    l.quantity, ret.merchant_id, ret.location
                ),
            )
        } else if let Some(block) = l.blocked {
            (
                "restock_blocked",
                format!(
                    "{} returned unit(s) of {what} could not be restocked ({}): they went to \
                     quarantine; inspect them and decide with the merchant",
                    l.quantity,
                    block.as_str()
                ),
            )
        } else {
            continue;
        };
        let mut exception = ctx.exception(kind, message);
        exception.merchant_id = Some(ret.merchant_id.to_string());
        fx.push(Effect::Exception {
            exception,
            merchant_id: Some(ret.merchant_id.to_string()),
        });
    }
}

/// The putaway task of the tote the restocked goods went into: one open task with what the tote
/// holds after this return; an open task of the tote gets the new contents, a leased one keeps
/// its lines (its holder reads the tote as it is).
fn putaway_task(world: &World, ret: &Received, tote: &str, fx: &[Effect]) -> Option<Vec<Effect>> {
    let mut after = world.clone();
    for e in fx {
        after.apply(e);
    }
    let lines: Vec<TaskLine> = after
        .container_stock(ret.location, tote)
        .into_iter()
        .filter(|(k, q)| *q > 0 && !k.condition.is_quarantine() && k.merchant_id == ret.merchant_id)
        .map(|(k, q)| {
            TaskLine::of(StockMove {
                merchant_id: k.merchant_id.clone(),
                product_id: k.product_id.clone(),
                quantity: q,
                lot: k.lot.clone(),
                expiry: k.expiry.clone(),
                serial: None,
                condition: k.condition,
                from: Some(Place {
                    location: k.location.clone(),
                    container: k.container.clone(),
                }),
                to: None,
                reason: None,
            })
        })
        .collect();
    if lines.is_empty() {
        return None;
    }
    let row = match world.putaway_task_of(tote) {
        Some(t) if t.task.status == TaskStatus::Leased => return None,
        Some(t) => {
            let mut row = t.clone();
            row.task.lines = lines;
            row
        }
        None => TaskRow::new(Task {
            task_id: format!("putaway-{tote}-{}", ret.return_id),
            kind: TaskKind::Putaway,
            merchant_id: ret.merchant_id.to_string(),
            priority: 0,
            status: TaskStatus::Open,
            container: Some(tote.to_string()),
            lines,
            leased_to: None,
            reason: None,
            orders: Vec::new(),
        }),
    };
    Some(Effect::save_and_publish_task(row).into())
}

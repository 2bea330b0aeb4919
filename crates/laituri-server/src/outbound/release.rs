//! Releasing reserved orders into pick tasks ([`run`]).
//!
//! Every order goes into one tote. A task is one cart: orders of one merchant and one priority
//! (urgent orders never wait behind normal ones on a cart), added oldest first while the cart's
//! limits hold: totes, lines, volume and weight (from the products' units, where known). An
//! order too big for any cart alone still gets a task of its own. With one tote per cart every
//! task is a single order. Orders released go to `picking`: from then on they are no longer
//! replaced or cancelled.
//!
//! Lines come in the order the picker walks them ([`route`]): zone by zone (in walking order),
//! and within a zone whose bins say their aisle and bay, by the route
//! [`laituri_domain::route::sequence`] chooses (a plain S-shape or largest-gap walk when that
//! is within a few per cent of the shortest, else the shortest); in `walk_order` otherwise.

use std::collections::{BTreeMap, HashMap};

use laituri_domain::route::{Stop, Warehouse, sequence};
use laituri_protocol::{
    GoodsCondition, IN_TRANSIT, OrderStatus, Place, StockMove, Task, TaskKind, TaskLine, TaskOrder,
    TaskStatus,
};
use uuid::Uuid;

use super::{PickRow, Snapshot};
use crate::orders::OrderRow;

/// What one cart takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReleasePolicy {
    /// Totes on a cart: orders per task. 1 makes single-order tasks.
    pub totes: u32,
    /// Pick lines per task.
    pub max_lines: u32,
    /// Millilitres and grams a cart carries at most.
    pub max_volume_ml: u64,
    pub max_weight_g: u64,
}

impl Default for ReleasePolicy {
    fn default() -> ReleasePolicy {
        ReleasePolicy {
            totes: 6,
            max_lines: 60,
            max_volume_ml: 300_000,
            max_weight_g: 150_000,
        }
    }
}

/// One order's unreleased reservations and what they weigh.
struct Candidate {
    order: usize,
    picks: Vec<usize>,
    volume_ml: u64,
    weight_g: u64,
}

/// Releases the orders with unreleased reservations into tasks, in place (`orders` to picking,
/// `picks` get their task). Answers the tasks made.
pub(super) fn run(
    snap: &Snapshot,
    policy: &ReleasePolicy,
    orders: &mut [OrderRow],
    picks: &mut [PickRow],
    new_task_id: &mut dyn FnMut() -> String,
) -> Vec<Task> {
    let index: HashMap<Uuid, usize> = orders.iter().enumerate().map(|(i, o)| (o.id, i)).collect();
    let mut waiting: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, p) in picks.iter().enumerate() {
        if p.task_id.is_some() || p.open() == 0 {
            continue;
        }
        if let Some(&o) = index.get(&p.order_id)
            && matches!(
                orders[o].status,
                OrderStatus::Reserved | OrderStatus::Picking
            )
        {
            waiting.entry(o).or_default().push(i);
        }
    }
    let mut candidates: Vec<Candidate> = waiting
        .into_iter()
        .map(|(order, picks_of)| {
            let (mut volume_ml, mut weight_g) = (0u64, 0u64);
            for &i in &picks_of {
                let p = &picks[i];
                let units = p.open().max(0) as u64;
                if let Some(product) = snap.products.get(&p.product_id) {
                    volume_ml += units * u64::from(product.volume_ml.unwrap_or(0));
                    weight_g += units * u64::from(product.weight_g.unwrap_or(0));
                }
            }
            Candidate {
                order,
                picks: picks_of,
                volume_ml,
                weight_g,
            }
        })
        .collect();
    // Urgent first; one merchant and one priority per cart; oldest first within.
    candidates.sort_by_key(|c| {
        let o = &orders[c.order];
        (-o.priority, o.merchant_id.clone(), o.created_at_ms, o.id)
    });

    let mut tasks = Vec::new();
    let mut cart: Vec<Candidate> = Vec::new();
    for c in candidates {
        if let Some(first) = cart.first()
            && !fits(policy, orders, &cart, first, &c)
        {
            tasks.push(task_of(
                snap,
                orders,
                picks,
                std::mem::take(&mut cart),
                new_task_id,
            ));
        }
        cart.push(c);
    }
    if !cart.is_empty() {
        tasks.push(task_of(snap, orders, picks, cart, new_task_id));
    }
    tasks
}

/// Whether `next` joins the cart holding `cart` (whose first order is `first`).
fn fits(
    policy: &ReleasePolicy,
    orders: &[OrderRow],
    cart: &[Candidate],
    first: &Candidate,
    next: &Candidate,
) -> bool {
    let (a, b) = (&orders[first.order], &orders[next.order]);
    let lines: usize = cart.iter().map(|c| c.picks.len()).sum::<usize>() + next.picks.len();
    let volume: u64 = cart.iter().map(|c| c.volume_ml).sum::<u64>() + next.volume_ml;
    let weight: u64 = cart.iter().map(|c| c.weight_g).sum::<u64>() + next.weight_g;
    a.merchant_id == b.merchant_id
        && a.priority == b.priority
        && (cart.len() as u32) < policy.totes.max(1)
        && lines <= policy.max_lines as usize
        && volume <= policy.max_volume_ml
        && weight <= policy.max_weight_g
}

fn task_of(
    snap: &Snapshot,
    orders: &mut [OrderRow],
    picks: &mut [PickRow],
    cart: Vec<Candidate>,
    new_task_id: &mut dyn FnMut() -> String,
) -> Task {
    let task_id = new_task_id();
    let first = &orders[cart[0].order];
    let (merchant_id, priority) = (first.merchant_id.clone(), first.priority);
    let mut task_orders = Vec::new();
    let mut lines: Vec<TaskLine> = Vec::new();
    for (slot, c) in cart.iter().enumerate() {
        let slot = slot as u32 + 1;
        let order = &mut orders[c.order];
        task_orders.push(TaskOrder {
            order_id: order.id,
            reference: order.reference.clone(),
            slot,
            tote: None,
        });
        if order.status == OrderStatus::Reserved {
            order.set_status(
                OrderStatus::Picking,
                Some(format!("released into pick task {task_id}")),
                snap.now_ms,
            );
        }
        for &i in &c.picks {
            let p = &mut picks[i];
            p.task_id = Some(task_id.clone());
            lines.push(line_of(p));
        }
    }
    let lines = route(snap, lines);
    Task {
        task_id,
        kind: TaskKind::Pick,
        merchant_id,
        priority,
        status: TaskStatus::Open,
        container: None,
        lines,
        leased_to: None,
        reason: None,
        orders: task_orders,
    }
}

/// How far apart bays and aisles are, in decimetres, for routing: a bay of 1.3 m, aisles 3 m
/// apart (a site with other measures walks nearly the same routes: only their ratio matters).
const BAY_WIDTH_DM: u32 = 13;
const AISLE_PITCH_DM: u32 = 30;

/// `lines` in the order a picker walks them: zone after zone, each zone routed.
fn route(snap: &Snapshot, lines: Vec<TaskLine>) -> Vec<TaskLine> {
    let bin = |l: &TaskLine| {
        l.goods
            .from
            .as_ref()
            .and_then(|p| snap.locations.get(&p.location))
    };
    let walk = |l: &TaskLine| bin(l).map(|b| b.walk_order).unwrap_or(u32::MAX);
    let code = |l: &TaskLine| l.goods.from.as_ref().map(|p| p.location.clone());
    let mut zones: BTreeMap<(u32, String), Vec<TaskLine>> = BTreeMap::new();
    let mut first_walk: HashMap<String, u32> = HashMap::new();
    for l in &lines {
        let zone = bin(l).map(|b| b.zone.clone()).unwrap_or_default();
        let w = first_walk.entry(zone).or_insert(u32::MAX);
        *w = (*w).min(walk(l));
    }
    for l in lines {
        let zone = bin(&l).map(|b| b.zone.clone()).unwrap_or_default();
        zones.entry((first_walk[&zone], zone)).or_default().push(l);
    }
    let mut out = Vec::new();
    for (_, mut zone) in zones {
        zone.sort_by_key(|l| (walk(l), code(l)));
        let stops: Option<Vec<Stop>> = zone
            .iter()
            .map(|l| {
                let b = bin(l)?;
                Some(Stop {
                    aisle: b.aisle?,
                    bay: b.bay?,
                })
            })
            .collect();
        match stops {
            Some(stops) if !stops.is_empty() => {
                let warehouse = Warehouse {
                    aisles: stops.iter().map(|s| s.aisle).max().unwrap_or(1),
                    bays: stops.iter().map(|s| s.bay).max().unwrap_or(1),
                    bay_width: BAY_WIDTH_DM,
                    aisle_pitch: AISLE_PITCH_DM,
                    depot_aisle: 1,
                };
                let mut slots: Vec<Option<TaskLine>> = zone.into_iter().map(Some).collect();
                out.extend(
                    sequence(&warehouse, &stops)
                        .into_iter()
                        .filter_map(|i| slots.get_mut(i).and_then(Option::take)),
                );
                // A stop the route left out (it never does) still comes, last.
                out.extend(slots.into_iter().flatten());
            }
            _ => out.extend(zone),
        }
    }
    out
}

fn line_of(p: &PickRow) -> TaskLine {
    TaskLine {
        goods: StockMove {
            merchant_id: p.merchant_id.clone(),
            product_id: p.product_id.clone(),
            quantity: p.open(),
            lot: p.lot.clone(),
            expiry: p.expiry.clone(),
            serial: None,
            condition: GoodsCondition::Good,
            from: Some(Place::at(p.location.clone())),
            to: Some(Place::at(IN_TRANSIT)),
            reason: None,
        },
        order_id: Some(p.order_id),
        line_id: Some(p.line_id.clone()),
    }
}

//! Orders going out: stock reserved for them and their release into pick tasks, as pure rules
//! over a snapshot of one warehouse ([`Snapshot`] -> [`Plan`]).
//!
//! A backend loads the snapshot (the orders waiting for stock or a task, their reservations, the
//! good stock in bins of the products they need) in one transaction, calls [`plan`], and writes
//! the plan's [`Effect`]s through the same ledger that writes a push, before it commits. Two
//! planners never run at once in a warehouse (SQLite has one writer; PostgreSQL takes a
//! transaction-level advisory lock), so two orders never reserve the same units.
//!
//! - [`reserve`]: what an order asks to be picked (kits as their components, the merchant's
//!   inserts added), and stock reserved for it lot by lot, first expiry first out, never an
//!   expired lot or one below the merchant's minimum remaining shelf life. An order is reserved
//!   whole or not at all (on hold, with the reason), highest priority and oldest first; a short
//!   pick's rest is reserved again elsewhere or puts the order on hold.
//! - [`release`]: reserved orders into pick tasks, one tote per order: a cart takes orders of
//!   one merchant and one priority up to its limits (totes, lines, volume, weight); urgent first.

use std::collections::{BTreeMap, BTreeSet};

use laituri_domain::calendar::Date;
use laituri_protocol::{Location, Merchant, OrderStatus, Product};
use uuid::Uuid;

use crate::orders::OrderRow;
use crate::push::Effect;
use crate::tasks::TaskRow;

pub mod load;
pub mod release;
pub mod reserve;

pub use release::ReleasePolicy;

/// Stock reserved for an order: `quantity` units of one lot in one bin, of which `picked` were
/// picked and `short` were found missing. Both backends store it as a row of `picks`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickRow {
    pub order_id: Uuid,
    /// Unique within the order: `1`, `2`, ... in the order they were reserved.
    pub line_id: String,
    pub merchant_id: String,
    pub product_id: String,
    pub location: String,
    pub lot: Option<String>,
    pub expiry: Option<String>,
    pub quantity: i64,
    pub picked: i64,
    pub short: i64,
    /// The pick task it was released into.
    pub task_id: Option<String>,
}

impl PickRow {
    /// Units still to pick.
    pub fn open(&self) -> i64 {
        (self.quantity - self.picked - self.short).max(0)
    }

    /// Units this row stands for in the order's demand: all but what was found missing.
    pub fn covered(&self) -> i64 {
        (self.quantity - self.short).max(0)
    }
}

/// Good stock of a product in a bin, outside any container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinStock {
    pub merchant_id: String,
    pub product_id: String,
    pub location: String,
    pub lot: Option<String>,
    pub expiry: Option<String>,
    pub quantity: i64,
}

/// What the planner reads.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub today: Option<Date>,
    pub now_ms: i64,
    /// Orders that may need stock or a task: new, on hold, reserved, picking.
    pub orders: Vec<OrderRow>,
    /// Every reservation of those orders, and every open one of the products they need.
    pub picks: Vec<PickRow>,
    /// Good stock in bins of the products those orders need.
    pub stock: Vec<BinStock>,
    pub products: BTreeMap<String, Product>,
    pub merchants: BTreeMap<String, Merchant>,
    /// The bins holding that stock.
    pub locations: BTreeMap<String, Location>,
}

/// The statuses of the orders a planner looks at.
pub const ACTIVE: [OrderStatus; 4] = [
    OrderStatus::New,
    OrderStatus::OnHold,
    OrderStatus::Reserved,
    OrderStatus::Picking,
];

/// What one run did, for the caller and the log.
pub type PlanSummary = laituri_protocol::ReleaseOrdersResult;

/// The writes of one run, in order, and what they mean.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub effects: Vec<Effect>,
    pub summary: PlanSummary,
}

/// The products a snapshot must hold for `orders`: their lines, their demand, the merchants'
/// inserts, and (given the products known so far) the components of kits among them.
pub fn wanted_products(
    orders: &[OrderRow],
    merchants: &BTreeMap<String, Merchant>,
    known: &BTreeMap<String, Product>,
) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for o in orders {
        if let Some(d) = &o.demand {
            ids.extend(d.iter().map(|l| l.product_id.clone()));
        }
        if let Ok(w) = o.work_part() {
            ids.extend(w.lines.iter().map(|l| l.product_id.clone()));
        }
        if let Some(m) = merchants.get(&o.merchant_id) {
            ids.extend(m.rules.inserts.iter().map(|i| i.product_id.clone()));
        }
    }
    let kits: Vec<String> = ids
        .iter()
        .filter_map(|id| known.get(id))
        .flat_map(|p| p.kit.iter().map(|c| c.product_id.clone()))
        .collect();
    ids.extend(kits);
    ids.sort();
    ids.dedup();
    ids
}

/// Reserves stock for the snapshot's orders and releases the reserved ones into pick tasks.
/// `new_task_id` names each task made. Pure.
pub fn plan(
    snap: &Snapshot,
    policy: &ReleasePolicy,
    new_task_id: &mut dyn FnMut() -> String,
) -> Plan {
    let mut orders = snap.orders.clone();
    let mut picks = snap.picks.clone();
    let before_orders: BTreeMap<Uuid, OrderRow> =
        orders.iter().map(|o| (o.id, o.clone())).collect();
    let before_picks = picks.len();
    let mut summary = reserve::run(snap, &mut orders, &mut picks);
    let tasks = release::run(snap, policy, &mut orders, &mut picks, new_task_id);
    summary.tasks = tasks.len() as u32;
    summary.orders_released = tasks.iter().map(|t| t.orders.len() as u32).sum();

    let mut effects = Vec::new();
    for o in &orders {
        if before_orders.get(&o.id) != Some(o) {
            effects.push(Effect::SaveOrder(o.clone()));
        }
    }
    let old: BTreeMap<(Uuid, &str), &PickRow> = snap
        .picks
        .iter()
        .map(|p| ((p.order_id, p.line_id.as_str()), p))
        .collect();
    // Products whose reserved (and so available) stock the plan changes: their merchants are
    // told, as of a stock move.
    let mut reserved: BTreeSet<(&str, &str)> = BTreeSet::new();
    for (i, p) in picks.iter().enumerate() {
        let was = if i >= before_picks {
            None
        } else {
            old.get(&(p.order_id, p.line_id.as_str())).copied()
        };
        if was.map(PickRow::open) != Some(p.open()) {
            reserved.insert((p.merchant_id.as_str(), p.product_id.as_str()));
        }
        let changed = i >= before_picks || was != Some(p);
        if changed {
            effects.push(Effect::SavePick(p.clone()));
        }
    }
    for task in tasks {
        effects.extend(Effect::save_and_publish_task(TaskRow::new(task)));
    }
    let before = crate::webhooks::Before::of_orders(&snap.orders);
    let notices = crate::webhooks::emit::order_changes(&before, &effects, snap.now_ms);
    effects.extend(notices);
    effects.extend(crate::webhooks::emit::stock_levels_changed(
        reserved,
        snap.now_ms,
    ));
    Plan { effects, summary }
}

#[cfg(test)]
pub(crate) mod tests;

/// Stock per product as a merchant sees it, from the product's stock rows (with the kind of
/// their location) and its open reservations. Pure; both backends call it.
pub fn summarise(
    merchant_id: &str,
    product_id: &str,
    rows: &[(
        laituri_protocol::StockRow,
        Option<laituri_protocol::LocationKind>,
    )],
    picks: &[PickRow],
    by_location: bool,
) -> laituri_protocol::StockSummary {
    use laituri_protocol::{GoodsCondition, LocationKind, LocationStock};
    let reserved_at = |r: &laituri_protocol::StockRow| -> i64 {
        if r.container.is_some() || r.condition != GoodsCondition::Good {
            return 0;
        }
        picks
            .iter()
            .filter(|p| p.location == r.location && p.lot == r.lot && p.expiry == r.expiry)
            .map(PickRow::open)
            .sum()
    };
    let on_hand = rows.iter().map(|(r, _)| r.quantity).sum();
    let reserved: i64 = picks.iter().map(PickRow::open).sum();
    let pickable: i64 = rows
        .iter()
        .filter(|(r, kind)| {
            *kind == Some(LocationKind::Bin)
                && r.container.is_none()
                && r.condition == GoodsCondition::Good
        })
        .map(|(r, _)| r.quantity.max(0))
        .sum();
    let locations = if by_location {
        rows.iter()
            .map(|(r, _)| LocationStock {
                location: r.location.clone(),
                container: r.container.clone(),
                lot: r.lot.clone(),
                expiry: r.expiry.clone(),
                condition: r.condition,
                quantity: r.quantity,
                reserved: reserved_at(r),
            })
            .collect()
    } else {
        Vec::new()
    };
    laituri_protocol::StockSummary {
        merchant_id: merchant_id.to_string(),
        product_id: product_id.to_string(),
        on_hand,
        reserved,
        available: (pickable - reserved).max(0),
        locations,
    }
}

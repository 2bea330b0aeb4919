//! Reserving stock for orders: what an order asks to be picked ([`demand`]) and which lots in
//! which bins it gets ([`run`]).
//!
//! Rules, in the order they apply:
//! - An order's demand is its lines with every kit replaced by its components (kits of kits
//!   too, a few levels deep), plus the merchant's inserts whose condition the order meets,
//!   merged by product. It is fixed at the order's first reservation.
//! - Lots go first expiry first out (lots without expiry last), then in walking order. A lot is
//!   never reserved when it is expired or has fewer days left than the merchant's minimum
//!   remaining shelf life (counted from today).
//! - An order is reserved whole or not at all: when some product is short, it goes on hold with
//!   the reason and reserves nothing, so the stock stays free for orders that can go. Inserts are
//!   reserved as far as there is stock and never hold an order.
//! - Orders go by priority (higher first), then oldest first, so an order released later never
//!   takes stock from an earlier one.
//! - An order whose picking came up short asks again for what was found missing: reserved
//!   elsewhere it goes on picking (a follow-up task); else it waits on hold, and is reserved
//!   when stock arrives.

use std::collections::{BTreeMap, HashMap};

use laituri_domain::calendar::Date;
use laituri_protocol::{Merchant, OrderLine, OrderStatus, Product};
use uuid::Uuid;

use super::{PickRow, PlanSummary, Snapshot};
use crate::orders::OrderRow;

/// How deep kits may nest.
const KIT_DEPTH: usize = 4;

/// One product an order asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub product_id: String,
    pub quantity: i64,
    /// An insert or free gift: reserved as far as there is stock.
    pub insert: bool,
}

/// What an order of `lines` (worth `value_minor`) asks to be picked, or why it cannot be.
pub fn demand(
    lines: &[OrderLine],
    value_minor: Option<i64>,
    merchant: Option<&Merchant>,
    products: &BTreeMap<String, Product>,
) -> Result<Vec<Need>, String> {
    let mut needs: Vec<Need> = Vec::new();
    let mut add = |product_id: &str, quantity: i64, insert: bool| match needs
        .iter_mut()
        .find(|n| n.product_id == product_id && n.insert == insert)
    {
        Some(n) => n.quantity += quantity,
        None => needs.push(Need {
            product_id: product_id.to_string(),
            quantity,
            insert,
        }),
    };
    for line in lines {
        expand(&line.product_id, line.quantity, products, 0, &mut |p, q| {
            add(p, q, false)
        })?;
    }
    for rule in merchant.map(|m| m.rules.inserts.as_slice()).unwrap_or(&[]) {
        let applies = match rule.min_order_value_minor {
            None => true,
            Some(min) => value_minor.is_some_and(|v| v >= min),
        };
        if applies && rule.quantity > 0 {
            expand(&rule.product_id, rule.quantity, products, 0, &mut |p, q| {
                add(p, q, true)
            })?;
        }
    }
    Ok(needs)
}

fn expand(
    product_id: &str,
    quantity: i64,
    products: &BTreeMap<String, Product>,
    depth: usize,
    out: &mut dyn FnMut(&str, i64),
) -> Result<(), String> {
    let Some(p) = products.get(product_id) else {
        return Err(format!(
            "product {product_id} is not known to the warehouse"
        ));
    };
    if p.kit.is_empty() {
        out(product_id, quantity);
        return Ok(());
    }
    if depth >= KIT_DEPTH {
        return Err(format!(
            "kit {product_id} nests kits more than {KIT_DEPTH} deep: fix the kit's components"
        ));
    }
    for c in &p.kit {
        expand(
            &c.product_id,
            quantity.saturating_mul(c.quantity),
            products,
            depth + 1,
            out,
        )?;
    }
    Ok(())
}

/// A lot in a bin that reservations may take from, with what is still free of it.
#[derive(Debug, Clone)]
struct Lot {
    location: String,
    lot: Option<String>,
    expiry: Option<String>,
    free: i64,
    walk_order: u32,
}

/// The free stock of every product, lots in the order they are to be taken.
struct Pool {
    lots: BTreeMap<(String, String), Vec<Lot>>,
}

impl Pool {
    fn new(snap: &Snapshot, picks: &[PickRow]) -> Pool {
        let mut lots: BTreeMap<(String, String), Vec<Lot>> = BTreeMap::new();
        for s in &snap.stock {
            if s.quantity <= 0 {
                continue;
            }
            let walk_order = snap
                .locations
                .get(&s.location)
                .map(|l| l.walk_order)
                .unwrap_or(u32::MAX);
            lots.entry((s.merchant_id.clone(), s.product_id.clone()))
                .or_default()
                .push(Lot {
                    location: s.location.clone(),
                    lot: s.lot.clone(),
                    expiry: s.expiry.clone(),
                    free: s.quantity,
                    walk_order,
                });
        }
        for p in picks {
            let open = p.open();
            if open == 0 {
                continue;
            }
            if let Some(lots) = lots.get_mut(&(p.merchant_id.clone(), p.product_id.clone()))
                && let Some(l) = lots
                    .iter_mut()
                    .find(|l| l.location == p.location && l.lot == p.lot && l.expiry == p.expiry)
            {
                l.free -= open;
            }
        }
        for v in lots.values_mut() {
            // First expiry first out; no expiry last; then the walk.
            v.sort_by(|a, b| {
                (
                    a.expiry.is_none(),
                    &a.expiry,
                    a.walk_order,
                    &a.location,
                    &a.lot,
                )
                    .cmp(&(
                        b.expiry.is_none(),
                        &b.expiry,
                        b.walk_order,
                        &b.location,
                        &b.lot,
                    ))
            });
        }
        Pool { lots }
    }

    /// Units of a product that may be reserved for the merchant today.
    fn available(&self, merchant: &str, product: &str, earliest: Date) -> i64 {
        self.eligible(merchant, product, earliest)
            .map(|l| l.free.max(0))
            .sum()
    }

    fn eligible<'a>(
        &'a self,
        merchant: &str,
        product: &str,
        earliest: Date,
    ) -> impl Iterator<Item = &'a Lot> {
        self.lots
            .get(&(merchant.to_string(), product.to_string()))
            .into_iter()
            .flatten()
            .filter(move |l| usable(l.expiry.as_deref(), earliest))
    }

    /// Takes `quantity` units, lot by lot; answers (lot, units) taken.
    fn take(&mut self, merchant: &str, product: &str, quantity: i64, earliest: Date) -> Vec<Lot> {
        let mut left = quantity;
        let mut taken = Vec::new();
        let Some(lots) = self
            .lots
            .get_mut(&(merchant.to_string(), product.to_string()))
        else {
            return taken;
        };
        for l in lots.iter_mut() {
            if left == 0 {
                break;
            }
            if l.free <= 0 || !usable(l.expiry.as_deref(), earliest) {
                continue;
            }
            let n = l.free.min(left);
            l.free -= n;
            left -= n;
            taken.push(Lot {
                free: n,
                ..l.clone()
            });
        }
        taken
    }
}

/// A lot may be reserved when it has no expiry or expires on `earliest` or later.
fn usable(expiry: Option<&str>, earliest: Date) -> bool {
    match expiry {
        None => true,
        Some(e) => Date::parse_iso(e).is_some_and(|d| d >= earliest),
    }
}

/// Reserves stock for the snapshot's orders, in place: `orders` get their status and demand,
/// `picks` the new reservations. Answers what it did.
pub(super) fn run(
    snap: &Snapshot,
    orders: &mut [OrderRow],
    picks: &mut Vec<PickRow>,
) -> PlanSummary {
    let mut summary = PlanSummary::default();
    let Some(today) = snap.today else {
        return summary;
    };
    let mut pool = Pool::new(snap, picks);
    let mut book = Book::new(picks);
    let mut queue: Vec<usize> = (0..orders.len()).collect();
    queue.sort_by_key(|&i| (-orders[i].priority, orders[i].created_at_ms, orders[i].id));
    for i in queue {
        let order = &mut orders[i];
        let merchant = snap.merchants.get(&order.merchant_id);
        let days = merchant.map(|m| m.rules.min_shelf_life_days).unwrap_or(0);
        let earliest = today.add_days(i64::from(days));
        let outcome = match (order.status, &order.demand) {
            (OrderStatus::New | OrderStatus::OnHold, None) => {
                first_reservation(snap, order, merchant, &mut pool, earliest, &mut book)
            }
            (OrderStatus::OnHold | OrderStatus::Picking, Some(_)) => {
                reserve_rest(order, &mut pool, earliest, &mut book)
            }
            _ => continue,
        };
        match outcome {
            Outcome::Nothing => {}
            Outcome::Reserved(status, reason) => {
                order.set_status(status, reason, snap.now_ms);
                summary.reserved += 1;
            }
            Outcome::Held(reason) => {
                if order.set_status(OrderStatus::OnHold, Some(reason), snap.now_ms) {
                    summary.on_hold += 1;
                }
            }
        }
    }
    summary
}

enum Outcome {
    Nothing,
    Reserved(OrderStatus, Option<String>),
    Held(String),
}

fn first_reservation(
    snap: &Snapshot,
    order: &mut OrderRow,
    merchant: Option<&Merchant>,
    pool: &mut Pool,
    earliest: Date,
    book: &mut Book<'_>,
) -> Outcome {
    let work = match order.work_part() {
        Ok(w) => w,
        Err(e) => return Outcome::Held(e.to_string()),
    };
    let needs = match demand(&work.lines, work.value_minor, merchant, &snap.products) {
        Ok(n) => n,
        Err(e) => return Outcome::Held(format!("{e}: the order cannot be picked")),
    };
    let required: Vec<(String, i64)> = needs
        .iter()
        .filter(|n| !n.insert)
        .map(|n| (n.product_id.clone(), n.quantity))
        .collect();
    if let Some(reason) = shortage(pool, &order.merchant_id, &required, earliest) {
        return Outcome::Held(reason);
    }
    let mut reserved: Vec<OrderLine> = Vec::new();
    let mut inserts: Vec<OrderLine> = Vec::new();
    let mut left_out: Vec<String> = Vec::new();
    for n in &needs {
        let taken = pool.take(&order.merchant_id, &n.product_id, n.quantity, earliest);
        let units: i64 = taken.iter().map(|l| l.free).sum();
        if units < n.quantity {
            left_out.push(format!("{} ({} of {})", n.product_id, units, n.quantity));
        }
        if units > 0 {
            add_line(&mut reserved, &n.product_id, units);
            if n.insert {
                add_line(&mut inserts, &n.product_id, units);
            }
        }
        book.add(order, &n.product_id, taken);
    }
    order.demand = Some(reserved);
    order.packing.inserts = inserts;
    let reason = (!left_out.is_empty()).then(|| {
        format!(
            "inserts left out for want of stock: {}",
            left_out.join(", ")
        )
    });
    Outcome::Reserved(OrderStatus::Reserved, reason)
}

fn reserve_rest(
    order: &mut OrderRow,
    pool: &mut Pool,
    earliest: Date,
    book: &mut Book<'_>,
) -> Outcome {
    let demand = order.demand.clone().unwrap_or_default();
    let rest: Vec<(String, i64)> = demand
        .iter()
        .map(|l| {
            let covered: i64 = book
                .of(order.id)
                .filter(|p| p.product_id == l.product_id)
                .map(PickRow::covered)
                .sum();
            (l.product_id.clone(), l.quantity - covered)
        })
        .filter(|(_, q)| *q > 0)
        .collect();
    if rest.is_empty() {
        return Outcome::Nothing;
    }
    if let Some(reason) = shortage(pool, &order.merchant_id, &rest, earliest) {
        return Outcome::Held(format!("short at picking; {reason}"));
    }
    for (product, quantity) in &rest {
        let taken = pool.take(&order.merchant_id, product, *quantity, earliest);
        book.add(order, product, taken);
    }
    Outcome::Reserved(OrderStatus::Picking, None)
}

/// Why `needs` cannot all be reserved now, naming every product short.
fn shortage(
    pool: &Pool,
    merchant: &str,
    needs: &[(String, i64)],
    earliest: Date,
) -> Option<String> {
    let short: Vec<String> = needs
        .iter()
        .filter_map(|(product, quantity)| {
            let available = pool.available(merchant, product, earliest);
            (available < *quantity)
                .then(|| format!("{product} needs {quantity}, {available} can be picked"))
        })
        .collect();
    (!short.is_empty()).then(|| format!("not enough stock: {}", short.join("; ")))
}

fn add_line(lines: &mut Vec<OrderLine>, product_id: &str, quantity: i64) {
    match lines.iter_mut().find(|l| l.product_id == product_id) {
        Some(l) => l.quantity += quantity,
        None => lines.push(OrderLine {
            product_id: product_id.to_string(),
            quantity,
        }),
    }
}

/// The reservations, found by order.
struct Book<'a> {
    picks: &'a mut Vec<PickRow>,
    by_order: HashMap<Uuid, Vec<usize>>,
}

impl<'a> Book<'a> {
    fn new(picks: &'a mut Vec<PickRow>) -> Book<'a> {
        let mut by_order: HashMap<Uuid, Vec<usize>> = HashMap::new();
        for (i, p) in picks.iter().enumerate() {
            by_order.entry(p.order_id).or_default().push(i);
        }
        Book { picks, by_order }
    }

    fn of(&self, order: Uuid) -> impl Iterator<Item = &PickRow> {
        self.by_order
            .get(&order)
            .into_iter()
            .flatten()
            .map(|&i| &self.picks[i])
    }

    /// Records the lots taken for `order`, each as a reservation with the next line id.
    fn add(&mut self, order: &OrderRow, product_id: &str, taken: Vec<Lot>) {
        let mut next = self
            .of(order.id)
            .filter_map(|p| p.line_id.parse::<u32>().ok())
            .max()
            .unwrap_or(0);
        for lot in taken {
            next += 1;
            self.by_order
                .entry(order.id)
                .or_default()
                .push(self.picks.len());
            self.picks.push(PickRow {
                order_id: order.id,
                line_id: next.to_string(),
                merchant_id: order.merchant_id.clone(),
                product_id: product_id.to_string(),
                location: lot.location,
                lot: lot.lot,
                expiry: lot.expiry,
                quantity: lot.free,
                picked: 0,
                short: 0,
                task_id: None,
            });
        }
    }
}

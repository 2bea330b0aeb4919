//! What the push rules read and what they write, as plain data: [`Refs`] (every id a batch
//! refers to), [`World`] (a snapshot of those rows, loaded by a backend in a fixed number of
//! queries), [`Effect`] (one write a backend performs) and [`Decision`] (an event's outcome with
//! its effects).
//!
//! A batch is decided in memory: each event's decision is applied to the [`World`] with
//! [`World::apply`] before the next event is decided, so later events of a batch see earlier ones
//! (a receipt opened and goods received into it, two moves of one stock row). The backend then
//! writes every effect, in order, inside the push's one transaction.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use laituri_protocol::{
    Change, Event, EventOutcome, ExceptionView, GoodsCondition, InboundNotice, LocationKind,
    OverrideReason, ReceiptLineSummary, TaskKind, TaskStatus,
};
use uuid::Uuid;

use crate::orders::OrderRow;
use crate::outbound::PickRow;
use crate::tasks::TaskRow;

/// The key of a stock row: one product of one merchant, in one place, lot, expiry and condition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StockKey {
    pub merchant_id: String,
    pub product_id: String,
    pub location: String,
    pub container: Option<String>,
    pub lot: Option<String>,
    pub expiry: Option<String>,
    pub condition: GoodsCondition,
}

impl StockKey {
    /// The order a container's rows are listed in (and so a putaway task's lines).
    fn listing_order(&self) -> (&str, &str, &str, &str) {
        (
            &self.product_id,
            self.lot.as_deref().unwrap_or(""),
            self.expiry.as_deref().unwrap_or(""),
            self.condition.as_str(),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptRef {
    pub merchant_id: String,
    pub notice_id: Option<String>,
    pub closed: bool,
}

/// Every row a batch's events refer to. A backend loads exactly these into a [`World`]; asking
/// for something that does not exist is fine (it is simply absent from the answer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refs {
    pub merchants: BTreeSet<String>,
    pub products: BTreeSet<String>,
    pub locations: BTreeSet<String>,
    pub notices: BTreeSet<String>,
    pub receipts: BTreeSet<Uuid>,
    /// Receipts whose containers are needed (the `(location, container)` pairs that took good
    /// goods of them): the receipts closed in the batch.
    pub receipt_containers: BTreeSet<Uuid>,
    /// Tasks by id.
    pub tasks: BTreeSet<String>,
    /// Containers whose open or leased putaway tasks are needed, every one of them.
    pub putaway_containers: BTreeSet<String>,
    /// Reasons whose open or leased count tasks are needed, every one of them.
    pub count_reasons: BTreeSet<String>,
    /// Stock rows by key (a row that does not exist yet is at zero).
    pub stock: HashSet<StockKey>,
    /// `(location, container)` pairs whose every stock row is needed.
    pub container_stock: BTreeSet<(String, String)>,
    /// Event ids to check for an earlier applied event.
    pub event_ids: BTreeSet<Uuid>,
    /// Orders by id, with every reservation of each.
    pub orders: BTreeSet<Uuid>,
    /// Active operators by id (whether a lead, their count limits).
    pub operators: BTreeSet<String>,
    /// Counts by id.
    pub counts: BTreeSet<Uuid>,
    /// Locations whose every stock row is needed (in any container or none).
    pub location_stock: BTreeSet<String>,
}

impl Refs {
    pub fn is_empty(&self) -> bool {
        *self == Refs::default()
    }

    /// What a first load showed to be needed as well: the containers of the receipts closed in
    /// the batch (their stock and their putaway tasks), where not asked for already.
    pub fn follow_up(&self, world: &World) -> Refs {
        let mut more = Refs::default();
        super::counting::follow_up(world, self, &mut more);
        for receipt_id in &self.receipt_containers {
            let Some(pairs) = world.receipt_containers.get(receipt_id) else {
                continue;
            };
            for (container, location) in pairs {
                let pair = (location.clone(), container.clone());
                if !self.container_stock.contains(&pair) {
                    more.container_stock.insert(pair);
                }
                if !self.putaway_containers.contains(container) {
                    more.putaway_containers.insert(container.clone());
                }
            }
        }
        more
    }
}

/// A snapshot of the rows a batch refers to, as the push transaction sees them, kept up to date
/// in memory while the batch is decided. Every field holds only what [`Refs`] asked for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct World {
    pub merchants: BTreeSet<String>,
    /// Product id to the merchant that owns it.
    pub products: BTreeMap<String, String>,
    pub locations: BTreeMap<String, LocationKind>,
    pub notices: BTreeMap<String, InboundNotice>,
    pub receipts: BTreeMap<Uuid, ReceiptRef>,
    /// Per receipt, the `(container, location)` pairs that took its good goods.
    pub receipt_containers: BTreeMap<Uuid, BTreeSet<(String, String)>>,
    pub tasks: BTreeMap<String, TaskRow>,
    /// Per container, the ids of its putaway tasks that were open or leased when loaded (or
    /// created since), oldest first.
    pub putaway_tasks: BTreeMap<String, Vec<String>>,
    /// Stock levels by key; a key absent here is at zero.
    pub stock: HashMap<StockKey, i64>,
    /// `(location, container)` pairs whose every stock row is in `stock`.
    pub whole_containers: BTreeSet<(String, String)>,
    /// Event ids applied before (by any device, at any seq), or earlier in this batch.
    pub applied_events: BTreeSet<Uuid>,
    /// Orders (their work part; never the personal one) and every reservation of each, by
    /// (order, line).
    pub orders: BTreeMap<Uuid, OrderRow>,
    pub picks: BTreeMap<(Uuid, String), PickRow>,
    /// The server's clock when the batch was loaded, Unix milliseconds.
    pub now_ms: i64,
    /// Active operators by id.
    pub operators: BTreeMap<String, super::counting::OperatorRef>,
    pub counts: BTreeMap<Uuid, crate::counts::CountRow>,
}

fn active(status: TaskStatus) -> bool {
    matches!(status, TaskStatus::Open | TaskStatus::Leased)
}

impl World {
    /// The level of a stock row.
    pub fn level(&self, key: &StockKey) -> i64 {
        self.stock.get(key).copied().unwrap_or(0)
    }

    /// Every stock row of a container at a location, in listing order. The pair must have been
    /// asked for in [`Refs::container_stock`].
    pub fn container_stock(&self, location: &str, container: &str) -> Vec<(&StockKey, i64)> {
        debug_assert!(
            self.whole_containers
                .contains(&(location.to_string(), container.to_string())),
            "stock of {container} at {location} was not loaded"
        );
        let mut rows: Vec<(&StockKey, i64)> = self
            .stock
            .iter()
            .filter(|(k, _)| k.location == location && k.container.as_deref() == Some(container))
            .map(|(k, q)| (k, *q))
            .collect();
        rows.sort_by(|a, b| a.0.listing_order().cmp(&b.0.listing_order()));
        rows
    }

    /// The newest open or leased putaway task of a container.
    pub fn putaway_task_of(&self, container: &str) -> Option<&TaskRow> {
        self.putaway_tasks
            .get(container)?
            .iter()
            .rev()
            .filter_map(|id| self.tasks.get(id))
            .find(|t| active(t.task.status))
    }

    /// True when an open or leased task of `kind` has this reason.
    pub fn active_task_with_reason(&self, kind: TaskKind, reason: &str) -> bool {
        self.tasks.values().any(|t| {
            t.task.kind == kind && t.task.reason.as_deref() == Some(reason) && active(t.task.status)
        })
    }

    /// Adds what a second load brought.
    pub fn merge(&mut self, other: World) {
        self.merchants.extend(other.merchants);
        self.products.extend(other.products);
        self.locations.extend(other.locations);
        self.notices.extend(other.notices);
        self.receipts.extend(other.receipts);
        for (r, pairs) in other.receipt_containers {
            self.receipt_containers.entry(r).or_default().extend(pairs);
        }
        self.tasks.extend(other.tasks);
        for (c, ids) in other.putaway_tasks {
            let mine = self.putaway_tasks.entry(c).or_default();
            for id in ids {
                if !mine.contains(&id) {
                    mine.push(id);
                }
            }
        }
        self.stock.extend(other.stock);
        self.whole_containers.extend(other.whole_containers);
        self.applied_events.extend(other.applied_events);
        self.orders.extend(other.orders);
        self.picks.extend(other.picks);
        self.now_ms = self.now_ms.max(other.now_ms);
        self.operators.extend(other.operators);
        self.counts.extend(other.counts);
    }

    /// Every reservation of an order, in line order.
    pub fn picks_of(&self, order: Uuid) -> impl Iterator<Item = &PickRow> {
        self.picks
            .range((order, String::new())..)
            .take_while(move |((o, _), _)| *o == order)
            .map(|(_, p)| p)
    }

    /// What `effect` changes in the rows a later event of the batch may read.
    pub fn apply(&mut self, effect: &Effect) {
        match effect {
            Effect::OpenReceipt {
                receipt_id,
                merchant_id,
                notice_id,
                ..
            } => {
                self.receipts.insert(
                    *receipt_id,
                    ReceiptRef {
                        merchant_id: merchant_id.clone(),
                        notice_id: notice_id.clone(),
                        closed: false,
                    },
                );
            }
            Effect::AddStock { key, delta, .. } => match self.stock.get_mut(key) {
                Some(level) => *level += delta,
                None => {
                    self.stock.insert(key.clone(), *delta);
                }
            },
            Effect::ReceiptContainer {
                receipt_id,
                location,
                container,
            } => {
                self.receipt_containers
                    .entry(*receipt_id)
                    .or_default()
                    .insert((container.clone(), location.clone()));
            }
            Effect::CloseReceipt { receipt_id, .. } => {
                if let Some(r) = self.receipts.get_mut(receipt_id) {
                    r.closed = true;
                }
            }
            Effect::SaveNotice(notice) => {
                self.notices.insert(notice.id.clone(), notice.clone());
            }
            Effect::SaveTask(row) => {
                let t = &row.task;
                if t.kind == TaskKind::Putaway
                    && active(t.status)
                    && let Some(c) = &t.container
                {
                    let ids = self.putaway_tasks.entry(c.clone()).or_default();
                    if !ids.contains(&t.task_id) {
                        ids.push(t.task_id.clone());
                    }
                }
                self.tasks.insert(t.task_id.clone(), row.clone());
            }
            Effect::SaveOrder(row) => {
                self.orders.insert(row.id, row.clone());
            }
            Effect::SavePick(p) => {
                self.picks
                    .insert((p.order_id, p.line_id.clone()), p.clone());
            }
            Effect::SaveCount(row) => {
                self.counts.insert(row.count_id, row.clone());
            }
            Effect::TallyReceipt { .. }
            | Effect::Publish { .. }
            | Effect::SaveLabels { .. }
            | Effect::Exception { .. }
            | Effect::Override { .. }
            | Effect::BinFull { .. }
            | Effect::ResolveException { .. }
            | Effect::Notify(_)
            | Effect::SaveReturn(_)
            | Effect::DropReturnable { .. }
            | Effect::PruneReturnables { .. } => {}
        }
    }
}

/// One write of a decided event, for the backend to perform in order inside the push
/// transaction. Together they are everything a push changes besides the event's own record.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    OpenReceipt {
        receipt_id: Uuid,
        merchant_id: String,
        notice_id: Option<String>,
        device_id: Uuid,
        dock: String,
    },
    /// Adds `delta` to a stock row, creating it at zero first; `level` is the row's level after
    /// it (announced by the [`Effect::Publish`] that follows).
    AddStock {
        key: StockKey,
        delta: i64,
        level: i64,
    },
    /// Adds to a receipt's running tally of a product.
    TallyReceipt {
        receipt_id: Uuid,
        product_id: String,
        received: i64,
        quarantined: i64,
    },
    /// Remembers that a receipt put good goods into a container at a location (idempotent).
    ReceiptContainer {
        receipt_id: Uuid,
        location: String,
        container: String,
    },
    CloseReceipt {
        receipt_id: Uuid,
        lines: Vec<ReceiptLineSummary>,
    },
    /// Stores a notice's new state (status and data).
    SaveNotice(InboundNotice),
    /// Inserts or replaces a task (appends nothing to the change log).
    SaveTask(TaskRow),
    /// Updates an order's status, reason, history, totes, demand and change time (never its
    /// lines or personal part).
    SaveOrder(OrderRow),
    /// Inserts or replaces a reservation.
    SavePick(PickRow),
    /// Stores the labels of a booked order's parcels (personal data: erased with the order's).
    SaveLabels {
        order_id: Uuid,
        labels: Vec<crate::shipping::StoredLabel>,
    },
    /// Appends a change to the pull log, for `device` only or (`None`) for every device.
    Publish {
        device: Option<Uuid>,
        merchant_id: Option<String>,
        change: Change,
    },
    /// An exception for a lead: a rejected event, negative stock, an unknown barcode.
    Exception {
        exception: ExceptionView,
        merchant_id: Option<String>,
    },
    /// A putaway into another bin than suggested.
    Override {
        device_id: Uuid,
        seq: u64,
        container: String,
        suggested: Option<String>,
        location: String,
        reason: Option<OverrideReason>,
    },
    /// A bin reported full (the newest report wins).
    BinFull {
        device_id: Uuid,
        seq: u64,
        location: String,
    },
    /// A lead resolved the exception of event `seq` of `device_id` (the first resolution wins).
    ResolveException {
        device_id: Uuid,
        seq: u64,
        by: String,
    },
    /// An event for the merchant's webhooks, into the outbox ([`crate::webhooks`]).
    Notify(crate::webhooks::Notice),
    /// Inserts or replaces a count (its status and who decided it change).
    SaveCount(crate::counts::CountRow),
    /// Records a customer's return ([`super::returns`]).
    SaveReturn(super::returns::ReturnRow),
    /// Every terminal forgets a returnable order (and the change log its earlier entries, which
    /// hold the customer's name): appends its removal.
    DropReturnable { order_id: Uuid, merchant_id: String },
    /// Deletes the change log's oldest [`crate::shipping::PRUNED_PER_SHIPMENT`] entries of
    /// returnable orders whose retention ended by `now_ms` (terminals forget them by their own
    /// clock): each shipment prunes a little more than it adds, so the log keeps no customer's
    /// name much past its retention.
    PruneReturnables { now_ms: i64 },
}

impl Effect {
    /// Saves a task and tells every device about it.
    pub fn save_and_publish_task(row: TaskRow) -> [Effect; 2] {
        let publish = Effect::Publish {
            device: None,
            merchant_id: Some(row.task.merchant_id.clone()),
            change: Change::Task(row.public()),
        };
        [Effect::SaveTask(row), publish]
    }
}

/// Who sent the event being decided, and which it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ctx {
    pub device_id: Uuid,
    pub seq: u64,
    pub event_id: Uuid,
}

impl Ctx {
    pub fn of(event: &Event) -> Ctx {
        Ctx {
            device_id: event.device_id,
            seq: event.seq,
            event_id: event.event_id,
        }
    }

    /// An exception raised by this event.
    pub fn exception(&self, kind: &str, message: String) -> ExceptionView {
        ExceptionView {
            id: 0,
            merchant_id: None,
            device_id: self.device_id,
            seq: self.seq,
            event_id: self.event_id,
            kind: kind.to_string(),
            message,
            resolved_by: None,
            resolved_at: None,
        }
    }
}

/// What the rules decided for one event: its outcome, and what to write for it (nothing for a
/// rejection).
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub outcome: EventOutcome,
    pub effects: Vec<Effect>,
}

impl Decision {
    pub fn applied(effects: Vec<Effect>) -> Decision {
        Decision {
            outcome: EventOutcome::Applied,
            effects,
        }
    }
}

impl From<EventOutcome> for Decision {
    fn from(outcome: EventOutcome) -> Decision {
        Decision {
            outcome,
            effects: Vec::new(),
        }
    }
}

#[cfg(test)]
impl World {
    /// What a backend's [`crate::push::Ledger::load`] answers for `refs` when this world is
    /// everything stored: the in-memory reference of the load contract.
    pub(crate) fn select(&self, refs: &Refs) -> World {
        let mut w = World::default();
        for m in &refs.merchants {
            if self.merchants.contains(m) {
                w.merchants.insert(m.clone());
            }
        }
        for p in &refs.products {
            if let Some(owner) = self.products.get(p) {
                w.products.insert(p.clone(), owner.clone());
            }
        }
        for l in &refs.locations {
            if let Some(kind) = self.locations.get(l) {
                w.locations.insert(l.clone(), *kind);
            }
        }
        for n in &refs.notices {
            if let Some(notice) = self.notices.get(n) {
                w.notices.insert(n.clone(), notice.clone());
            }
        }
        for r in &refs.receipts {
            if let Some(receipt) = self.receipts.get(r) {
                w.receipts.insert(*r, receipt.clone());
            }
        }
        for r in &refs.receipt_containers {
            if let Some(pairs) = self.receipt_containers.get(r) {
                w.receipt_containers.insert(*r, pairs.clone());
            }
        }
        for t in &refs.tasks {
            if let Some(row) = self.tasks.get(t) {
                w.tasks.insert(t.clone(), row.clone());
            }
        }
        for c in &refs.putaway_containers {
            for id in self.putaway_tasks.get(c).into_iter().flatten() {
                let row = &self.tasks[id];
                if active(row.task.status) {
                    w.tasks.insert(id.clone(), row.clone());
                    w.putaway_tasks
                        .entry(c.clone())
                        .or_default()
                        .push(id.clone());
                }
            }
        }
        for row in self.tasks.values() {
            if row.task.kind == TaskKind::Count
                && active(row.task.status)
                && row
                    .task
                    .reason
                    .as_ref()
                    .is_some_and(|r| refs.count_reasons.contains(r))
            {
                w.tasks.insert(row.task.task_id.clone(), row.clone());
            }
        }
        for (k, q) in &self.stock {
            let pair = k
                .container
                .as_ref()
                .map(|c| (k.location.clone(), c.clone()));
            if refs.stock.contains(k) || pair.is_some_and(|p| refs.container_stock.contains(&p)) {
                w.stock.insert(k.clone(), *q);
            }
        }
        w.whole_containers = refs.container_stock.clone();
        for e in &refs.event_ids {
            if self.applied_events.contains(e) {
                w.applied_events.insert(*e);
            }
        }
        for (k, q) in &self.stock {
            if refs.location_stock.contains(&k.location) {
                w.stock.insert(k.clone(), *q);
            }
        }
        for o in &refs.operators {
            if let Some(op) = self.operators.get(o) {
                w.operators.insert(o.clone(), *op);
            }
        }
        for c in &refs.counts {
            if let Some(row) = self.counts.get(c) {
                w.counts.insert(*c, row.clone());
            }
        }
        w
    }
}

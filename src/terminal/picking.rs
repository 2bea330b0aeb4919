//! The picking controller: a pick task (one order, or a cluster of orders on one cart, each into
//! its own tote) from its bins into the totes and on to packing, worked from the task's work
//! packet, so it goes on offline once the task is taken.
//!
//! A pick task is always leased: the operator takes one from the start screen (the next, or a
//! batch label scanned), the sync worker asks the server for it, and the packet's arrival starts
//! the job ([`super::Terminal::lease_answered`]). Every event carries the lease's [`TaskClaim`].
//! Scans are read with [`super::recognise`]; facts go through [`super::seam::advance`], like every
//! flow. The binding of a tote has no event of its own: the first `picked` of an order names its
//! tote. A job resumed at log-in rebuilds what it did (units picked per line, lines short, the
//! tote of each order, the goods in each tote) from the events it recorded since it started.

use std::collections::{BTreeMap, BTreeSet};

use laituri_domain::calendar::Date;
use laituri_domain::flow::Flow;
use laituri_domain::picking::{
    Expect, Fact, Goods, Input, ItemScan, Message, PickLine, PickOrder, Picking,
    Place as DomainPlace, ShelfLife,
};
use laituri_domain::scan::Scan;
use laituri_protocol::{
    DroppedTote, EventBody, GoodsCondition, IN_TRANSIT, Place, StockMove, Task, TaskClaim,
    WorkPacket,
};
use uuid::Uuid;

use super::messages::{PickRecent, Text};
use super::recognise::{Label, recognise};
use super::{CoreConfig, Reply, Tone};
use crate::store::{LineState, OpenJob, Store, StoreError};

/// The flow's name in the open-job record.
pub const FLOW: &str = "picking";

/// How many recent lines the picking screen lists.
pub const RECENT_LINES: u32 = 30;

/// The most events of one type a resumed job reads back. A job records a few events per line;
/// a cart holds far fewer lines than this.
const JOB_EVENTS: u32 = 10_000;

/// The event types a pick job records that show as lines, or that it rebuilds itself from.
const JOB_TYPES: [&str; 4] = ["picked", "pick_short", "zero_checked", "totes_dropped"];

/// Buttons and keypad entries of the picking screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Keypad: this many units of the current line are in hand.
    Quantity(i64),
    /// "Found less": the location holds less than the line asks for.
    Short,
    /// The current line goes to the end of the queue.
    Skip,
    /// The answer to "is the location empty now?".
    ZeroCheck(bool),
    /// Drop what is in hand; nothing is recorded for it.
    Cancel,
    /// Park the job: it stays open on this device and resumes from the menu or at log-in.
    Stop,
}

/// The order the current line belongs to, and its tote on the cart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderView {
    pub reference: String,
    pub slot: u32,
    pub tote: Option<String>,
}

/// What the picking screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickingView {
    /// The batch as the operator knows it: its orders' references.
    pub batch: String,
    pub expects: Expect,
    pub prompt: Message,
    /// The location of the current line, in large type.
    pub location: Option<String>,
    pub item: Option<String>,
    /// The lot the line names (the suggested one), if any.
    pub lot: Option<String>,
    /// Units of the current line still to pick.
    pub quantity: i64,
    pub in_hand: i64,
    pub order: Option<OrderView>,
    /// More than one order on the cart.
    pub cluster: bool,
    pub lines_done: usize,
    pub lines_left: usize,
    pub finished: bool,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct JobKey {
    claim: TaskClaim,
    /// The first local seq this job could have recorded: its events are read back from here.
    first_seq: u64,
}

/// A pick line by its order and its id (line ids are the order's own: "1", "2", …).
type LineKey = (String, String);

/// What a job recorded, read back from its events.
#[derive(Debug, Default)]
struct Recorded {
    /// Units picked per line.
    picked: BTreeMap<LineKey, i64>,
    /// Lines finished short.
    short: BTreeSet<LineKey>,
    /// The tote of each order (by the order's id as the domain names it).
    totes: BTreeMap<String, String>,
    in_totes: InTotes,
}

/// The goods in each tote on the cart, for the drop at packing: per tote, one entry per kind of
/// goods (merchant, product, lot, expiry, serial) with its units.
type InTotes = BTreeMap<String, Vec<StockMove>>;

fn add_to_tote(in_totes: &mut InTotes, tote: &str, m: &StockMove) {
    let goods = in_totes.entry(tote.to_string()).or_default();
    let same = |g: &&mut StockMove| {
        g.merchant_id == m.merchant_id
            && g.product_id == m.product_id
            && g.lot == m.lot
            && g.expiry == m.expiry
            && g.serial == m.serial
            && g.condition == m.condition
    };
    match goods.iter_mut().find(same) {
        Some(g) => g.quantity = g.quantity.saturating_add(m.quantity),
        None => goods.push(StockMove {
            from: None,
            to: None,
            reason: None,
            ..m.clone()
        }),
    }
}

fn date_of(s: &Option<String>) -> Option<Date> {
    s.as_deref().and_then(Date::parse_iso)
}

/// The name of a pick task on screen: its orders' references ("#1001, #1002 +1"), or its id
/// when it names no order.
pub fn batch_name(task: &Task) -> String {
    const SHOWN: usize = 2;
    let refs: Vec<&str> = task.orders.iter().map(|o| o.reference.as_str()).collect();
    match refs.len() {
        0 => task.task_id.clone(),
        n if n <= SHOWN + 1 => refs.join(", "),
        n => format!("{} +{}", refs[..SHOWN].join(", "), n - SHOWN),
    }
}

pub struct PickingController {
    job: Picking,
    claim: TaskClaim,
    first_seq: u64,
    batch: String,
    in_totes: InTotes,
    /// The operator was told the lease was lost.
    lost_told: bool,
    /// The job was left (its lease lost): it is over on this device.
    left: bool,
}

impl PickingController {
    /// Starts the task this device holds a lease of, from its work packet. Records the open job
    /// so that it resumes after a log-out or a crash.
    pub fn start(
        store: &mut Store,
        operator: &str,
        claim: TaskClaim,
    ) -> Result<(PickingController, Reply), Reply> {
        let first_seq = store.counts()?.last_seq + 1;
        let ctrl = Self::load(store, claim.clone(), first_seq, Recorded::default())?;
        if ctrl.job.lines().is_empty() {
            return Err(Reply::new(
                Tone::Error,
                Text::PickTaskEmpty { task: ctrl.batch },
            ));
        }
        store.set_open_job(Some(&OpenJob {
            flow: FLOW.into(),
            operator_id: operator.to_string(),
            key: serde_json::to_value(JobKey { claim, first_seq }).map_err(StoreError::from)?,
        }))?;
        let reply = ctrl.prompt_reply();
        Ok((ctrl, reply))
    }

    /// Picks up the pick task this device left open, with what its events say was done.
    pub fn resume(store: &Store, job: &OpenJob) -> Result<PickingController, StoreError> {
        let key: JobKey = serde_json::from_value(job.key.clone())?;
        let recorded = Self::recorded(store, &key.claim.task_id, key.first_seq)?;
        Self::load(store, key.claim, key.first_seq, recorded)
            .map_err(|r| StoreError::Data(format!("{:?}", r.text)))
    }

    /// What the job recorded since `first_seq`: picks, short lines and the totes they went into.
    fn recorded(store: &Store, task_id: &str, first_seq: u64) -> Result<Recorded, StoreError> {
        let mut done = Recorded::default();
        for (_, body, _) in store.events_of_type("picked", first_seq, JOB_EVENTS, false)? {
            let EventBody::Picked {
                task,
                order_id,
                line_id,
                tote,
                moves,
                ..
            } = body
            else {
                continue;
            };
            if task.task_id != task_id {
                continue;
            }
            let units: i64 = moves.iter().map(|m| m.quantity).sum();
            *done
                .picked
                .entry((order_id.to_string(), line_id))
                .or_insert(0) += units;
            done.totes
                .entry(order_id.to_string())
                .or_insert_with(|| tote.clone());
            for m in &moves {
                add_to_tote(&mut done.in_totes, &tote, m);
            }
        }
        for (_, body, _) in store.events_of_type("pick_short", first_seq, JOB_EVENTS, false)? {
            if let EventBody::PickShort {
                task,
                order_id,
                line_id,
                ..
            } = body
                && task.task_id == task_id
            {
                done.short.insert((order_id.to_string(), line_id));
            }
        }
        Ok(done)
    }

    fn load(
        store: &Store,
        claim: TaskClaim,
        first_seq: u64,
        done: Recorded,
    ) -> Result<PickingController, Reply> {
        let Some(lease) = store.lease(&claim.task_id)? else {
            let task = store
                .task(&claim.task_id)?
                .map_or_else(|| claim.task_id.clone(), |t| batch_name(&t));
            return Err(Reply::new(Tone::Error, Text::PickTaskGone { task }));
        };
        let WorkPacket { task, merchant, .. } = lease.packet;
        let mut lines = Vec::new();
        // What stays at each bin once the lines up to this one are picked, from the device's
        // stock view (goods of any kind count): a bin the view expects empty asks for a check.
        let mut at_bin: BTreeMap<String, i64> = BTreeMap::new();
        for (i, tl) in task.lines.iter().enumerate() {
            let (Some(order_id), Some(line_id), Some(from)) =
                (tl.order_id, tl.line_id.clone(), tl.goods.from.as_ref())
            else {
                tracing::warn!(task = %task.task_id, "a pick line without its order, id or bin is left out");
                continue;
            };
            let bin = from.location.clone();
            let g = &tl.goods;
            let name = store.product_label(&g.product_id)?;
            let key = (order_id.to_string(), line_id.clone());
            let picked = done.picked.get(&key).copied().unwrap_or(0);
            // A line finished short comes back done: its quantity is what was picked of it.
            let quantity = if done.short.contains(&key) {
                picked
            } else {
                g.quantity
            };
            if !at_bin.contains_key(&bin) {
                let held: i64 = store
                    .location_contents(&bin)?
                    .iter()
                    .map(|r| r.quantity.max(0))
                    .sum();
                at_bin.insert(bin.clone(), held);
            }
            let stays = at_bin.entry(bin.clone()).or_insert(0);
            *stays -= (quantity - picked).max(0);
            let expected_left = (*stays >= 0).then_some(*stays);
            lines.push(PickLine {
                line_id,
                order_id: order_id.to_string(),
                goods: Goods {
                    merchant_id: g.merchant_id.clone(),
                    product_id: g.product_id.clone(),
                    name,
                    lot: g.lot.clone(),
                    expiry: date_of(&g.expiry),
                },
                location: bin,
                // The packet's order is the route the server handed out.
                walk_order: u32::try_from(i).unwrap_or(u32::MAX),
                quantity,
                picked,
                expected_left,
            });
        }
        let orders = task
            .orders
            .iter()
            .map(|o| {
                let id = o.order_id.to_string();
                PickOrder {
                    tote: done.totes.get(&id).cloned().or_else(|| o.tote.clone()),
                    order_id: id,
                    reference: o.reference.clone(),
                    slot: o.slot,
                }
            })
            .collect();
        let shelf_life: ShelfLife =
            BTreeMap::from([(merchant.id.clone(), merchant.rules.min_shelf_life_days)]);
        Ok(PickingController {
            batch: batch_name(&task),
            job: Picking::new(task.task_id.clone(), shelf_life, orders, lines),
            claim,
            first_seq,
            in_totes: done.in_totes,
            lost_told: false,
            left: false,
        })
    }

    /// True once the task is done, or left after its lease was lost.
    pub fn is_finished(&self) -> bool {
        self.job.is_finished() || self.left
    }

    pub fn claim(&self) -> &TaskClaim {
        &self.claim
    }

    /// The batch as the operator knows it: its orders' references.
    pub fn batch(&self) -> &str {
        &self.batch
    }

    /// Why the server took the task back, once it did (`expired`, `released`, `taken`, `done`).
    pub fn lease_lost(&self, store: &Store) -> Option<String> {
        store.lease(&self.claim.task_id).ok()??.lost
    }

    /// True the first time it is asked after the lease was lost: the notice is given once.
    pub fn take_lost_notice(&mut self) -> bool {
        !std::mem::replace(&mut self.lost_told, true)
    }

    fn prompt_reply(&self) -> Reply {
        Reply::new(Tone::Ok, Text::Picking(self.job.prompt()))
    }

    /// The prompt of where the job stands, for a screen shown again.
    pub fn prompt(&self) -> Reply {
        self.prompt_reply()
    }

    fn apply(&mut self, store: &mut Store, operator: &str, input: Input, today: Date) -> Reply {
        let mut in_totes = self.in_totes.clone();
        // The goods of the line a zero check is about: the one just picked.
        let checked = self
            .job
            .current()
            .filter(|_| self.job.expects() == Expect::ZeroCheck)
            .map(|l| (l.goods.merchant_id.clone(), l.goods.product_id.clone()));
        let claim = &self.claim;
        let result = super::seam::advance(&mut self.job, input, today, |facts| {
            record(store, operator, claim, checked, &mut in_totes, facts)
        });
        match result {
            Ok(feedback) => {
                self.in_totes = in_totes;
                Reply::new(feedback.tone, Text::Picking(feedback.message))
            }
            Err(e) => e.into(),
        }
    }

    pub fn action(
        &mut self,
        store: &mut Store,
        operator: &str,
        action: Action,
        today: Date,
    ) -> Reply {
        let input = match action {
            Action::Quantity(n) => Input::Quantity(n),
            Action::Short => Input::Short,
            Action::Skip => Input::Skip,
            Action::ZeroCheck(empty) => Input::ZeroCheck(empty),
            Action::Cancel => Input::Cancel,
            Action::Stop => return self.stop(store),
        };
        self.apply(store, operator, input, today)
    }

    /// Parks the job: it stays open on this device for the operator, and what is in hand is
    /// not recorded. After its lease was lost the task is no longer this device's: the job ends
    /// here instead (what was picked is recorded and goes to the server all the same).
    pub fn stop(&mut self, store: &mut Store) -> Reply {
        if self.job.is_finished() {
            return Reply::new(Tone::Ok, Text::Picking(Message::TaskDone));
        }
        if self.lease_lost(store).is_some() {
            if let Err(e) = store.set_open_job(None) {
                return e.into();
            }
            self.left = true;
            return Reply::new(
                Tone::Warning,
                Text::PickingLeft {
                    task: self.batch.clone(),
                },
            );
        }
        Reply::new(
            Tone::Warning,
            Text::PickingParked {
                task: self.batch.clone(),
                done: self.job.lines_done(),
                left: self.job.lines_left(),
            },
        )
    }

    pub fn scan(
        &mut self,
        store: &mut Store,
        config: &CoreConfig,
        operator: &str,
        scan: &Scan,
        today: Date,
    ) -> Reply {
        let input = match recognise(store, config, scan) {
            Ok(Label::Location(loc)) => Input::Location(DomainPlace {
                is_packing: loc.kind == "packing",
                code: loc.code,
            }),
            Ok(Label::Product { matches, .. }) => {
                // A barcode several merchants share means the current line's goods.
                let line = self.job.current();
                let m = matches
                    .iter()
                    .find(|m| {
                        line.is_some_and(|l| {
                            l.goods.merchant_id == m.merchant_id
                                && l.goods.product_id == m.product_id
                        })
                    })
                    .or_else(|| {
                        matches
                            .iter()
                            .find(|m| line.is_some_and(|l| l.goods.merchant_id == m.merchant_id))
                    })
                    .unwrap_or(&matches[0]);
                Input::Item(ItemScan {
                    merchant_id: m.merchant_id.clone(),
                    product_id: m.product_id.clone(),
                    name: m.name.clone(),
                    units: super::recognise::units(m, scan),
                    lot: scan.lot().map(str::to_string),
                    expiry: scan.expiry().or(scan.best_before()),
                    serial: scan.serial().map(str::to_string),
                })
            }
            Ok(Label::Container(tote)) => Input::Tote(tote),
            Ok(Label::Unreadable(why)) => return Reply::new(Tone::Error, Text::Unreadable { why }),
            Ok(Label::Badge(_) | Label::Notice(_) | Label::Unknown(_)) => {
                Input::Unknown(scan.data.clone())
            }
            Err(e) => return e.into(),
        };
        self.apply(store, operator, input, today)
    }

    /// What this job recorded, newest first, each with where its event stands. Bounded by
    /// [`RECENT_LINES`].
    pub fn recent(&self, store: &Store) -> Vec<(PickRecent, LineState)> {
        let mut events: Vec<(u64, EventBody, LineState)> = Vec::new();
        for kind in JOB_TYPES {
            events.extend(
                store
                    .events_of_type(kind, self.first_seq, RECENT_LINES, true)
                    .unwrap_or_default(),
            );
        }
        events.retain(|(_, body, _)| body.task().is_some_and(|t| t.task_id == self.claim.task_id));
        events.sort_by_key(|(seq, ..)| std::cmp::Reverse(*seq));
        events.truncate(RECENT_LINES as usize);
        let name = |product: &str| {
            store
                .product_label(product)
                .unwrap_or_else(|_| product.to_string())
        };
        let mut out = Vec::new();
        for (_, body, state) in events {
            let line = match body {
                EventBody::Picked { tote, moves, .. } => {
                    for m in moves {
                        out.push((
                            PickRecent::Picked {
                                quantity: m.quantity,
                                name: name(&m.product_id),
                                lot: m.lot.clone(),
                                bin: m.from.map(|p| p.location).unwrap_or_default(),
                                tote: tote.clone(),
                            },
                            state,
                        ));
                    }
                    continue;
                }
                EventBody::PickShort {
                    location,
                    product_id,
                    missing,
                    ..
                } => PickRecent::Short {
                    missing,
                    name: name(&product_id),
                    bin: location,
                },
                EventBody::ZeroChecked {
                    location, empty, ..
                } => PickRecent::ZeroChecked {
                    bin: location,
                    empty,
                },
                EventBody::TotesDropped {
                    location, totes, ..
                } => PickRecent::Dropped {
                    totes: totes.len(),
                    location,
                },
                _ => continue,
            };
            out.push((line, state));
        }
        out
    }

    pub fn view(&self) -> PickingView {
        let current = self.job.current();
        let order = current
            .and_then(|l| self.job.orders().iter().find(|o| o.order_id == l.order_id))
            .map(|o| OrderView {
                reference: o.reference.clone(),
                slot: o.slot,
                tote: o.tote.clone(),
            });
        PickingView {
            batch: self.batch.clone(),
            expects: self.job.expects(),
            prompt: self.job.prompt(),
            location: current.map(|l| l.location.clone()),
            item: current.map(|l| l.goods.name.clone()),
            lot: current.and_then(|l| l.goods.lot.clone()),
            quantity: current.map_or(0, |l| l.left()),
            in_hand: self.job.in_hand(),
            order,
            cluster: self.job.orders().len() > 1,
            lines_done: self.job.lines_done(),
            lines_left: self.job.lines_left(),
            finished: self.is_finished(),
        }
    }
}

fn order_uuid(order_id: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(order_id)
        .map_err(|e| StoreError::Data(format!("order id {order_id:?} of a pick task: {e}")))
}

/// The moves of one pick: units from the bin into the tote on the cart, one move per serial
/// number scanned and one for the units without.
fn pick_moves(
    goods: &Goods,
    quantity: i64,
    location: &str,
    tote: &str,
    serials: &[String],
) -> Vec<StockMove> {
    let one = |quantity: i64, serial: Option<String>| StockMove {
        merchant_id: goods.merchant_id.clone(),
        product_id: goods.product_id.clone(),
        quantity,
        lot: goods.lot.clone(),
        expiry: goods.expiry.map(|d| d.to_string()),
        serial,
        condition: GoodsCondition::Good,
        from: Some(Place::at(location)),
        to: Some(Place::in_container(IN_TRANSIT, tote)),
        reason: None,
    };
    let serials: Vec<&String> = serials.iter().take(quantity.max(0) as usize).collect();
    let mut moves: Vec<StockMove> = serials.iter().map(|s| one(1, Some((*s).clone()))).collect();
    let rest = quantity - serials.len() as i64;
    if rest > 0 {
        moves.push(one(rest, None));
    }
    moves
}

/// Writes one step's facts, in order, in one transaction; the last one closes the open job. A
/// tote's binding is no event: the pick after it names the tote.
fn record(
    store: &mut Store,
    operator: &str,
    claim: &TaskClaim,
    checked: Option<(String, String)>,
    in_totes: &mut InTotes,
    facts: &[Fact],
) -> Result<(), StoreError> {
    let mut bodies = Vec::new();
    for fact in facts {
        match fact {
            Fact::ToteBound { .. } => {}
            Fact::Picked {
                line_id,
                order_id,
                goods,
                suggested_lot,
                quantity,
                location,
                tote,
                serials,
                ..
            } => {
                let moves = pick_moves(goods, *quantity, location, tote, serials);
                for m in &moves {
                    add_to_tote(in_totes, tote, m);
                }
                bodies.push(EventBody::Picked {
                    task: claim.clone(),
                    order_id: order_uuid(order_id)?,
                    line_id: line_id.clone(),
                    tote: tote.clone(),
                    suggested_lot: suggested_lot.clone(),
                    moves,
                });
            }
            Fact::Short {
                line_id,
                order_id,
                goods,
                location,
                picked_total,
                missing,
            } => bodies.push(EventBody::PickShort {
                task: claim.clone(),
                order_id: order_uuid(order_id)?,
                line_id: line_id.clone(),
                location: location.clone(),
                merchant_id: goods.merchant_id.clone(),
                product_id: goods.product_id.clone(),
                lot: goods.lot.clone(),
                picked: *picked_total,
                missing: *missing,
            }),
            Fact::ZeroChecked {
                line_id,
                location,
                empty,
            } => {
                let (merchant_id, product_id) = checked.clone().ok_or_else(|| {
                    StoreError::Data(format!("the zero check of line {line_id} names no goods"))
                })?;
                bodies.push(EventBody::ZeroChecked {
                    task: claim.clone(),
                    location: location.clone(),
                    merchant_id,
                    product_id,
                    empty: *empty,
                });
            }
            Fact::Dropped { location, totes } => {
                let mut dropped = Vec::new();
                let mut moves = Vec::new();
                for (order_id, tote) in totes {
                    dropped.push(DroppedTote {
                        order_id: order_uuid(order_id)?,
                        tote: tote.clone(),
                    });
                    for g in in_totes.remove(tote).unwrap_or_default() {
                        moves.push(StockMove {
                            from: Some(Place::in_container(IN_TRANSIT, tote)),
                            to: Some(Place::in_container(location, tote)),
                            ..g
                        });
                    }
                }
                bodies.push(EventBody::TotesDropped {
                    task: claim.clone(),
                    location: location.clone(),
                    totes: dropped,
                    moves,
                });
            }
            Fact::Finished => bodies.push(EventBody::PickFinished {
                task: claim.clone(),
            }),
        }
    }
    let finished = facts.contains(&Fact::Finished);
    store.append_events_closing_job(operator, &bodies, finished)?;
    Ok(())
}

impl super::job::Job for PickingController {
    fn screen(&self) -> super::Screen {
        super::Screen::Picking
    }

    fn name(&self) -> String {
        self.batch.clone()
    }

    fn is_finished(&self) -> bool {
        PickingController::is_finished(self)
    }

    fn scan(&mut self, cx: &mut super::job::JobCtx, scan: &Scan) -> Reply {
        PickingController::scan(self, cx.store, cx.config, cx.operator, scan, cx.today)
    }
}

/// A pick task this device left open for `operator` resumes at log-in.
pub fn resume_for(
    store: &Store,
    _config: &CoreConfig,
    operator: &str,
) -> Result<Option<Box<dyn super::job::Job>>, StoreError> {
    super::job::resume_open(store, operator, FLOW, PickingController::resume)
}

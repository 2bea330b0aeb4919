//! The packing controller: one order's goods from its totes into shipping parcels at a packing
//! station, every unit verified by scan, offline.
//!
//! The order comes from the pull (a pack order: goods per tote, inserts, documents; no personal
//! data). Scanning one of its totes (or its reference) starts the job: its lines (ordered goods
//! and inserts, names and weights from the local products), the checklist, the box types of its
//! packing location and the carton suggestion ([`laituri_domain::carton::suggest`]). Scans are
//! read with [`super::recognise`], a box by its box type's barcode; facts go through
//! [`super::seam::advance`], like every flow. Every fact is written to the job's journal
//! (`store/packing.rs` says why a journal), and in the same transaction a closed parcel becomes
//! a `parcel_packed` event and the finish a `packing_finished` event whose moves ship every
//! unit out of its tote. The finish leaves the order waiting for its labels, which the sync
//! worker asks the server for. A job resumed at log-in replays its journal.

use laituri_domain::calendar::Date;
use laituri_domain::carton::{self, BoxSpec, Item};
use laituri_domain::flow::Flow;
use laituri_domain::packing::{
    Confirmation, Entry, Expect, Fact, Input, ItemScan, Message, PackLine, PackOrder as Order,
    Packing, Shell, WeightFrom,
};
use laituri_domain::scan::Scan;
use laituri_protocol::{
    EventBody, GoodsCondition, OrderLine, PackOrder, Parcel, Place, StockMove, WeightSource,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::messages::{PackRecent, Text};
use super::recognise::{Label, recognise};
use super::{CoreConfig, Reply, Tone};
use crate::store::{LineState, OpenJob, Store, StoreError};

/// The flow's name in the open-job record.
pub const FLOW: &str = "packing";

/// How many recent lines the packing screen lists.
pub const RECENT_LINES: u32 = 30;

/// Buttons and keypad entries of the packing screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A tap on a checklist entry.
    Tap(Entry),
    /// The open parcel ships without a box.
    NoBox,
    /// Grams typed on the keypad.
    Weight(i64),
    /// A stable weight from the station's scale, in grams.
    Scale(i64),
    CloseParcel,
    Finish,
    /// Take the last unit packed back out of the open parcel.
    Cancel,
    /// Park the job: it stays open on this device and resumes from the menu or at log-in.
    Stop,
}

/// One line of the order on screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineView {
    pub name: String,
    pub packed: i64,
    pub quantity: i64,
    pub insert: bool,
}

/// One entry of the checklist on screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckView {
    pub entry: Entry,
    /// The insert's product name, or the document's kind.
    pub name: String,
    pub done: bool,
}

/// What the packing screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackingView {
    pub order_id: String,
    pub reference: String,
    pub expects: Expect,
    pub prompt: Message,
    pub lines: Vec<LineView>,
    pub checklist: Vec<CheckView>,
    /// The open parcel's number.
    pub parcel: u32,
    /// The box the carton plan suggests for it (its name), if any.
    pub suggested_box: Option<String>,
    /// The box scanned for it (its name), or `Some("")`-free: `None` until chosen.
    pub chosen_box: Option<Shell>,
    pub weight: Option<(u64, WeightFrom)>,
    /// Units in the open parcel.
    pub open_units: i64,
    pub units_left: i64,
    pub parcels_closed: usize,
    pub finished: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct JobKey {
    order_id: String,
    /// The first local seq this job could have recorded: its events are read back from here.
    first_seq: u64,
}

/// A domain fact as the journal keeps it (the domain crate has no serde).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fact", rename_all = "snake_case")]
enum Journal {
    Packed {
        parcel: u32,
        product_id: String,
        quantity: i64,
        insert: bool,
    },
    Unpacked {
        parcel: u32,
        product_id: String,
        quantity: i64,
        insert: bool,
    },
    Confirmed {
        insert: Option<String>,
        document: Option<String>,
        tap: bool,
    },
    ParcelClosed {
        parcel: u32,
        box_id: Option<String>,
        suggested_box: Option<String>,
        box_overridden: bool,
        weight_g: u64,
        weight_from: WeightSource,
        contents: Vec<(String, i64)>,
    },
    Finished {
        parcels: u32,
    },
}

fn source(w: WeightFrom) -> WeightSource {
    match w {
        WeightFrom::Scale => WeightSource::Scale,
        WeightFrom::Keypad => WeightSource::Keypad,
        WeightFrom::Estimate => WeightSource::Estimate,
    }
}

fn from_source(w: WeightSource) -> WeightFrom {
    match w {
        WeightSource::Scale => WeightFrom::Scale,
        WeightSource::Keypad => WeightFrom::Keypad,
        WeightSource::Estimate => WeightFrom::Estimate,
    }
}

impl Journal {
    fn of(fact: &Fact) -> Journal {
        match fact.clone() {
            Fact::ItemPacked {
                parcel,
                product_id,
                quantity,
                insert,
            } => Journal::Packed {
                parcel,
                product_id,
                quantity,
                insert,
            },
            Fact::ItemUnpacked {
                parcel,
                product_id,
                quantity,
                insert,
            } => Journal::Unpacked {
                parcel,
                product_id,
                quantity,
                insert,
            },
            Fact::ChecklistConfirmed { entry, by } => {
                let (insert, document) = match entry {
                    Entry::Insert(p) => (Some(p), None),
                    Entry::Document(k) => (None, Some(k)),
                };
                Journal::Confirmed {
                    insert,
                    document,
                    tap: by == Confirmation::Tap,
                }
            }
            Fact::ParcelClosed {
                parcel,
                box_id,
                suggested_box,
                box_overridden,
                weight_g,
                weight_from,
                contents,
            } => Journal::ParcelClosed {
                parcel,
                box_id,
                suggested_box,
                box_overridden,
                weight_g,
                weight_from: source(weight_from),
                contents,
            },
            Fact::Finished { parcels } => Journal::Finished { parcels },
        }
    }

    fn fact(self) -> Option<Fact> {
        Some(match self {
            Journal::Packed {
                parcel,
                product_id,
                quantity,
                insert,
            } => Fact::ItemPacked {
                parcel,
                product_id,
                quantity,
                insert,
            },
            Journal::Unpacked {
                parcel,
                product_id,
                quantity,
                insert,
            } => Fact::ItemUnpacked {
                parcel,
                product_id,
                quantity,
                insert,
            },
            Journal::Confirmed {
                insert,
                document,
                tap,
            } => Fact::ChecklistConfirmed {
                entry: match (insert, document) {
                    (Some(p), _) => Entry::Insert(p),
                    (None, Some(k)) => Entry::Document(k),
                    (None, None) => return None,
                },
                by: if tap {
                    Confirmation::Tap
                } else {
                    Confirmation::Scan
                },
            },
            Journal::ParcelClosed {
                parcel,
                box_id,
                suggested_box,
                box_overridden,
                weight_g,
                weight_from,
                contents,
            } => Fact::ParcelClosed {
                parcel,
                box_id,
                suggested_box,
                box_overridden,
                weight_g,
                weight_from: from_source(weight_from),
                contents,
            },
            Journal::Finished { parcels } => Fact::Finished { parcels },
        })
    }
}

/// The order as the domain packs it: its lines (ordered goods and inserts per product, names
/// and weights from the local products), documents, the location's box types and the carton
/// suggestion.
fn domain_order(store: &Store, pack: &PackOrder) -> Result<(Order, String), StoreError> {
    let location = pack
        .goods
        .first()
        .map(|g| g.location.clone())
        .unwrap_or_default();
    // Units per product, in the order the goods list them.
    let mut totals: Vec<(String, i64)> = Vec::new();
    for g in &pack.goods {
        match totals.iter_mut().find(|(p, _)| *p == g.product_id) {
            Some((_, n)) => *n = n.saturating_add(g.quantity.max(0)),
            None => totals.push((g.product_id.clone(), g.quantity.max(0))),
        }
    }
    let mut lines = Vec::new();
    let mut items = Vec::new();
    for (product, total) in &totals {
        let inserted: i64 = pack
            .inserts
            .iter()
            .filter(|l| l.product_id == *product)
            .map(|l| l.quantity.max(0))
            .sum();
        let inserted = inserted.min(*total);
        let m = store.product_measures(product)?;
        let name = m
            .as_ref()
            .map(|m| m.name.clone())
            .unwrap_or_else(|| product.clone());
        let weight = m.as_ref().and_then(|m| m.weight_g);
        for (quantity, insert) in [(total - inserted, false), (inserted, true)] {
            if quantity > 0 {
                lines.push(PackLine {
                    product_id: product.clone(),
                    name: name.clone(),
                    quantity,
                    insert,
                    unit_weight_g: weight,
                });
            }
        }
        items.push(Item {
            product_id: product.clone(),
            quantity: *total,
            dims_mm: m.as_ref().and_then(|m| m.dims_mm),
            volume_ml: m.as_ref().and_then(|m| m.volume_ml),
            weight_g: weight,
        });
    }
    let boxes: Vec<BoxSpec> = store
        .box_types(&location)?
        .into_iter()
        .map(|b| BoxSpec {
            id: b.id,
            inner_mm: b.inner_mm,
            max_weight_g: b.max_weight_g,
            fill_pct: b.fill_pct.min(100) as u8,
            tare_g: b.tare_g,
        })
        .collect();
    let suggestion = carton::suggest(&items, &boxes);
    Ok((
        Order {
            order_id: pack.order_id.to_string(),
            reference: pack.reference.clone(),
            merchant_id: pack.merchant_id.clone(),
            lines,
            documents: pack.documents.clone(),
            boxes,
            suggestion,
        },
        location,
    ))
}

pub struct PackingController {
    job: Packing,
    pack: PackOrder,
    location: String,
    first_seq: u64,
    /// Box types of the location: (the code on its label, its id, its name).
    boxes: Vec<(String, String, String)>,
}

impl PackingController {
    /// Starts packing the order ready to pack with this id. Records the open job so that it
    /// resumes after a log-out or a crash.
    pub fn start(
        store: &mut Store,
        operator: &str,
        order_id: &str,
    ) -> Result<(PackingController, Reply), Reply> {
        let first_seq = store.counts()?.last_seq + 1;
        let ctrl = Self::load(store, order_id, first_seq, &[])?;
        store.begin_packing(
            order_id,
            &OpenJob {
                flow: FLOW.into(),
                operator_id: operator.to_string(),
                key: serde_json::to_value(JobKey {
                    order_id: order_id.to_string(),
                    first_seq,
                })
                .map_err(StoreError::from)?,
            },
        )?;
        let reply = ctrl.prompt();
        Ok((ctrl, reply))
    }

    /// Picks up the packing job this device left open, from its journal.
    pub fn resume(store: &Store, job: &OpenJob) -> Result<PackingController, StoreError> {
        let key: JobKey = serde_json::from_value(job.key.clone())?;
        let facts: Vec<Fact> = store
            .pack_journal(&key.order_id)?
            .into_iter()
            .filter_map(|v| serde_json::from_value::<Journal>(v).ok())
            .filter_map(Journal::fact)
            .collect();
        Self::load(store, &key.order_id, key.first_seq, &facts)
            .map_err(|r| StoreError::Data(format!("{:?}", r.text)))
    }

    fn load(
        store: &Store,
        order_id: &str,
        first_seq: u64,
        facts: &[Fact],
    ) -> Result<PackingController, Reply> {
        let Some(pack) = store.pack_order(order_id)? else {
            return Err(Reply::new(
                Tone::Error,
                Text::UnknownPackOrder {
                    code: order_id.to_string(),
                },
            ));
        };
        let (order, location) = domain_order(store, &pack)?;
        let boxes = store
            .box_types(&location)?
            .into_iter()
            .map(|b| (b.code().to_string(), b.id.clone(), b.name.clone()))
            .collect();
        Ok(PackingController {
            job: Packing::resume(order, facts),
            pack,
            location,
            first_seq,
            boxes,
        })
    }

    pub fn order_id(&self) -> String {
        self.pack.order_id.to_string()
    }

    pub fn reference(&self) -> &str {
        &self.pack.reference
    }

    pub fn is_finished(&self) -> bool {
        self.job.is_finished()
    }

    /// The prompt of where the job stands, for a screen shown again.
    pub fn prompt(&self) -> Reply {
        Reply::new(Tone::Ok, Text::Packing(self.named(self.job.prompt())))
    }

    /// A message as the packer reads it: inserts by their names, boxes by theirs.
    fn named(&self, m: Message) -> Message {
        let entry = |e: Entry| match e {
            Entry::Insert(p) => Entry::Insert(
                self.job
                    .lines()
                    .iter()
                    .find(|l| l.line.product_id == p)
                    .map_or(p, |l| l.line.name.clone()),
            ),
            other => other,
        };
        let name = |id: Option<String>| id.map(|id| self.box_name(&id));
        match m {
            Message::Confirm { entry: e } => Message::Confirm { entry: entry(e) },
            Message::AlreadyConfirmed { entry: e } => Message::AlreadyConfirmed { entry: entry(e) },
            Message::ChecklistOpen { entry: e } => Message::ChecklistOpen { entry: entry(e) },
            Message::NotInChecklist { entry: e } => Message::NotInChecklist { entry: entry(e) },
            Message::ScanBox {
                parcel,
                suggested,
                no_box,
            } => Message::ScanBox {
                parcel,
                suggested: name(suggested),
                no_box,
            },
            Message::BoxFirst { parcel, suggested } => Message::BoxFirst {
                parcel,
                suggested: name(suggested),
            },
            Message::BoxChosen { parcel, box_id } => Message::BoxChosen {
                parcel,
                box_id: self.box_name(&box_id),
            },
            Message::OtherBox {
                parcel,
                box_id,
                suggested,
            } => Message::OtherBox {
                parcel,
                box_id: name(box_id),
                suggested: name(suggested),
            },
            Message::ParcelClosed {
                parcel,
                box_id,
                weight_g,
                from,
            } => Message::ParcelClosed {
                parcel,
                box_id: name(box_id),
                weight_g,
                from,
            },
            other => other,
        }
    }

    fn box_name(&self, id: &str) -> String {
        self.boxes
            .iter()
            .find(|(_, i, _)| i == id)
            .map_or_else(|| id.to_string(), |(_, _, name)| name.clone())
    }

    fn apply(&mut self, store: &mut Store, operator: &str, input: Input, today: Date) -> Reply {
        let (pack, location) = (&self.pack, &self.location);
        let result = super::seam::advance(&mut self.job, input, today, |facts| {
            record(store, operator, pack, location, facts)
        });
        match result {
            Ok(feedback) => Reply::new(feedback.tone, Text::Packing(self.named(feedback.message))),
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
            Action::Tap(entry) => Input::Tap(entry),
            Action::NoBox => Input::NoBox,
            Action::Weight(g) => Input::KeypadWeight(g),
            Action::Scale(g) => Input::ScaleWeight(g),
            Action::CloseParcel => Input::CloseParcel,
            Action::Finish => Input::Finish,
            Action::Cancel => Input::Cancel,
            Action::Stop => {
                return if self.job.is_finished() {
                    self.prompt()
                } else {
                    Reply::new(
                        Tone::Warning,
                        Text::PackingParked {
                            reference: self.pack.reference.clone(),
                        },
                    )
                };
            }
        };
        self.apply(store, operator, input, today)
    }

    /// A stable weight from the scale: the open parcel's weight, when it holds goods and does
    /// not weigh that already. `None` when there is nothing to weigh.
    pub fn scale_reading(
        &mut self,
        store: &mut Store,
        operator: &str,
        grams: i64,
        today: Date,
    ) -> Option<Reply> {
        if self.job.is_finished() || self.job.contents().is_empty() || grams <= 0 {
            return None;
        }
        if self.job.weight() == Some((grams as u64, WeightFrom::Scale)) {
            return None;
        }
        Some(self.apply(store, operator, Input::ScaleWeight(grams), today))
    }

    pub fn scan(
        &mut self,
        store: &mut Store,
        config: &CoreConfig,
        operator: &str,
        scan: &Scan,
        today: Date,
    ) -> Reply {
        let text = scan.text().unwrap_or(&scan.data).trim().to_string();
        if let Some((_, id, _)) = self.boxes.iter().find(|(code, ..)| *code == text) {
            let id = id.clone();
            return self.apply(store, operator, Input::BoxType(id), today);
        }
        let input = match recognise(store, config, scan) {
            Ok(Label::Product { matches, .. }) => {
                // A barcode several merchants share means the order's merchant's goods.
                let merchant = &self.pack.merchant_id;
                let lines = self.job.lines();
                let m = matches
                    .iter()
                    .find(|m| {
                        m.merchant_id == *merchant
                            && lines.iter().any(|l| l.line.product_id == m.product_id)
                    })
                    .or_else(|| matches.iter().find(|m| m.merchant_id == *merchant))
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
            Ok(Label::Unreadable(why)) => return Reply::new(Tone::Error, Text::Unreadable { why }),
            Ok(_) => Input::Unknown(laituri_protocol::recorded_scan(&text)),
            Err(e) => return e.into(),
        };
        self.apply(store, operator, input, today)
    }

    /// The parcels closed and the units of the open parcel, newest first: closed parcels with
    /// where their event stands, the open parcel's goods as saved on the device. Bounded.
    pub fn recent(&self, store: &Store) -> Vec<(PackRecent, LineState)> {
        let order_id = self.pack.order_id;
        let mut out: Vec<(PackRecent, LineState)> = Vec::new();
        let name = |product: &str| {
            self.job
                .lines()
                .iter()
                .find(|l| l.line.product_id == product)
                .map_or_else(|| product.to_string(), |l| l.line.name.clone())
        };
        for (product, units) in self.job.contents().into_iter().rev() {
            out.push((
                PackRecent::InParcel {
                    quantity: units,
                    name: name(&product),
                    parcel: self.job.parcel(),
                },
                LineState::Saved,
            ));
        }
        let mut events = store
            .events_of_type("packing_finished", self.first_seq, 1, true)
            .unwrap_or_default();
        events.extend(
            store
                .events_of_type("parcel_packed", self.first_seq, RECENT_LINES, true)
                .unwrap_or_default(),
        );
        for (_, body, state) in events {
            match body {
                EventBody::ParcelPacked {
                    order_id: o,
                    parcel,
                    ..
                } if o == order_id => out.push((
                    PackRecent::Parcel {
                        parcel: parcel.number,
                        box_name: parcel.box_type.as_deref().map(|b| self.box_name(b)),
                        weight_g: u64::from(parcel.weight_g),
                        units: parcel.contents.iter().map(|c| c.quantity).sum(),
                    },
                    state,
                )),
                EventBody::PackingFinished {
                    order_id: o,
                    parcels,
                    ..
                } if o == order_id => out.push((PackRecent::Finished { parcels }, state)),
                _ => {}
            }
        }
        out.truncate(RECENT_LINES as usize);
        out
    }

    pub fn view(&self) -> PackingView {
        let lines = self
            .job
            .lines()
            .iter()
            .map(|l| LineView {
                name: l.line.name.clone(),
                packed: l.packed,
                quantity: l.line.quantity,
                insert: l.line.insert,
            })
            .collect();
        let checklist = self
            .job
            .checklist()
            .into_iter()
            .map(|(entry, done)| {
                let name = match &entry {
                    Entry::Insert(p) => self
                        .job
                        .lines()
                        .iter()
                        .find(|l| l.line.product_id == *p)
                        .map_or_else(|| p.clone(), |l| l.line.name.clone()),
                    Entry::Document(kind) => kind.clone(),
                };
                CheckView { entry, name, done }
            })
            .collect();
        let suggested_box = self
            .job
            .planned()
            .and_then(|p| p.box_id.as_deref())
            .map(|id| self.box_name(id));
        let chosen_box = self.job.shell().map(|s| match s {
            Shell::Box(id) => Shell::Box(self.box_name(id)),
            Shell::Without => Shell::Without,
        });
        PackingView {
            order_id: self.pack.order_id.to_string(),
            reference: self.pack.reference.clone(),
            expects: self.job.expects(),
            prompt: self.named(self.job.prompt()),
            lines,
            checklist,
            parcel: self.job.parcel(),
            suggested_box,
            chosen_box,
            weight: self.job.weight(),
            open_units: self.job.contents().iter().map(|(_, n)| n).sum(),
            units_left: self.job.units_left(),
            parcels_closed: self.job.closed().len(),
            finished: self.job.is_finished(),
        }
    }
}

/// The moves that ship the order's goods out of their totes at packing.
fn ship_out(pack: &PackOrder) -> Vec<StockMove> {
    pack.goods
        .iter()
        .filter(|g| g.quantity > 0)
        .map(|g| StockMove {
            merchant_id: pack.merchant_id.clone(),
            product_id: g.product_id.clone(),
            quantity: g.quantity,
            lot: g.lot.clone(),
            expiry: g.expiry.clone(),
            serial: None,
            condition: GoodsCondition::Good,
            from: Some(Place::in_container(&g.location, &g.tote)),
            to: None,
            reason: None,
        })
        .collect()
}

/// Writes one step's facts in one transaction: all of them to the journal, a closed parcel and
/// the finish as events too; the finish closes the open job.
fn record(
    store: &mut Store,
    operator: &str,
    pack: &PackOrder,
    location: &str,
    facts: &[Fact],
) -> Result<(), StoreError> {
    let order_id: Uuid = pack.order_id;
    let mut journal = Vec::new();
    let mut bodies = Vec::new();
    let mut finished = None;
    for fact in facts {
        journal.push(serde_json::to_value(Journal::of(fact))?);
        match fact {
            Fact::ParcelClosed {
                parcel,
                box_id,
                box_overridden,
                weight_g,
                weight_from,
                contents,
                ..
            } => bodies.push(EventBody::ParcelPacked {
                order_id,
                location: location.to_string(),
                parcel: Parcel {
                    number: *parcel,
                    box_type: box_id.clone(),
                    box_overridden: *box_overridden,
                    weight_g: u32::try_from(*weight_g).unwrap_or(u32::MAX),
                    weight_source: source(*weight_from),
                    contents: contents
                        .iter()
                        .map(|(product_id, quantity)| OrderLine {
                            product_id: product_id.clone(),
                            quantity: *quantity,
                        })
                        .collect(),
                    tracking_number: None,
                    tracking_url: None,
                },
            }),
            Fact::Finished { parcels } => {
                finished = Some(*parcels);
                bodies.push(EventBody::PackingFinished {
                    order_id,
                    location: location.to_string(),
                    parcels: *parcels,
                    moves: ship_out(pack),
                });
            }
            _ => {}
        }
    }
    let id = order_id.to_string();
    store.record_packing(
        operator,
        (&id, &pack.reference),
        &journal,
        &bodies,
        finished,
    )
}

impl super::job::Job for PackingController {
    fn screen(&self) -> super::Screen {
        super::Screen::Packing
    }

    fn name(&self) -> String {
        self.pack.reference.clone()
    }

    fn is_finished(&self) -> bool {
        PackingController::is_finished(self)
    }

    fn scan(&mut self, cx: &mut super::job::JobCtx, scan: &Scan) -> Reply {
        PackingController::scan(self, cx.store, cx.config, cx.operator, scan, cx.today)
    }
}

/// A packing job this device left open for `operator` resumes at log-in.
pub fn resume_for(
    store: &Store,
    _config: &CoreConfig,
    operator: &str,
) -> Result<Option<Box<dyn super::job::Job>>, StoreError> {
    super::job::resume_open(store, operator, FLOW, PackingController::resume)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fact_survives_the_journal() {
        let facts = [
            Fact::ItemPacked {
                parcel: 1,
                product_id: "P".into(),
                quantity: 2,
                insert: false,
            },
            Fact::ItemUnpacked {
                parcel: 1,
                product_id: "P".into(),
                quantity: 1,
                insert: true,
            },
            Fact::ChecklistConfirmed {
                entry: Entry::Insert("G".into()),
                by: Confirmation::Scan,
            },
            Fact::ChecklistConfirmed {
                entry: Entry::Document("receipt".into()),
                by: Confirmation::Tap,
            },
            Fact::ParcelClosed {
                parcel: 1,
                box_id: Some("S".into()),
                suggested_box: Some("M".into()),
                box_overridden: true,
                weight_g: 812,
                weight_from: WeightFrom::Estimate,
                contents: vec![("P".into(), 1)],
            },
            Fact::Finished { parcels: 1 },
        ];
        for fact in facts {
            let json = serde_json::to_value(Journal::of(&fact)).unwrap();
            let back: Journal = serde_json::from_value(json).unwrap();
            assert_eq!(back.fact(), Some(fact));
        }
    }
}

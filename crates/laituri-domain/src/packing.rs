//! Packing: one order's goods into shipping parcels at the packing station, as a state machine.
//!
//! One job = one order. Its lines (the merchant's inserts among them), the documents to put in,
//! the warehouse's box types and a carton suggestion ([`crate::carton::suggest`]) come with it.
//! Parcels are numbered from 1; one is always open until the order is finished.
//!
//! Transitions:
//! - `Item`: an item of the order packs its units (a case code counts its pack) into the open
//!   parcel: fact `ItemPacked`. The product's ordered line fills before its insert line. An item
//!   not in the order (or of another merchant), or more units than are left of the product, is
//!   an error and packs nothing: every unit in a parcel was verified by scan. The scan that
//!   packs an insert line's last unit confirms its checklist entry (`ChecklistConfirmed`, by
//!   scan).
//! - `Tap` (a checklist entry): an insert counts as packed, all its units left at once, into the
//!   open parcel (`ItemPacked`, then `ChecklistConfirmed` by tap): a flyer has no barcode to
//!   scan. A document is confirmed (`ChecklistConfirmed`). An entry already confirmed is a
//!   warning that records nothing.
//! - `BoxType`: a box type of the warehouse (the caller matched its label to the box type's id)
//!   becomes the open parcel's box; another one than the carton plan suggests for this parcel is
//!   an override, said as a warning now and recorded with the parcel. `NoBox`: the parcel ships
//!   without a box (a unit that fits none, in its own packaging). Not a fact yet: the box is
//!   recorded when the parcel closes.
//! - `ScaleWeight`, `KeypadWeight`: the open parcel's weight in grams, more than 0. A weight from
//!   the scale wins over one typed: a typed weight after a scale's is refused with a warning.
//!   Without either the parcel closes with its estimate (its units' weights plus the box's tare)
//!   when every unit's weight is known, so a station without a scale does not type. Packing,
//!   unpacking or another box drops a weight read before: it weighed other contents.
//! - `CloseParcel`: a parcel with goods, a box (or `NoBox`) and a weight closes (fact
//!   `ParcelClosed`) and the next one opens. An empty parcel is not closed. Closing the parcel
//!   that completes the order (every unit packed, every entry confirmed) also finishes it.
//! - `Finish`: only when every unit is packed and every checklist entry confirmed; the open
//!   parcel, if it holds goods, closes with it (it needs its box and weight too) -> facts
//!   `ParcelClosed`, `Finished` -> `Done`.
//! - `Cancel` takes the last unit packed into the open parcel back out (fact `ItemUnpacked`, one
//!   unit; an insert taken out is no longer confirmed). With the open parcel empty it does
//!   nothing (a warning): closed parcels stay closed and confirmed documents stay confirmed.
//! - `Unknown` -> error. `Done` takes nothing more.
//!
//! Lots, expiries and serial numbers on item labels are not checked here: picking chose them.
//! Errors record nothing and change nothing; [`Packing::prompt`] still says what to do next. A
//! job is resumed from its order and the facts recorded so far ([`Packing::resume`]); the open
//! parcel's box and weight are not facts, so a resumed job asks for them again. This module does
//! no I/O and reads no clock.

use crate::calendar::Date;
use crate::carton::{BoxSpec, NoBox, ParcelPlan, Plan};
pub use crate::flow::Tone;
use crate::flow::{self, Flow};
/// The scan of an item, the same as putaway's: already matched to a product by the caller.
pub use crate::putaway::ItemScan;

/// The heaviest parcel one weight may say: a typo guard (a tonne).
pub const MAX_WEIGHT_G: i64 = 1_000_000;

/// A line of the order to pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackLine {
    pub product_id: String,
    pub name: String,
    pub quantity: i64,
    /// Added by the merchant's rules (a free gift, a flyer): also an entry of the checklist.
    pub insert: bool,
    /// One unit's weight, for the parcel's estimated weight; 0 counts as unknown.
    pub unit_weight_g: Option<u32>,
}

/// What the packing station needs of an order, offline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackOrder {
    pub order_id: String,
    /// What the packer sees, e.g. "#1003".
    pub reference: String,
    pub merchant_id: String,
    pub lines: Vec<PackLine>,
    /// Documents to put in, by kind ("receipt", "return_form").
    pub documents: Vec<String>,
    /// The warehouse's box types.
    pub boxes: Vec<BoxSpec>,
    /// The carton suggestion for the order.
    pub suggestion: Plan,
}

/// An entry of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entry {
    /// The insert line of this product.
    Insert(String),
    /// A document of this kind.
    Document(String),
}

/// How a checklist entry was confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Confirmation {
    /// The insert's last unit was scanned.
    Scan,
    Tap,
}

/// Where a parcel's weight came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WeightFrom {
    Keypad,
    Scale,
    /// The units' weights from master data plus the box's tare.
    Estimate,
}

/// What a parcel is packed in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Shell {
    /// A box type of the warehouse, by id.
    Box(String),
    /// No box: the goods ship in their own packaging.
    Without,
}

impl Shell {
    pub fn box_id(&self) -> Option<&str> {
        match self {
            Shell::Box(id) => Some(id),
            Shell::Without => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Item(ItemScan),
    /// A box type's label, as the caller matched it: the box type's id.
    BoxType(String),
    /// The open parcel ships without a box.
    NoBox,
    /// Grams, read from a scale.
    ScaleWeight(i64),
    /// Grams, typed on the keypad.
    KeypadWeight(i64),
    /// A tap on a checklist entry.
    Tap(Entry),
    /// Close the open parcel and start the next.
    CloseParcel,
    Finish,
    /// Take the last unit packed back out of the open parcel.
    Cancel,
    /// A code the device does not know.
    Unknown(String),
}

/// What the terminal must record durably, in order, in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// Units went into the open parcel, each verified by scan, or an insert counted by a tap
    /// (then followed by its `ChecklistConfirmed`). `insert`: they count to the product's
    /// insert line, not its ordered line.
    ItemPacked {
        parcel: u32,
        product_id: String,
        quantity: i64,
        insert: bool,
    },
    /// Units were taken back out of the open parcel.
    ItemUnpacked {
        parcel: u32,
        product_id: String,
        quantity: i64,
        insert: bool,
    },
    ChecklistConfirmed {
        entry: Entry,
        by: Confirmation,
    },
    /// A parcel is closed: ready for its label.
    ParcelClosed {
        parcel: u32,
        /// `None`: it ships without a box.
        box_id: Option<String>,
        /// The box the carton plan suggested for this parcel, if it had one.
        suggested_box: Option<String>,
        /// True when the box is not the one suggested for this parcel (with the plan's parcel
        /// number): another box type, a box where none was suggested or none where one was.
        box_overridden: bool,
        weight_g: u64,
        weight_from: WeightFrom,
        /// `(product_id, units)` in the order packed, each product once.
        contents: Vec<(String, i64)>,
    },
    /// The order is packed into `parcels` parcels.
    Finished {
        parcels: u32,
    },
}

/// A closed parcel, as its `ParcelClosed` fact says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedParcel {
    pub parcel: u32,
    pub box_id: Option<String>,
    pub suggested_box: Option<String>,
    pub box_overridden: bool,
    pub weight_g: u64,
    pub weight_from: WeightFrom,
    pub contents: Vec<(String, i64)>,
}

/// What to tell the packer; the terminal renders it in the packer's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Take a box for `parcel` and scan its label: `suggested`, or none when the plan says
    /// `no_box` (ship as is).
    ScanBox {
        parcel: u32,
        suggested: Option<String>,
        no_box: Option<NoBox>,
    },
    /// Scan `left` of `name` into `parcel`; `units_left` of the order in all.
    ScanItems {
        parcel: u32,
        name: String,
        left: i64,
        insert: bool,
        units_left: i64,
    },
    /// The plan's parcel is full: close it (with `weight`, when known) and start the next.
    CloseParcel {
        parcel: u32,
        weight: Option<(u64, WeightFrom)>,
    },
    /// Put `entry` in and confirm it.
    Confirm {
        entry: Entry,
    },
    /// Weigh `parcel` or type its weight: it has no estimate.
    Weigh {
        parcel: u32,
    },
    /// Everything is in: finish, closing `parcel` with `weight_g`.
    CloseAndFinish {
        parcel: u32,
        weight_g: u64,
        from: WeightFrom,
    },
    /// Everything is in and every parcel closed: finish.
    FinishOrder {
        parcels: u32,
    },
    /// The order is packed.
    OrderPacked {
        parcels: u32,
    },
    Packed {
        name: String,
        quantity: i64,
        parcel: u32,
        /// Units of the product still to pack.
        left: i64,
    },
    /// An insert is all in the parcel and its entry confirmed.
    InsertPacked {
        name: String,
        parcel: u32,
        by: Confirmation,
    },
    DocumentConfirmed {
        kind: String,
    },
    /// The entry was confirmed before; nothing was recorded.
    AlreadyConfirmed {
        entry: Entry,
    },
    BoxChosen {
        parcel: u32,
        box_id: String,
    },
    /// Not the box the plan suggests (`None`: the plan suggests none); recorded as an override.
    OtherBox {
        parcel: u32,
        box_id: Option<String>,
        suggested: Option<String>,
    },
    ShipsWithoutBox {
        parcel: u32,
    },
    WeightSet {
        parcel: u32,
        grams: u64,
        from: WeightFrom,
    },
    /// A typed weight after the scale's: the scale's stands.
    ScaleWins {
        parcel: u32,
        scale_g: u64,
    },
    ParcelClosed {
        parcel: u32,
        box_id: Option<String>,
        weight_g: u64,
        from: WeightFrom,
    },
    /// One unit of `name` came back out of `parcel`.
    Unpacked {
        name: String,
        parcel: u32,
    },
    /// Cancel with nothing in the open parcel: nothing was done.
    NothingToUnpack {
        parcel: u32,
    },
    NotInOrder {
        name: String,
    },
    /// `asked` units are more than the `left` of the product still to pack.
    MoreThanOrdered {
        name: String,
        asked: i64,
        left: i64,
    },
    BadQuantity,
    UnknownBoxType {
        code: String,
    },
    BadWeight {
        grams: i64,
    },
    /// A parcel without goods is not closed (nor weighed).
    EmptyParcel {
        parcel: u32,
    },
    /// The parcel needs its box first.
    BoxFirst {
        parcel: u32,
        suggested: Option<String>,
    },
    /// The parcel needs a weight first: no scale, no keypad, no estimate.
    WeighFirst {
        parcel: u32,
    },
    /// Finish refused: units are still to pack; `name` is the next.
    NotAllPacked {
        units_left: i64,
        name: String,
    },
    /// Finish refused: the checklist is not done.
    ChecklistOpen {
        entry: Entry,
    },
    /// The tapped entry is not on this order's checklist.
    NotInChecklist {
        entry: Entry,
    },
    UnknownCode {
        raw: String,
    },
    /// The order is packed: it takes no more input.
    OrderFinished,
}

pub type Feedback = flow::Feedback<Message>;
pub type Step = flow::Step<Packing, Fact, Message>;

/// What the packing waits for; the terminal reads scans and prompts by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Box,
    Item,
    /// The plan's parcel is full: close it.
    Close,
    Checklist,
    Weight,
    Finish,
    Nothing,
}

/// A line and what is packed of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineState {
    pub line: PackLine,
    pub packed: i64,
}

impl LineState {
    /// Units still to pack.
    pub fn left(&self) -> i64 {
        self.line.quantity - self.packed
    }
}

/// The parcel being packed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Open {
    number: u32,
    /// `(line, units)` in the order packed; Cancel takes from the end.
    packed: Vec<(usize, i64)>,
    shell: Option<Shell>,
    /// From the scale or the keypad, for the contents as they are now.
    weight: Option<(u64, WeightFrom)>,
}

impl Open {
    fn new(number: u32) -> Open {
        Open {
            number,
            packed: Vec::new(),
            shell: None,
            weight: None,
        }
    }
}

/// One order at the packing station.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packing {
    order: PackOrder,
    /// The order's lines, one per product and kind (ordered or insert).
    lines: Vec<LineState>,
    /// Documents by kind, each once, and whether confirmed.
    documents: Vec<(String, bool)>,
    closed: Vec<ClosedParcel>,
    open: Open,
    done: bool,
}

impl Packing {
    /// Starts packing `order`. Lines of the same product and kind are merged; quantities are
    /// taken as at least 0 and lines of none are left out. Documents are listed once each.
    pub fn new(order: PackOrder) -> Packing {
        let mut lines: Vec<LineState> = Vec::new();
        for line in &order.lines {
            let quantity = line.quantity.max(0);
            match lines
                .iter_mut()
                .find(|l| l.line.product_id == line.product_id && l.line.insert == line.insert)
            {
                Some(l) => l.line.quantity = l.line.quantity.saturating_add(quantity),
                None => lines.push(LineState {
                    line: PackLine {
                        quantity,
                        ..line.clone()
                    },
                    packed: 0,
                }),
            }
        }
        lines.retain(|l| l.line.quantity > 0);
        let mut documents: Vec<(String, bool)> = Vec::new();
        for kind in &order.documents {
            if !documents.iter().any(|(k, _)| k == kind) {
                documents.push((kind.clone(), false));
            }
        }
        Packing {
            order,
            lines,
            documents,
            closed: Vec::new(),
            open: Open::new(1),
            done: false,
        }
    }

    /// Rebuilds a job from its order and the facts recorded for it so far, in order. Facts this
    /// flow would not have recorded at that point (more units than are left, units out of a
    /// parcel that holds none) are applied only as far as they make sense.
    pub fn resume(order: PackOrder, facts: &[Fact]) -> Packing {
        let mut p = Packing::new(order);
        for fact in facts {
            p.replay(fact);
        }
        p
    }

    fn replay(&mut self, fact: &Fact) {
        match fact {
            Fact::ItemPacked {
                product_id,
                quantity,
                insert,
                ..
            } => {
                if let Some(i) = self.line_of(product_id, *insert) {
                    let n = (*quantity).min(self.lines[i].left());
                    if n > 0 {
                        self.pack(i, n);
                    }
                }
            }
            Fact::ItemUnpacked {
                product_id,
                quantity,
                insert,
                ..
            } => {
                if let Some(i) = self.line_of(product_id, *insert) {
                    for _ in 0..*quantity {
                        let Some(k) = self.open.packed.iter().rposition(|&(l, _)| l == i) else {
                            break;
                        };
                        self.take_out(k);
                    }
                }
            }
            Fact::ChecklistConfirmed { entry, .. } => {
                if let Entry::Document(kind) = entry
                    && let Some(d) = self.documents.iter_mut().find(|(k, _)| k == kind)
                {
                    d.1 = true;
                }
            }
            Fact::ParcelClosed {
                box_id,
                suggested_box,
                box_overridden,
                weight_g,
                weight_from,
                contents,
                ..
            } => {
                self.closed.push(ClosedParcel {
                    parcel: self.open.number,
                    box_id: box_id.clone(),
                    suggested_box: suggested_box.clone(),
                    box_overridden: *box_overridden,
                    weight_g: *weight_g,
                    weight_from: *weight_from,
                    contents: contents.clone(),
                });
                self.open = Open::new(self.open.number + 1);
            }
            Fact::Finished { .. } => self.done = true,
        }
    }

    pub fn order(&self) -> &PackOrder {
        &self.order
    }

    /// The lines, one per product and kind, with what is packed of each.
    pub fn lines(&self) -> &[LineState] {
        &self.lines
    }

    /// Units of the order still to pack, inserts included.
    pub fn units_left(&self) -> i64 {
        self.lines
            .iter()
            .fold(0i64, |sum, l| sum.saturating_add(l.left()))
    }

    /// The checklist: the inserts (in line order), then the documents, and whether each is
    /// confirmed. An insert is confirmed when all its units are packed.
    pub fn checklist(&self) -> Vec<(Entry, bool)> {
        let inserts = self
            .lines
            .iter()
            .filter(|l| l.line.insert)
            .map(|l| (Entry::Insert(l.line.product_id.clone()), l.left() == 0));
        let documents = self
            .documents
            .iter()
            .map(|(k, done)| (Entry::Document(k.clone()), *done));
        inserts.chain(documents).collect()
    }

    /// The parcels closed so far.
    pub fn closed(&self) -> &[ClosedParcel] {
        &self.closed
    }

    /// The open parcel's number, from 1 (after the finish: one more than the parcels).
    pub fn parcel(&self) -> u32 {
        self.open.number
    }

    /// What the open parcel holds: `(product_id, units)` in the order packed, each once.
    pub fn contents(&self) -> Vec<(String, i64)> {
        let mut contents: Vec<(String, i64)> = Vec::new();
        for &(i, n) in &self.open.packed {
            let product = &self.lines[i].line.product_id;
            match contents.iter_mut().find(|(p, _)| p == product) {
                Some((_, total)) => *total = total.saturating_add(n),
                None => contents.push((product.clone(), n)),
            }
        }
        contents
    }

    /// The open parcel's box, once scanned (or `NoBox`).
    pub fn shell(&self) -> Option<&Shell> {
        self.open.shell.as_ref()
    }

    /// The carton plan's parcel for the open one, if the plan has that many.
    pub fn planned(&self) -> Option<&ParcelPlan> {
        self.order.suggestion.parcel(self.open.number)
    }

    /// The open parcel's units' weights plus its box's tare, when its box is chosen and every
    /// unit's weight is known (and the sum is more than 0).
    pub fn estimated_weight(&self) -> Option<u64> {
        let tare = match self.open.shell.as_ref()? {
            Shell::Box(id) => self
                .order
                .boxes
                .iter()
                .find(|b| b.id == *id)
                .map_or(0, |b| u64::from(b.tare_g)),
            Shell::Without => 0,
        };
        let mut grams = tare;
        for &(i, n) in &self.open.packed {
            let each = self.lines[i].line.unit_weight_g.filter(|&w| w > 0)?;
            grams = grams.saturating_add(u64::from(each).saturating_mul(n as u64));
        }
        (grams > 0 && !self.open.packed.is_empty()).then_some(grams)
    }

    /// The weight the open parcel would close with: the scale's, else the typed one, else the
    /// estimate.
    pub fn weight(&self) -> Option<(u64, WeightFrom)> {
        self.open
            .weight
            .or_else(|| Some((self.estimated_weight()?, WeightFrom::Estimate)))
    }

    pub fn expects(&self) -> Expect {
        match self.prompt() {
            Message::ScanBox { .. } => Expect::Box,
            Message::ScanItems { .. } => Expect::Item,
            Message::CloseParcel { .. } => Expect::Close,
            Message::Confirm { .. } => Expect::Checklist,
            Message::Weigh { .. } => Expect::Weight,
            Message::CloseAndFinish { .. } | Message::FinishOrder { .. } => Expect::Finish,
            _ => Expect::Nothing,
        }
    }

    /// The prompt for where the packing stands now (also after an error in between): the box
    /// first, then the units (the plan's for this parcel first), then the checklist, then the
    /// weight and the finish.
    pub fn prompt(&self) -> Message {
        let parcels = self.closed.len() as u32;
        if self.done {
            return Message::OrderPacked { parcels };
        }
        let parcel = self.open.number;
        let units_left = self.units_left();
        let has_goods = !self.open.packed.is_empty();
        if self.open.shell.is_none() && (units_left > 0 || has_goods) {
            let plan = self.planned();
            return Message::ScanBox {
                parcel,
                suggested: plan.and_then(|p| p.box_id.clone()),
                no_box: plan.and_then(|p| p.no_box),
            };
        }
        if let Some(i) = self.next_line() {
            if self.planned_parcel_full() {
                return Message::CloseParcel {
                    parcel,
                    weight: self.weight(),
                };
            }
            let line = &self.lines[i];
            return Message::ScanItems {
                parcel,
                name: line.line.name.clone(),
                left: line.left(),
                insert: line.line.insert,
                units_left,
            };
        }
        if let Some(entry) = self.open_entry() {
            return Message::Confirm { entry };
        }
        if !has_goods {
            return Message::FinishOrder { parcels };
        }
        match self.weight() {
            Some((weight_g, from)) => Message::CloseAndFinish {
                parcel,
                weight_g,
                from,
            },
            None => Message::Weigh { parcel },
        }
    }

    /// The line to pack next: what the plan puts into this parcel first (largest first), then
    /// the order's lines as given, ordered goods before inserts.
    fn next_line(&self) -> Option<usize> {
        let planned = self
            .planned()
            .into_iter()
            .flat_map(|p| &p.items)
            .find_map(|(product, _)| self.line_left(product));
        planned
            .or_else(|| {
                self.lines
                    .iter()
                    .position(|l| !l.line.insert && l.left() > 0)
            })
            .or_else(|| self.lines.iter().position(|l| l.left() > 0))
    }

    /// The product's line with units left, the ordered one before the insert.
    fn line_left(&self, product: &str) -> Option<usize> {
        [false, true].into_iter().find_map(|insert| {
            self.line_of(product, insert)
                .filter(|&i| self.lines[i].left() > 0)
        })
    }

    fn line_of(&self, product: &str, insert: bool) -> Option<usize> {
        self.lines
            .iter()
            .position(|l| l.line.product_id == product && l.line.insert == insert)
    }

    /// True when the open parcel holds all the plan puts into it and the plan has more parcels.
    fn planned_parcel_full(&self) -> bool {
        let Some(plan) = self.planned() else {
            return false;
        };
        let contents = self.contents();
        let held = |product: &str| {
            contents
                .iter()
                .find(|(p, _)| p == product)
                .map_or(0, |(_, n)| *n)
        };
        !contents.is_empty()
            && self.order.suggestion.parcel(self.open.number + 1).is_some()
            && plan.items.iter().all(|(p, n)| held(p) >= *n)
    }

    /// The first checklist entry not confirmed.
    fn open_entry(&self) -> Option<Entry> {
        self.checklist()
            .into_iter()
            .find(|(_, done)| !done)
            .map(|(entry, _)| entry)
    }

    /// Applies one input. Never mutates `self`.
    pub fn step(&self, input: Input, _today: Date) -> Step {
        let mut next = self.clone();
        let mut facts = Vec::new();
        let feedback = next.apply(input, &mut facts);
        // The step that ends the job says so (its message is what it did).
        let feedback = if next.done && !self.done && feedback.tone != Tone::Error {
            Feedback::done(feedback.message)
        } else {
            feedback
        };
        Step {
            next,
            facts,
            feedback,
        }
    }

    fn apply(&mut self, input: Input, facts: &mut Vec<Fact>) -> Feedback {
        if self.done {
            return Feedback::error(Message::OrderFinished);
        }
        match input {
            Input::Item(scan) => self.scan(scan, facts),
            Input::Tap(entry) => self.tap(entry, facts),
            Input::BoxType(code) => self.choose_box(code),
            Input::NoBox => self.without_box(),
            Input::ScaleWeight(grams) => self.set_weight(grams, WeightFrom::Scale),
            Input::KeypadWeight(grams) => self.set_weight(grams, WeightFrom::Keypad),
            Input::CloseParcel => self.close_parcel(facts),
            Input::Finish => self.finish(facts),
            Input::Cancel => self.cancel(facts),
            Input::Unknown(raw) => Feedback::error(Message::UnknownCode { raw }),
        }
    }

    /// Units of line `i` go into the open parcel; a weight read before no longer holds.
    fn pack(&mut self, i: usize, n: i64) {
        self.lines[i].packed += n;
        match self.open.packed.last_mut() {
            Some((last, units)) if *last == i => *units += n,
            _ => self.open.packed.push((i, n)),
        }
        self.open.weight = None;
    }

    /// One unit of the open parcel's entry `k` comes back out.
    fn take_out(&mut self, k: usize) -> usize {
        let i = self.open.packed[k].0;
        self.lines[i].packed -= 1;
        self.open.packed[k].1 -= 1;
        if self.open.packed[k].1 == 0 {
            self.open.packed.remove(k);
        }
        self.open.weight = None;
        i
    }

    fn packed_fact(&self, i: usize, quantity: i64) -> Fact {
        Fact::ItemPacked {
            parcel: self.open.number,
            product_id: self.lines[i].line.product_id.clone(),
            quantity,
            insert: self.lines[i].line.insert,
        }
    }

    fn scan(&mut self, scan: ItemScan, facts: &mut Vec<Fact>) -> Feedback {
        let lines: Vec<usize> = [false, true]
            .into_iter()
            .filter_map(|insert| self.line_of(&scan.product_id, insert))
            .collect();
        if scan.merchant_id != self.order.merchant_id || lines.is_empty() {
            return Feedback::error(Message::NotInOrder { name: scan.name });
        }
        if scan.units < 1 {
            return Feedback::error(Message::BadQuantity);
        }
        let name = self.lines[lines[0]].line.name.clone();
        let left: i64 = lines.iter().map(|&i| self.lines[i].left()).sum();
        if scan.units > left {
            return Feedback::error(Message::MoreThanOrdered {
                name,
                asked: scan.units,
                left,
            });
        }
        let mut rest = scan.units;
        let mut insert_done = None;
        for i in lines {
            let n = rest.min(self.lines[i].left());
            if n == 0 {
                continue;
            }
            self.pack(i, n);
            facts.push(self.packed_fact(i, n));
            rest -= n;
            if self.lines[i].line.insert && self.lines[i].left() == 0 {
                let entry = Entry::Insert(self.lines[i].line.product_id.clone());
                facts.push(Fact::ChecklistConfirmed {
                    entry,
                    by: Confirmation::Scan,
                });
                insert_done = Some(self.lines[i].line.name.clone());
            }
        }
        let parcel = self.open.number;
        match insert_done {
            Some(name) => Feedback::ok(Message::InsertPacked {
                name,
                parcel,
                by: Confirmation::Scan,
            }),
            None => Feedback::ok(Message::Packed {
                name,
                quantity: scan.units,
                parcel,
                left: left - scan.units,
            }),
        }
    }

    fn tap(&mut self, entry: Entry, facts: &mut Vec<Fact>) -> Feedback {
        match &entry {
            Entry::Insert(product) => {
                let Some(i) = self.line_of(product, true) else {
                    return Feedback::error(Message::NotInChecklist { entry });
                };
                let left = self.lines[i].left();
                if left == 0 {
                    return Feedback::warning(Message::AlreadyConfirmed { entry });
                }
                self.pack(i, left);
                facts.push(self.packed_fact(i, left));
                facts.push(Fact::ChecklistConfirmed {
                    entry,
                    by: Confirmation::Tap,
                });
                Feedback::ok(Message::InsertPacked {
                    name: self.lines[i].line.name.clone(),
                    parcel: self.open.number,
                    by: Confirmation::Tap,
                })
            }
            Entry::Document(kind) => {
                let Some(d) = self.documents.iter_mut().find(|(k, _)| k == kind) else {
                    return Feedback::error(Message::NotInChecklist { entry });
                };
                if d.1 {
                    return Feedback::warning(Message::AlreadyConfirmed { entry });
                }
                d.1 = true;
                let kind = kind.clone();
                facts.push(Fact::ChecklistConfirmed {
                    entry,
                    by: Confirmation::Tap,
                });
                Feedback::ok(Message::DocumentConfirmed { kind })
            }
        }
    }

    /// The box suggested for the open parcel: `None` outside the plan (nothing to override),
    /// `Some(None)` when the plan ships it without a box.
    fn suggested(&self) -> Option<Option<String>> {
        self.planned().map(|p| p.box_id.clone())
    }

    fn choose_box(&mut self, code: String) -> Feedback {
        if !self.order.boxes.iter().any(|b| b.id == code) {
            return Feedback::error(Message::UnknownBoxType { code });
        }
        self.set_shell(Shell::Box(code))
    }

    fn without_box(&mut self) -> Feedback {
        self.set_shell(Shell::Without)
    }

    fn set_shell(&mut self, shell: Shell) -> Feedback {
        let parcel = self.open.number;
        let box_id = shell.box_id().map(str::to_string);
        if self.open.shell.as_ref() != Some(&shell) {
            self.open.weight = None;
        }
        self.open.shell = Some(shell);
        match self.suggested() {
            Some(suggested) if suggested != box_id => Feedback::warning(Message::OtherBox {
                parcel,
                box_id,
                suggested,
            }),
            _ => match box_id {
                Some(box_id) => Feedback::ok(Message::BoxChosen { parcel, box_id }),
                None => Feedback::ok(Message::ShipsWithoutBox { parcel }),
            },
        }
    }

    fn set_weight(&mut self, grams: i64, from: WeightFrom) -> Feedback {
        let parcel = self.open.number;
        if !(1..=MAX_WEIGHT_G).contains(&grams) {
            return Feedback::error(Message::BadWeight { grams });
        }
        if self.open.packed.is_empty() {
            return Feedback::error(Message::EmptyParcel { parcel });
        }
        if let (WeightFrom::Keypad, Some((scale_g, WeightFrom::Scale))) = (from, self.open.weight) {
            return Feedback::warning(Message::ScaleWins { parcel, scale_g });
        }
        let grams = grams as u64;
        self.open.weight = Some((grams, from));
        Feedback::ok(Message::WeightSet {
            parcel,
            grams,
            from,
        })
    }

    /// Why the open parcel cannot close now, if it cannot.
    fn refuse_close(&self) -> Option<Message> {
        let parcel = self.open.number;
        if self.open.packed.is_empty() {
            Some(Message::EmptyParcel { parcel })
        } else if self.open.shell.is_none() {
            Some(Message::BoxFirst {
                parcel,
                suggested: self.suggested().flatten(),
            })
        } else if self.weight().is_none() {
            Some(Message::WeighFirst { parcel })
        } else {
            None
        }
    }

    /// Closes the open parcel (see [`Packing::refuse_close`]) and opens the next.
    fn close(&mut self, facts: &mut Vec<Fact>) -> Message {
        let (weight_g, weight_from) = self.weight().expect("checked by refuse_close");
        let box_id = self
            .open
            .shell
            .as_ref()
            .and_then(Shell::box_id)
            .map(str::to_string);
        let suggested = self.suggested();
        let closed = ClosedParcel {
            parcel: self.open.number,
            box_overridden: suggested.as_ref().is_some_and(|s| *s != box_id),
            suggested_box: suggested.flatten(),
            box_id: box_id.clone(),
            weight_g,
            weight_from,
            contents: self.contents(),
        };
        facts.push(Fact::ParcelClosed {
            parcel: closed.parcel,
            box_id: closed.box_id.clone(),
            suggested_box: closed.suggested_box.clone(),
            box_overridden: closed.box_overridden,
            weight_g,
            weight_from,
            contents: closed.contents.clone(),
        });
        self.closed.push(closed);
        let parcel = self.open.number;
        self.open = Open::new(parcel + 1);
        Message::ParcelClosed {
            parcel,
            box_id,
            weight_g,
            from: weight_from,
        }
    }

    fn close_parcel(&mut self, facts: &mut Vec<Fact>) -> Feedback {
        if let Some(refusal) = self.refuse_close() {
            return Feedback::error(refusal);
        }
        let closed = self.close(facts);
        if self.units_left() == 0 && self.open_entry().is_none() {
            self.end(facts);
        }
        Feedback::ok(closed)
    }

    fn finish(&mut self, facts: &mut Vec<Fact>) -> Feedback {
        if let Some(i) = self.next_line() {
            return Feedback::error(Message::NotAllPacked {
                units_left: self.units_left(),
                name: self.lines[i].line.name.clone(),
            });
        }
        if let Some(entry) = self.open_entry() {
            return Feedback::error(Message::ChecklistOpen { entry });
        }
        if !self.open.packed.is_empty() {
            if let Some(refusal) = self.refuse_close() {
                return Feedback::error(refusal);
            }
            self.close(facts);
        }
        self.end(facts);
        Feedback::ok(Message::OrderPacked {
            parcels: self.closed.len() as u32,
        })
    }

    fn end(&mut self, facts: &mut Vec<Fact>) {
        facts.push(Fact::Finished {
            parcels: self.closed.len() as u32,
        });
        self.done = true;
    }

    fn cancel(&mut self, facts: &mut Vec<Fact>) -> Feedback {
        let parcel = self.open.number;
        let Some(k) = self.open.packed.len().checked_sub(1) else {
            return Feedback::warning(Message::NothingToUnpack { parcel });
        };
        let i = self.take_out(k);
        let line = &self.lines[i].line;
        facts.push(Fact::ItemUnpacked {
            parcel,
            product_id: line.product_id.clone(),
            quantity: 1,
            insert: line.insert,
        });
        Feedback::warning(Message::Unpacked {
            name: line.name.clone(),
            parcel,
        })
    }
}

impl Flow for Packing {
    type Input = Input;
    type Fact = Fact;
    type Message = Message;

    fn step(&self, input: Input, today: Date) -> Step {
        Packing::step(self, input, today)
    }

    fn is_finished(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests;

//! Picking: goods from their locations into the order totes on a cart, as a state machine.
//!
//! One job = one pick task: a single order, or a cluster of orders picked on one cart, each order
//! into its own tote at its slot (orders are never mixed in a tote). Lines are worked in walking
//! order (by `walk_order`, then as given); lines already picked when a task is resumed are done.
//!
//! Transitions:
//! - `Location`: the current line's location confirms -> `Item` for its goods. Another location
//!   -> error naming the expected one.
//! - `Item`: an item of the line's merchant and product counts its units into the hand (repeated
//!   scans add up; once a scan identified the goods, the keypad sets the hand). The hand reaching
//!   what is left of the line -> `Tote`. A tote scan with less in hand confirms that part (as in
//!   `Tote`) and the line stays current in `Item`. Another lot than the suggested one is taken
//!   only when it is not expired and has the merchant's minimum shelf life left; one hand holds
//!   one lot. Wrong product, more than the line wants or a refused lot -> error.
//! - `Tote`: the tote of the line's order. The first pick of an order binds the scanned tote
//!   (fact `ToteBound`) unless it holds another order of this job; later picks of the order go
//!   only into its tote. The right tote -> fact `Picked`; the line done -> `ZeroCheck` when it
//!   was the last line still to pick at its location, none of its lines came up short and the
//!   caller's stock view expects the location empty after all of them, else the next line
//!   (`Location`, or `Item` when it is at the location just confirmed), or `Drop` after the last
//!   line.
//! - `ZeroCheck`: "is the location empty now?" -> fact `ZeroChecked` -> the next line or `Drop`.
//! - `Short` (at the location, `Item`): nothing in hand -> fact `Short` at once; units in hand ->
//!   `Tote` for them, and the tote scan records `Picked` then `Short`. The line is finished for
//!   this job either way (no zero check after a short: the server counts a short location).
//! - `Skip` (`Location`, or `Item` with nothing in hand): the line goes to the end of the queue
//!   and must still be picked; the only line left stays current.
//! - `Drop`: a packing location -> facts `Dropped`, `Finished` -> `Done`; any other location ->
//!   error. A job that never bound a tote (every line short) has nothing to drop: `Finished`
//!   comes with its last `Short`.
//! - `Cancel` drops the hand (nothing is recorded for it; `Tote` -> `Item`). `Unknown` -> error.
//!   `Done` takes nothing more.
//!
//! Locations come in as [`Place`]s: the caller says whether a location is a packing location;
//! only `Drop` reads that. A tote binding is its own fact, recorded in the same step as the pick
//! that made it. Errors record nothing and change nothing; [`Picking::prompt`] still says what to
//! do. This module does no I/O and reads no clock: `today` is a parameter.

use std::collections::BTreeMap;

use crate::calendar::Date;
pub use crate::flow::Tone;
use crate::flow::{self, Flow};
/// The scan of an item, the same as putaway's: already matched to a product by the caller.
pub use crate::putaway::ItemScan;
use crate::putaway::MAX_KEYPAD_QUANTITY;

/// The minimum shelf life (days left until expiry) each merchant requires of the goods it ships,
/// by merchant id. A merchant not listed requires only that the goods are not expired.
pub type ShelfLife = BTreeMap<String, u32>;

/// Goods as a pick line names them; `lot` and `expiry` are the suggested lot's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Goods {
    pub merchant_id: String,
    pub product_id: String,
    pub name: String,
    pub lot: Option<String>,
    pub expiry: Option<Date>,
}

/// An order of the task and its place on the cart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickOrder {
    pub order_id: String,
    /// What the operator sees, e.g. "#1003".
    pub reference: String,
    /// Its position on the cart, from 1.
    pub slot: u32,
    /// The tote bound to it (given when resuming; set by the first pick).
    pub tote: Option<String>,
}

/// One line of the task: some goods of one order from one location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickLine {
    pub line_id: String,
    pub order_id: String,
    pub goods: Goods,
    pub location: String,
    pub walk_order: u32,
    pub quantity: i64,
    /// Units already picked (when resuming).
    pub picked: i64,
    /// Units the caller's stock view says stay at the location (of anything) once this line is
    /// picked; `Some(0)` makes the flow ask for a zero check when the line is done.
    pub expected_left: Option<i64>,
}

impl PickLine {
    /// Units still to pick.
    pub fn left(&self) -> i64 {
        self.quantity - self.picked
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineStatus {
    Open,
    /// Moved to the end of the queue; it must still be picked.
    Skipped,
    Picked,
    /// Finished short for this job: the server re-reserves the rest or holds the order.
    Short,
}

/// A line and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineState {
    pub line: PickLine,
    pub status: LineStatus,
}

/// A scanned location, as the caller found it in master data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub code: String,
    /// True for a packing location: only there may the totes be dropped.
    pub is_packing: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A location label.
    Location(Place),
    Item(ItemScan),
    /// A tote label.
    Tote(String),
    /// Keypad: this many units are in hand.
    Quantity(i64),
    /// The location holds less than the line asks for.
    Short,
    /// Move the current line to the end of the queue.
    Skip,
    /// The answer to "is the location empty now?": true = empty.
    ZeroCheck(bool),
    /// A code the device does not know.
    Unknown(String),
    /// Drop what is in hand; nothing is recorded for it.
    Cancel,
}

/// What the terminal must record durably, in order, in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// The first pick of an order went into `tote`: it holds that order's goods until packing.
    /// Always recorded just before that pick's `Picked`.
    ToteBound { order_id: String, tote: String },
    /// Units of a line went from its location into its order's tote.
    Picked {
        line_id: String,
        order_id: String,
        /// The goods actually picked: their lot and expiry are the picked lot's.
        goods: Goods,
        suggested_lot: Option<String>,
        quantity: i64,
        location: String,
        tote: String,
        /// True when the picked lot is not the suggested one.
        other_lot: bool,
        /// Serial numbers scanned into the hand, if the labels carried them.
        serials: Vec<String>,
    },
    /// The line is finished short: `picked_total` of it was picked in all, `missing` was not
    /// found. The location needs a count. `goods` are the line's (the suggested lot).
    Short {
        line_id: String,
        order_id: String,
        goods: Goods,
        location: String,
        picked_total: i64,
        missing: i64,
    },
    /// The operator answered the zero check after the line emptied the location in the stock
    /// view. `empty: false` means the stock view is wrong there: the location needs a count.
    ZeroChecked {
        line_id: String,
        location: String,
        empty: bool,
    },
    /// The totes were left at the packing location: `(order_id, tote)` for each bound tote.
    Dropped {
        location: String,
        totes: Vec<(String, String)>,
    },
    /// The task is over.
    Finished,
}

/// What to tell the operator; the terminal renders it in the operator's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Go to `location` for `quantity` of `name`.
    GoTo {
        location: String,
        name: String,
        quantity: i64,
    },
    /// Pick `quantity` of `name` (of `lot`); `in_hand` of them are in hand.
    Pick {
        location: String,
        name: String,
        quantity: i64,
        lot: Option<String>,
        in_hand: i64,
    },
    /// Put `quantity` of `name` into the order's tote.
    PutInTote {
        name: String,
        quantity: i64,
        order: String,
        slot: u32,
        tote: String,
    },
    /// The order has no tote yet: scan an empty one for it.
    ScanEmptyTote {
        name: String,
        quantity: i64,
        order: String,
        slot: u32,
    },
    /// Is `location` empty now?
    ZeroCheck {
        location: String,
    },
    /// Every line is picked or short: take the totes to packing and scan the drop location.
    DropAtPacking {
        totes: usize,
    },
    TaskDone,
    /// Another lot than the suggested one was accepted; it is recorded as picked.
    OtherLot {
        name: String,
        lot: String,
        suggested: Option<String>,
    },
    Picked {
        name: String,
        quantity: i64,
        order: String,
        slot: u32,
        tote: String,
        /// Units of the line still to pick.
        left: i64,
    },
    ShortRecorded {
        name: String,
        location: String,
        missing: i64,
    },
    /// The zero check was recorded; not empty = a count is requested.
    ZeroChecked {
        location: String,
        empty: bool,
    },
    Skipped {
        name: String,
        location: String,
    },
    /// Skip refused: it is the only line left.
    OnlyLineLeft {
        name: String,
    },
    Dropped {
        location: String,
        totes: usize,
    },
    /// The hand was emptied; nothing was recorded for the `dropped` units.
    Cancelled {
        dropped: i64,
    },
    WrongLocation {
        scanned: String,
        expected: String,
    },
    WrongItem {
        scanned: String,
        expected: String,
    },
    /// `asked` units would be more than the `left` the line wants.
    MoreThanLeft {
        name: String,
        asked: i64,
        left: i64,
    },
    LotExpired {
        lot: String,
        expiry: Date,
    },
    ShelfLifeTooShort {
        lot: String,
        expiry: Date,
        days_left: i64,
        min_days: u32,
    },
    /// Another lot without an expiry on its label, of goods that have one: it cannot be checked.
    LotExpiryUnknown {
        lot: String,
    },
    /// One hand holds one lot: put what is in hand into the tote first.
    OneLotAtATime {
        in_hand: Option<String>,
        scanned: Option<String>,
    },
    SerialTwice {
        serial: String,
    },
    /// Serial numbers were scanned into the hand: count by scanning each unit.
    ScanEachSerial {
        name: String,
    },
    /// The keypad counts the goods a scan identified: scan one first.
    ScanItemFirst {
        name: String,
    },
    /// A tote scanned with nothing in hand.
    NothingInHand,
    /// "Tote X holds order Y's goods."
    ToteHoldsOtherOrder {
        tote: String,
        order: String,
    },
    /// The order already has its tote: `tote`, not `scanned`.
    WrongTote {
        scanned: String,
        order: String,
        tote: String,
    },
    /// Skip refused: put what you hold into the tote first.
    PutInToteFirst {
        in_hand: i64,
    },
    NotPacking {
        code: String,
    },
    BadQuantity,
    UnknownCode {
        raw: String,
    },
    /// The task is over: it takes no more input.
    TaskFinished,
}

pub type Feedback = flow::Feedback<Message>;
pub type Step = flow::Step<Picking, Fact, Message>;

/// What the picking waits for; the terminal reads scans and prompts by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Location,
    /// Items of the current line (or its tote, for a part in hand).
    Item,
    Tote,
    ZeroCheck,
    /// A packing location to drop the totes at.
    Drop,
    Nothing,
}

/// What the operator holds of the current line and has not put into a tote yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Hand {
    quantity: i64,
    lot: Option<String>,
    expiry: Option<Date>,
    serials: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Awaiting {
    Location,
    Item,
    /// The hand goes into the tote; `short`: the line is finished short after it.
    Tote {
        short: bool,
    },
    /// The zero check of the line at this index, which is done.
    ZeroCheck(usize),
    Drop,
    Done,
}

/// One pick task on the handheld.
///
/// While it waits for a location, an item or a tote, `queue` is not empty and its first line is
/// the current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picking {
    task_id: String,
    shelf_life: ShelfLife,
    orders: Vec<PickOrder>,
    lines: Vec<LineState>,
    /// Indexes into `lines` of the lines still to work, in the order they are worked.
    queue: Vec<usize>,
    hand: Hand,
    /// The location confirmed last: the operator stands there.
    here: Option<String>,
    awaiting: Awaiting,
}

impl Picking {
    /// Starts (or resumes) the task. Lines are sorted by walking order (stably); a line with
    /// nothing left to pick is done. Quantities are taken as at least 0 and `picked` as at most
    /// `quantity`. A line whose order is not among `orders` gets an order of its own on the next
    /// free slot (its reference is its id).
    ///
    /// Resuming: pass what the recorded facts say, i.e. `picked` per line and the totes bound
    /// per order. A line finished short must come with `quantity` equal to its `picked` (or be
    /// left out), else it is asked for again. Nothing in hand survives a restart: units not yet
    /// put into a tote are scanned again.
    pub fn new(
        task_id: String,
        shelf_life: ShelfLife,
        mut orders: Vec<PickOrder>,
        mut lines: Vec<PickLine>,
    ) -> Picking {
        lines.sort_by_key(|l| l.walk_order);
        for line in &mut lines {
            line.quantity = line.quantity.max(0);
            line.picked = line.picked.clamp(0, line.quantity);
            if !orders.iter().any(|o| o.order_id == line.order_id) {
                let slot = orders.iter().map(|o| o.slot).max().unwrap_or(0) + 1;
                orders.push(PickOrder {
                    order_id: line.order_id.clone(),
                    reference: line.order_id.clone(),
                    slot,
                    tote: None,
                });
            }
        }
        let lines: Vec<LineState> = lines
            .into_iter()
            .map(|line| LineState {
                status: if line.left() > 0 {
                    LineStatus::Open
                } else {
                    LineStatus::Picked
                },
                line,
            })
            .collect();
        let queue: Vec<usize> = (0..lines.len())
            .filter(|&i| lines[i].status == LineStatus::Open)
            .collect();
        let awaiting = if !queue.is_empty() {
            Awaiting::Location
        } else if orders.iter().any(|o| o.tote.is_some()) {
            Awaiting::Drop
        } else {
            Awaiting::Done
        };
        Picking {
            task_id,
            shelf_life,
            orders,
            lines,
            queue,
            hand: Hand::default(),
            here: None,
            awaiting,
        }
    }

    pub fn task_id(&self) -> &str {
        &self.task_id
    }

    /// The orders on the cart, with their bound totes.
    pub fn orders(&self) -> &[PickOrder] {
        &self.orders
    }

    /// Every line in walking order, with what was picked of it and where it stands.
    pub fn lines(&self) -> &[LineState] {
        &self.lines
    }

    /// Lines picked or short.
    pub fn lines_done(&self) -> usize {
        self.lines.len() - self.queue.len()
    }

    /// Lines still to pick (skipped ones included).
    pub fn lines_left(&self) -> usize {
        self.queue.len()
    }

    /// The line worked on now (in a zero check: the line just picked).
    pub fn current(&self) -> Option<&PickLine> {
        match self.awaiting {
            Awaiting::Location | Awaiting::Item | Awaiting::Tote { .. } => {
                Some(&self.lines[self.front()].line)
            }
            Awaiting::ZeroCheck(i) => Some(&self.lines[i].line),
            Awaiting::Drop | Awaiting::Done => None,
        }
    }

    /// Units of the current line in hand, not yet in a tote.
    pub fn in_hand(&self) -> i64 {
        self.hand.quantity
    }

    pub fn expects(&self) -> Expect {
        match self.awaiting {
            Awaiting::Location => Expect::Location,
            Awaiting::Item => Expect::Item,
            Awaiting::Tote { .. } => Expect::Tote,
            Awaiting::ZeroCheck(_) => Expect::ZeroCheck,
            Awaiting::Drop => Expect::Drop,
            Awaiting::Done => Expect::Nothing,
        }
    }

    /// The prompt for where the flow stands now (also after an error in between).
    pub fn prompt(&self) -> Message {
        match self.awaiting {
            Awaiting::Location => {
                let line = &self.lines[self.front()].line;
                Message::GoTo {
                    location: line.location.clone(),
                    name: line.goods.name.clone(),
                    quantity: line.left(),
                }
            }
            Awaiting::Item => {
                let line = &self.lines[self.front()].line;
                Message::Pick {
                    location: line.location.clone(),
                    name: line.goods.name.clone(),
                    quantity: line.left(),
                    lot: if self.hand.quantity > 0 {
                        self.hand.lot.clone()
                    } else {
                        line.goods.lot.clone()
                    },
                    in_hand: self.hand.quantity,
                }
            }
            Awaiting::Tote { .. } => {
                let line = &self.lines[self.front()].line;
                let order = &self.orders[self.order_of(line)];
                let (name, quantity) = (line.goods.name.clone(), self.hand.quantity);
                let (order_ref, slot) = (order.reference.clone(), order.slot);
                match &order.tote {
                    Some(tote) => Message::PutInTote {
                        name,
                        quantity,
                        order: order_ref,
                        slot,
                        tote: tote.clone(),
                    },
                    None => Message::ScanEmptyTote {
                        name,
                        quantity,
                        order: order_ref,
                        slot,
                    },
                }
            }
            Awaiting::ZeroCheck(i) => Message::ZeroCheck {
                location: self.lines[i].line.location.clone(),
            },
            Awaiting::Drop => Message::DropAtPacking {
                totes: self.orders.iter().filter(|o| o.tote.is_some()).count(),
            },
            Awaiting::Done => Message::TaskDone,
        }
    }

    /// Applies one input. Never mutates `self`.
    pub fn step(&self, input: Input, today: Date) -> Step {
        let mut next = self.clone();
        let mut facts = Vec::new();
        let feedback = next.apply(input, today, &mut facts);
        // The step that ends the job says so (its message is what it did).
        let feedback = match next.awaiting {
            Awaiting::Done if feedback.tone != Tone::Error => Feedback::done(feedback.message),
            _ => feedback,
        };
        Step {
            next,
            facts,
            feedback,
        }
    }

    fn apply(&mut self, input: Input, today: Date, facts: &mut Vec<Fact>) -> Feedback {
        match (self.awaiting, input) {
            (Awaiting::Done, _) => Feedback::error(Message::TaskFinished),
            (_, Input::Unknown(raw)) => Feedback::error(Message::UnknownCode { raw }),
            (_, Input::Cancel) => self.cancel(),
            (Awaiting::Location | Awaiting::Item, Input::Location(place)) => self.arrive(place),
            (Awaiting::Location | Awaiting::Item, Input::Skip) => self.skip(),
            (Awaiting::Item | Awaiting::Tote { short: false }, Input::Item(scan)) => {
                self.count(scan, today)
            }
            (Awaiting::Item | Awaiting::Tote { short: false }, Input::Quantity(n)) => {
                self.set_hand(n)
            }
            (Awaiting::Item | Awaiting::Tote { .. }, Input::Tote(tote)) => self.put(tote, facts),
            (Awaiting::Item, Input::Short) => self.short(facts),
            (Awaiting::Tote { .. }, Input::Skip) => Feedback::error(Message::PutInToteFirst {
                in_hand: self.hand.quantity,
            }),
            (Awaiting::ZeroCheck(i), Input::ZeroCheck(empty)) => self.zero_check(i, empty, facts),
            (Awaiting::Drop, Input::Location(place)) => self.drop_at(place, facts),
            // Anything else is out of place: the answer is what to do now.
            _ => Feedback::error(self.prompt()),
        }
    }

    /// The index of the current line (see the invariant on [`Picking`]).
    fn front(&self) -> usize {
        self.queue[0]
    }

    /// The index of a line's order (there is one for every line: see [`Picking::new`]).
    fn order_of(&self, line: &PickLine) -> usize {
        self.orders
            .iter()
            .position(|o| o.order_id == line.order_id)
            .expect("every line's order is on the cart")
    }

    /// `Item`, or `Tote` once the hand holds all that is left of the current line.
    fn picking_state(&self) -> Awaiting {
        if self.hand.quantity >= self.lines[self.front()].line.left() {
            Awaiting::Tote { short: false }
        } else {
            Awaiting::Item
        }
    }

    fn arrive(&mut self, place: Place) -> Feedback {
        let expected = &self.lines[self.front()].line.location;
        if place.code != *expected {
            return Feedback::error(Message::WrongLocation {
                scanned: place.code,
                expected: expected.clone(),
            });
        }
        self.here = Some(place.code);
        self.awaiting = Awaiting::Item;
        Feedback::ok(self.prompt())
    }

    fn count(&mut self, scan: ItemScan, today: Date) -> Feedback {
        let line = &self.lines[self.front()].line;
        let goods = &line.goods;
        if scan.merchant_id != goods.merchant_id || scan.product_id != goods.product_id {
            return Feedback::error(Message::WrongItem {
                scanned: scan.name,
                expected: goods.name.clone(),
            });
        }
        if scan.units < 1 {
            return Feedback::error(Message::BadQuantity);
        }
        let first = self.hand.quantity == 0;
        // A label without a lot is of the lot in hand, or of the suggested one.
        let lot = match (&scan.lot, first) {
            (Some(lot), _) => Some(lot.clone()),
            (None, true) => goods.lot.clone(),
            (None, false) => self.hand.lot.clone(),
        };
        if !first && lot != self.hand.lot {
            return Feedback::error(Message::OneLotAtATime {
                in_hand: self.hand.lot.clone(),
                scanned: lot,
            });
        }
        let other_lot = lot.clone().filter(|l| goods.lot.as_ref() != Some(l));
        if first
            && let Some(other) = &other_lot
            && let Some(refusal) = self.refuse_lot(goods, other, scan.expiry, today)
        {
            return Feedback::error(refusal);
        }
        let total = self.hand.quantity.saturating_add(scan.units);
        if total > line.left() {
            return Feedback::error(Message::MoreThanLeft {
                name: goods.name.clone(),
                asked: total,
                left: line.left(),
            });
        }
        if let Some(serial) = &scan.serial
            && self.hand.serials.contains(serial)
        {
            return Feedback::error(Message::SerialTwice {
                serial: serial.clone(),
            });
        }
        let (name, suggested) = (goods.name.clone(), goods.lot.clone());
        if first {
            self.hand.expiry = if other_lot.is_some() {
                scan.expiry
            } else {
                goods.expiry
            };
            self.hand.lot = lot;
        }
        self.hand.quantity = total;
        self.hand.serials.extend(scan.serial);
        self.awaiting = self.picking_state();
        match other_lot {
            Some(lot) if first => Feedback::warning(Message::OtherLot {
                name,
                lot,
                suggested,
            }),
            _ => Feedback::ok(self.prompt()),
        }
    }

    /// Why another lot than the suggested one may not be picked, if it may not.
    fn refuse_lot(
        &self,
        goods: &Goods,
        lot: &str,
        expiry: Option<Date>,
        today: Date,
    ) -> Option<Message> {
        let lot = lot.to_string();
        let Some(expiry) = expiry else {
            return goods
                .expiry
                .is_some()
                .then_some(Message::LotExpiryUnknown { lot });
        };
        let min_days = self
            .shelf_life
            .get(&goods.merchant_id)
            .copied()
            .unwrap_or(0);
        let days_left = today.days_until(expiry);
        if expiry < today {
            Some(Message::LotExpired { lot, expiry })
        } else if days_left < i64::from(min_days) {
            Some(Message::ShelfLifeTooShort {
                lot,
                expiry,
                days_left,
                min_days,
            })
        } else {
            None
        }
    }

    fn set_hand(&mut self, n: i64) -> Feedback {
        let line = &self.lines[self.front()].line;
        let name = line.goods.name.clone();
        if !(1..=MAX_KEYPAD_QUANTITY).contains(&n) {
            return Feedback::error(Message::BadQuantity);
        }
        if self.hand.quantity == 0 {
            return Feedback::error(Message::ScanItemFirst { name });
        }
        if !self.hand.serials.is_empty() {
            return Feedback::error(Message::ScanEachSerial { name });
        }
        if n > line.left() {
            return Feedback::error(Message::MoreThanLeft {
                name,
                asked: n,
                left: line.left(),
            });
        }
        self.hand.quantity = n;
        self.awaiting = self.picking_state();
        Feedback::ok(self.prompt())
    }

    /// The hand goes into the tote of the current line's order.
    fn put(&mut self, tote: String, facts: &mut Vec<Fact>) -> Feedback {
        if self.hand.quantity == 0 {
            return Feedback::error(Message::NothingInHand);
        }
        let i = self.front();
        let o = self.order_of(&self.lines[i].line);
        let order_id = self.orders[o].order_id.clone();
        if let Some(holder) = self
            .orders
            .iter()
            .find(|other| other.order_id != order_id && other.tote.as_ref() == Some(&tote))
        {
            return Feedback::error(Message::ToteHoldsOtherOrder {
                tote,
                order: holder.reference.clone(),
            });
        }
        match &self.orders[o].tote {
            Some(bound) if *bound != tote => {
                return Feedback::error(Message::WrongTote {
                    scanned: tote,
                    order: self.orders[o].reference.clone(),
                    tote: bound.clone(),
                });
            }
            Some(_) => {}
            None => {
                facts.push(Fact::ToteBound {
                    order_id: order_id.clone(),
                    tote: tote.clone(),
                });
                self.orders[o].tote = Some(tote.clone());
            }
        }
        let hand = std::mem::take(&mut self.hand);
        let short = self.awaiting == Awaiting::Tote { short: true };
        let line = &mut self.lines[i].line;
        line.picked += hand.quantity;
        let goods = line.goods.clone();
        facts.push(Fact::Picked {
            line_id: line.line_id.clone(),
            order_id,
            suggested_lot: goods.lot.clone(),
            other_lot: hand.lot != goods.lot,
            goods: Goods {
                lot: hand.lot,
                expiry: hand.expiry,
                ..goods.clone()
            },
            quantity: hand.quantity,
            location: line.location.clone(),
            tote: tote.clone(),
            serials: hand.serials,
        });
        let left = line.left();
        // What stays at the place once every line of it is picked: the least any of its lines
        // expects (each line's figure counts the lines before it in walking order, which a
        // skip may reorder).
        let here = line.location.clone();
        let place_left = self
            .lines
            .iter()
            .filter(|l| l.line.location == here)
            .filter_map(|l| l.line.expected_left)
            .min();
        // A place found short is counted anyway: no need to ask.
        let found_short = self
            .lines
            .iter()
            .any(|l| l.line.location == here && l.status == LineStatus::Short);
        let zero_check = place_left == Some(0) && !found_short;
        let order = &self.orders[o];
        let picked = Message::Picked {
            name: goods.name,
            quantity: hand.quantity,
            order: order.reference.clone(),
            slot: order.slot,
            tote,
            left,
        };
        if short {
            return self.finish_short(facts);
        }
        if left > 0 {
            self.awaiting = Awaiting::Item;
        } else {
            self.lines[i].status = LineStatus::Picked;
            self.queue.remove(0);
            // A line still to pick at the same place (one skipped, or another order's) takes
            // from it too: the place is not expected empty before the last of them.
            let more_here = self
                .queue
                .iter()
                .any(|&j| self.lines[j].line.location == self.lines[i].line.location);
            if zero_check && !more_here {
                self.awaiting = Awaiting::ZeroCheck(i);
            } else {
                self.go_on(facts);
            }
        }
        Feedback::ok(picked)
    }

    fn short(&mut self, facts: &mut Vec<Fact>) -> Feedback {
        if self.hand.quantity > 0 {
            // What was found goes into the tote first; the short is recorded with it.
            self.awaiting = Awaiting::Tote { short: true };
            return Feedback::warning(self.prompt());
        }
        self.finish_short(facts)
    }

    /// Records the current line as short and goes on.
    fn finish_short(&mut self, facts: &mut Vec<Fact>) -> Feedback {
        let i = self.queue.remove(0);
        let state = &mut self.lines[i];
        state.status = LineStatus::Short;
        let line = &state.line;
        facts.push(Fact::Short {
            line_id: line.line_id.clone(),
            order_id: line.order_id.clone(),
            goods: line.goods.clone(),
            location: line.location.clone(),
            picked_total: line.picked,
            missing: line.left(),
        });
        let message = Message::ShortRecorded {
            name: line.goods.name.clone(),
            location: line.location.clone(),
            missing: line.left(),
        };
        self.go_on(facts);
        Feedback::warning(message)
    }

    fn skip(&mut self) -> Feedback {
        if self.hand.quantity > 0 {
            return Feedback::error(Message::PutInToteFirst {
                in_hand: self.hand.quantity,
            });
        }
        let line = &self.lines[self.front()].line;
        let name = line.goods.name.clone();
        if self.queue.len() == 1 {
            return Feedback::warning(Message::OnlyLineLeft { name });
        }
        let location = line.location.clone();
        let i = self.queue.remove(0);
        self.queue.push(i);
        self.lines[i].status = LineStatus::Skipped;
        self.go_on(&mut Vec::new());
        Feedback::ok(Message::Skipped { name, location })
    }

    fn zero_check(&mut self, i: usize, empty: bool, facts: &mut Vec<Fact>) -> Feedback {
        let location = self.lines[i].line.location.clone();
        facts.push(Fact::ZeroChecked {
            line_id: self.lines[i].line.line_id.clone(),
            location: location.clone(),
            empty,
        });
        self.go_on(facts);
        let message = Message::ZeroChecked { location, empty };
        if empty {
            Feedback::ok(message)
        } else {
            Feedback::warning(message)
        }
    }

    fn drop_at(&mut self, place: Place, facts: &mut Vec<Fact>) -> Feedback {
        if !place.is_packing {
            return Feedback::error(Message::NotPacking { code: place.code });
        }
        let totes: Vec<(String, String)> = self
            .orders
            .iter()
            .filter_map(|o| Some((o.order_id.clone(), o.tote.clone()?)))
            .collect();
        let count = totes.len();
        facts.push(Fact::Dropped {
            location: place.code.clone(),
            totes,
        });
        facts.push(Fact::Finished);
        self.awaiting = Awaiting::Done;
        Feedback::ok(Message::Dropped {
            location: place.code,
            totes: count,
        })
    }

    fn cancel(&mut self) -> Feedback {
        let dropped = std::mem::take(&mut self.hand).quantity;
        if let Awaiting::Tote { .. } = self.awaiting {
            self.awaiting = Awaiting::Item;
        }
        Feedback::warning(Message::Cancelled { dropped })
    }

    /// After the current line left the queue (or moved in it): the next line, at once at its
    /// goods when it is where the operator stands; the drop after the last line; or the end
    /// when no tote was bound.
    fn go_on(&mut self, facts: &mut Vec<Fact>) {
        self.awaiting = match self.queue.first() {
            Some(&next) if self.here.as_ref() == Some(&self.lines[next].line.location) => {
                Awaiting::Item
            }
            Some(_) => Awaiting::Location,
            None if self.orders.iter().any(|o| o.tote.is_some()) => Awaiting::Drop,
            None => {
                facts.push(Fact::Finished);
                Awaiting::Done
            }
        };
    }
}

impl Flow for Picking {
    type Input = Input;
    type Fact = Fact;
    type Message = Message;

    fn step(&self, input: Input, today: Date) -> Step {
        Picking::step(self, input, today)
    }

    fn is_finished(&self) -> bool {
        self.awaiting == Awaiting::Done
    }
}

#[cfg(test)]
mod tests;

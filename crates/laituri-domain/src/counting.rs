//! Counting: a blind count of one location, as a state machine, and the rule that says whether
//! a count's variance is booked at once or waits for a lead.
//!
//! Transitions (one job = one location):
//! - `Location`: a countable location's label -> `Items` (a task's count starts here at its
//!   location). A dock, packing or transit location is refused.
//! - `Items`: an item adds the units its scan stands for (a case code its pack) to its line:
//!   one line per product, lot and expiry; a product that tracks lots or expiry needs its GS1
//!   label (a plain code is refused and adds nothing). The keypad sets the last line's count.
//!   Cancel takes one unit off the last line (a line at 0 goes); with nothing counted it drops the
//!   location (nothing recorded) -> `Location`. "Location empty" with nothing counted -> fact
//!   `Counted` with no lines -> `Done`. Finish -> fact `Counted` with the lines -> `Done`. Another
//!   location's label is refused while a count is open (finish or cancel it first).
//! - `Done`: takes nothing more.
//!
//! The count is blind: nothing here knows what the location should hold. What the device's
//! stock view holds is joined to the lines by the caller when it records the count (for the
//! record), and the server books the variance against its own level.
//!
//! [`verdict`] is the approval rule (as D365's cycle counting): a lead's count is booked; a
//! variance within both of the counter's limits (units and percent of the stock expected) is
//! booked; beyond either, or with no limit set, it waits for a lead. Pure, no clock.

use crate::calendar::Date;
pub use crate::flow::Tone;
use crate::flow::{self, Flow};

/// Goods as one line of a count: everything that tells one stock row from another.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Goods {
    pub merchant_id: String,
    pub product_id: String,
    pub name: String,
    pub lot: Option<String>,
    pub expiry: Option<Date>,
}

/// What was counted of some goods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub goods: Goods,
    pub counted: i64,
}

/// A scanned location, as the caller found it in master data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub code: String,
    /// False for docks, packing and transit: stock is counted in bins and quarantine.
    pub countable: bool,
}

/// An item scanned while counting, already matched to a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemScan {
    pub merchant_id: String,
    pub product_id: String,
    pub name: String,
    /// Units the scan stands for (a case code counts its pack).
    pub units: i64,
    /// From a GS1 label, when it carried them.
    pub lot: Option<String>,
    pub expiry: Option<Date>,
    pub tracks_lot: bool,
    pub tracks_expiry: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Location(Place),
    Item(ItemScan),
    /// Keypad: the last line holds this many units.
    Quantity(i64),
    /// The operator says the location holds nothing.
    Empty,
    Finish,
    /// A code that is neither a location nor a product known to the device.
    Unknown(String),
    Cancel,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// The count of `location` is finished: `lines` is everything found there (none: empty).
    Counted { location: String, lines: Vec<Line> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    ScanLocation,
    /// A task's count: go to its bin and scan the label.
    GoTo {
        location: String,
    },
    /// Scan every item at the location, then finish.
    ScanItems {
        location: String,
        lines: usize,
        units: i64,
    },
    Added {
        name: String,
        counted: i64,
    },
    QuantitySet {
        name: String,
        counted: i64,
    },
    /// Cancel took a unit off the last line.
    UnitCancelled {
        name: String,
        counted: i64,
    },
    /// Cancel with nothing counted: the location is dropped, nothing recorded.
    CountCancelled {
        location: String,
    },
    Recorded {
        location: String,
        lines: usize,
        units: i64,
    },
    RecordedEmpty {
        location: String,
    },
    NotCountable {
        code: String,
    },
    FinishFirst {
        counting: String,
    },
    ScanLocationFirst,
    NeedsLot {
        name: String,
    },
    NeedsExpiry {
        name: String,
    },
    /// The keypad needs a line: scan an item first.
    ScanItemFirst,
    BadQuantity,
    /// Finish with nothing counted: scan items or say the location is empty.
    NothingCounted,
    /// "Empty" with items counted: cancel them first.
    NotEmpty {
        units: i64,
    },
    UnknownCode {
        raw: String,
    },
    Finished,
}

pub type Feedback = flow::Feedback<Message>;
pub type Step = flow::Step<Count, Fact, Message>;

/// What the count waits for; the terminal reads scans and prompts by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    Location,
    Items,
    Nothing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Awaiting {
    Location,
    Items { location: String },
    Done,
}

/// One location being counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    /// The location a task asks to count; any location for a spot count.
    assigned: Option<String>,
    lines: Vec<Line>,
    /// The line the keypad and Cancel act on.
    last: Option<usize>,
    awaiting: Awaiting,
}

/// Largest quantity one keypad entry may say: a typo guard.
pub const MAX_KEYPAD_QUANTITY: i64 = 99_999;

impl Count {
    /// A spot count: any countable location.
    pub fn spot() -> Count {
        Count {
            assigned: None,
            lines: Vec::new(),
            last: None,
            awaiting: Awaiting::Location,
        }
    }

    /// A task's count of `location`: its label must be scanned first, like any other.
    pub fn of(location: String) -> Count {
        Count {
            assigned: Some(location),
            ..Count::spot()
        }
    }

    pub fn expects(&self) -> Expect {
        match self.awaiting {
            Awaiting::Location => Expect::Location,
            Awaiting::Items { .. } => Expect::Items,
            Awaiting::Done => Expect::Nothing,
        }
    }

    /// The location being counted, once its label was scanned.
    pub fn location(&self) -> Option<&str> {
        match &self.awaiting {
            Awaiting::Items { location } => Some(location),
            _ => None,
        }
    }

    /// The location a task asks to count.
    pub fn assigned(&self) -> Option<&str> {
        self.assigned.as_deref()
    }

    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    pub fn units(&self) -> i64 {
        self.lines.iter().map(|l| l.counted).sum()
    }

    pub fn prompt(&self) -> Message {
        match &self.awaiting {
            Awaiting::Location => match &self.assigned {
                Some(location) => Message::GoTo {
                    location: location.clone(),
                },
                None => Message::ScanLocation,
            },
            Awaiting::Items { location } => Message::ScanItems {
                location: location.clone(),
                lines: self.lines.len(),
                units: self.units(),
            },
            Awaiting::Done => Message::Finished,
        }
    }

    fn stay(&self, feedback: Feedback) -> Step {
        Step {
            next: self.clone(),
            facts: Vec::new(),
            feedback,
        }
    }

    fn location_scanned(&self, place: Place) -> Step {
        if let Some(counting) = self.location() {
            if counting == place.code {
                return self.stay(Feedback::ok(self.prompt()));
            }
            return self.stay(Feedback::error(Message::FinishFirst {
                counting: counting.to_string(),
            }));
        }
        if !place.countable {
            return self.stay(Feedback::error(Message::NotCountable { code: place.code }));
        }
        if let Some(assigned) = &self.assigned
            && *assigned != place.code
        {
            return self.stay(Feedback::error(Message::FinishFirst {
                counting: assigned.clone(),
            }));
        }
        let mut next = self.clone();
        next.awaiting = Awaiting::Items {
            location: place.code,
        };
        let prompt = next.prompt();
        Step {
            next,
            facts: Vec::new(),
            feedback: Feedback::ok(prompt),
        }
    }

    fn item_scanned(&self, item: ItemScan) -> Step {
        if item.tracks_lot && item.lot.is_none() {
            return self.stay(Feedback::error(Message::NeedsLot { name: item.name }));
        }
        if item.tracks_expiry && item.expiry.is_none() {
            return self.stay(Feedback::error(Message::NeedsExpiry { name: item.name }));
        }
        let goods = Goods {
            merchant_id: item.merchant_id,
            product_id: item.product_id,
            name: item.name,
            lot: item.lot,
            expiry: item.expiry,
        };
        let mut next = self.clone();
        let at = match next.lines.iter().position(|l| l.goods == goods) {
            Some(i) => i,
            None => {
                next.lines.push(Line { goods, counted: 0 });
                next.lines.len() - 1
            }
        };
        let line = &mut next.lines[at];
        if line.counted + item.units.max(1) > MAX_KEYPAD_QUANTITY {
            return self.stay(Feedback::error(Message::BadQuantity));
        }
        line.counted += item.units.max(1);
        let message = Message::Added {
            name: line.goods.name.clone(),
            counted: line.counted,
        };
        next.last = Some(at);
        Step {
            next,
            facts: Vec::new(),
            feedback: Feedback::ok(message),
        }
    }

    fn quantity_typed(&self, n: i64) -> Step {
        let Some(at) = self.last else {
            return self.stay(Feedback::error(Message::ScanItemFirst));
        };
        if !(0..=MAX_KEYPAD_QUANTITY).contains(&n) {
            return self.stay(Feedback::error(Message::BadQuantity));
        }
        let mut next = self.clone();
        let name = next.lines[at].goods.name.clone();
        if n == 0 {
            next.lines.remove(at);
            next.last = None;
        } else {
            next.lines[at].counted = n;
        }
        Step {
            next,
            facts: Vec::new(),
            feedback: Feedback::ok(Message::QuantitySet { name, counted: n }),
        }
    }

    fn cancelled(&self, location: &str) -> Step {
        let mut next = self.clone();
        let at = self.last.or(self.lines.len().checked_sub(1));
        let Some(at) = at else {
            next.awaiting = Awaiting::Location;
            return Step {
                next,
                facts: Vec::new(),
                feedback: Feedback::warning(Message::CountCancelled {
                    location: location.to_string(),
                }),
            };
        };
        let line = &mut next.lines[at];
        line.counted -= 1;
        let (name, counted) = (line.goods.name.clone(), line.counted);
        if counted <= 0 {
            next.lines.remove(at);
            next.last = None;
        } else {
            next.last = Some(at);
        }
        Step {
            next,
            facts: Vec::new(),
            feedback: Feedback::warning(Message::UnitCancelled {
                name,
                counted: counted.max(0),
            }),
        }
    }

    fn finished(&self, location: &str, empty: bool) -> Step {
        if empty && !self.lines.is_empty() {
            return self.stay(Feedback::error(Message::NotEmpty {
                units: self.units(),
            }));
        }
        if !empty && self.lines.is_empty() {
            return self.stay(Feedback::error(Message::NothingCounted));
        }
        let mut next = self.clone();
        next.awaiting = Awaiting::Done;
        let message = if empty {
            Message::RecordedEmpty {
                location: location.to_string(),
            }
        } else {
            Message::Recorded {
                location: location.to_string(),
                lines: self.lines.len(),
                units: self.units(),
            }
        };
        Step {
            next,
            facts: vec![Fact::Counted {
                location: location.to_string(),
                lines: self.lines.clone(),
            }],
            feedback: Feedback::done(message),
        }
    }
}

impl Flow for Count {
    type Input = Input;
    type Fact = Fact;
    type Message = Message;

    fn step(&self, input: Input, _today: Date) -> Step {
        let location = match &self.awaiting {
            Awaiting::Done => return self.stay(Feedback::error(Message::Finished)),
            Awaiting::Location => None,
            Awaiting::Items { location } => Some(location.clone()),
        };
        match (input, location) {
            (Input::Location(place), _) => self.location_scanned(place),
            (Input::Unknown(raw), _) => self.stay(Feedback::error(Message::UnknownCode { raw })),
            (_, None) => self.stay(Feedback::error(Message::ScanLocationFirst)),
            (Input::Item(item), Some(_)) => self.item_scanned(item),
            (Input::Quantity(n), Some(_)) => self.quantity_typed(n),
            (Input::Cancel, Some(l)) => self.cancelled(&l),
            (Input::Empty, Some(l)) => self.finished(&l, true),
            (Input::Finish, Some(l)) => self.finished(&l, false),
        }
    }

    fn is_finished(&self) -> bool {
        self.awaiting == Awaiting::Done
    }
}

/// How far a count may differ before a lead must approve it (an operator's limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    pub max_quantity: Option<u32>,
    pub max_percent: Option<u32>,
}

/// What happens to a count's variance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The count equals the stock: nothing to book.
    Equal,
    /// Booked at once.
    Book,
    /// Waits for a lead's approval.
    Approval,
}

/// The verdict on one line: `expected` is the stock the count is compared with, `counted` what
/// was found. A lead's count is booked; with `limits` none (or neither limit set) any
/// difference waits for a lead; otherwise the difference must be within every limit set (the
/// percentage of `expected`: a difference from nothing is beyond any percentage).
pub fn verdict(expected: i64, counted: i64, limits: Option<Limits>, lead: bool) -> Verdict {
    let variance = counted.saturating_sub(expected);
    if variance == 0 {
        return Verdict::Equal;
    }
    if lead {
        return Verdict::Book;
    }
    let Some(limits) = limits.filter(|l| l.max_quantity.is_some() || l.max_percent.is_some())
    else {
        return Verdict::Approval;
    };
    let off = variance.unsigned_abs();
    let within_quantity = limits.max_quantity.is_none_or(|q| off <= u64::from(q));
    let within_percent = limits.max_percent.is_none_or(|p| {
        expected > 0 && u128::from(off) * 100 <= u128::from(p) * expected.unsigned_abs() as u128
    });
    if within_quantity && within_percent {
        Verdict::Book
    } else {
        Verdict::Approval
    }
}

/// The verdict on a whole count, its lines as `(expected, counted)`: it waits for a lead when
/// any line does (a count is approved or rejected whole).
pub fn verdict_of_count(
    lines: impl IntoIterator<Item = (i64, i64)>,
    limits: Option<Limits>,
    lead: bool,
) -> Verdict {
    lines
        .into_iter()
        .map(|(expected, counted)| verdict(expected, counted, limits, lead))
        .fold(Verdict::Equal, |worst, v| match (worst, v) {
            (Verdict::Approval, _) | (_, Verdict::Approval) => Verdict::Approval,
            (Verdict::Book, _) | (_, Verdict::Book) => Verdict::Book,
            _ => Verdict::Equal,
        })
}

/// What a device expects at a place: the level it pulled plus the moves it made since that the
/// server has not shown it yet (`pending`, signed: into the place positive, out negative).
pub fn expected_on_device(pulled: i64, pending: &[i64]) -> i64 {
    pending
        .iter()
        .fold(pulled, |level, delta| level.saturating_add(*delta))
}

#[cfg(test)]
mod tests;

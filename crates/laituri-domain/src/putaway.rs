//! Putaway: goods from a tote or license plate into bins, as a state machine, and the bin
//! suggestion it makes on the device.
//!
//! Transitions (one job = one tote):
//! - `Item` (the tote holds several kinds of goods): an item of the tote selects its line and
//!   suggests a bin -> `Bin`. A tote with one kind of goods starts in `Bin` at once.
//! - `Bin`: the suggested bin confirms -> facts `PutAway` -> `Item`/`Bin` for what is left, or
//!   `Done` with fact `Finished` when the tote is empty. Another valid bin -> `Reason`. "Full"
//!   -> fact `BinFull`, the next suggestion. The keypad or repeated scans of the item set the
//!   quantity. Cancel drops the selection (nothing recorded) -> `Item`.
//! - `Reason`: an override reason -> facts `PutAway` with the reason; Cancel -> `Bin`.
//! - `Done`: takes nothing more.
//!
//! Wrong scans (an unknown location, a dock, a bin in another merchant's zone, an item that is not
//! in the tote, more than the tote holds) are answered with what to do next and record nothing.
//!
//! Suggestion ([`suggest`]): the same product and lot of the same merchant first (consolidate),
//! then an empty bin in the merchant's zones (in the merchant's order of zones), each in walking
//! order; bins known to be full or refused by the operator are skipped. The caller passes the
//! candidate bins it read from its local stock view; this module does no I/O and reads no clock.

use crate::calendar::Date;
pub use crate::flow::Tone;
use crate::flow::{self, Flow};

/// Goods as one line of a tote: everything that tells one stock row from another.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Goods {
    pub merchant_id: String,
    pub product_id: String,
    pub name: String,
    pub lot: Option<String>,
    pub expiry: Option<Date>,
    pub serial: Option<String>,
}

/// What the tote holds of some goods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToteLine {
    pub goods: Goods,
    pub quantity: i64,
}

/// A bin as the suggestion sees it, read from the device's local stock view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bin {
    pub code: String,
    pub zone: String,
    pub walk_order: u32,
    /// Units the bin holds at most, when known.
    pub capacity: Option<i64>,
    /// Units in it now, of anything.
    pub occupied: i64,
    /// Units in it now of the same merchant, product and lot as the goods in hand.
    pub same_goods: i64,
    /// True when it holds anything of another merchant or another product or lot.
    pub mixed: bool,
}

impl Bin {
    /// Units it can still take; `None` when its capacity is unknown.
    pub fn room(&self) -> Option<i64> {
        self.capacity.map(|c| (c - self.occupied).max(0))
    }
}

/// Why a bin was suggested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// It already holds the same product and lot of the merchant.
    SameGoods,
    /// It is empty, in the merchant's zone.
    Empty,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub bin: String,
    pub why: Why,
    /// Units it can still take, when known.
    pub room: Option<i64>,
}

/// The bin to suggest for goods, or `None` when no candidate fits.
///
/// `zones` is the merchant's zones in order of preference (empty = any zone); `skip` holds the
/// bins the operator found full or that were refused during this job.
pub fn suggest(candidates: &[Bin], zones: &[String], skip: &[String]) -> Option<Suggestion> {
    let usable = |b: &&Bin| !skip.contains(&b.code) && b.room().is_none_or(|r| r > 0);
    let zone_rank = |b: &Bin| {
        if zones.is_empty() {
            Some(0)
        } else {
            zones.iter().position(|z| *z == b.zone)
        }
    };
    let same = candidates
        .iter()
        .filter(usable)
        .filter(|b| b.same_goods > 0 && !b.mixed)
        .min_by_key(|b| (b.walk_order, b.code.clone()));
    if let Some(b) = same {
        return Some(Suggestion {
            bin: b.code.clone(),
            why: Why::SameGoods,
            room: b.room(),
        });
    }
    candidates
        .iter()
        .filter(usable)
        .filter(|b| b.occupied == 0 && !b.mixed)
        .filter_map(|b| zone_rank(b).map(|rank| (rank, b)))
        .min_by_key(|(rank, b)| (*rank, b.walk_order, b.code.clone()))
        .map(|(_, b)| Suggestion {
            bin: b.code.clone(),
            why: Why::Empty,
            room: b.room(),
        })
}

/// A scanned location, as the caller found it in master data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub code: String,
    /// False for a dock, packing or quarantine location: goods are put away into bins only.
    pub is_bin: bool,
    pub zone: String,
    /// The merchant whose zones include this bin's zone, if it is some merchant's.
    pub zone_owner: Option<String>,
}

/// Why the operator chose another bin than the one suggested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OverrideReason {
    Blocked,
    DoesNotFit,
    Closer,
    LeadInstruction,
}

/// An item scanned while putting away, already matched to a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemScan {
    pub merchant_id: String,
    pub product_id: String,
    pub name: String,
    /// Units the scan stands for (a case code counts its pack).
    pub units: i64,
    /// From a GS1 label, when it carried them: narrows the tote line.
    pub lot: Option<String>,
    pub expiry: Option<Date>,
    pub serial: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Item(ItemScan),
    /// A location label.
    Location(Place),
    /// The candidate bins for the selected goods, read by the caller after a selection
    /// (answering [`Expect::Candidates`]).
    Candidates(Vec<Bin>),
    /// Keypad: this many units go into the bin.
    Quantity(i64),
    /// The operator says the suggested bin is full.
    BinFull,
    Reason(OverrideReason),
    /// A code that is neither a location nor a product known to the device.
    Unknown(String),
    Cancel,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    PutAway {
        goods: Goods,
        quantity: i64,
        bin: String,
        suggested: Option<String>,
        reason: Option<OverrideReason>,
    },
    BinFull {
        bin: String,
    },
    /// The tote is empty.
    Finished,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// The tote holds several kinds of goods: scan one.
    ScanItem {
        lines: usize,
    },
    /// Put `quantity` of `name` into `bin`.
    Suggest {
        name: String,
        quantity: i64,
        bin: String,
        why: Why,
    },
    /// No bin fits: scan any free bin of the merchant's zone.
    NoSuggestion {
        name: String,
        quantity: i64,
    },
    PutAway {
        name: String,
        quantity: i64,
        bin: String,
        left: i64,
    },
    ToteEmpty,
    /// The marked bin is skipped from now on.
    BinMarkedFull {
        bin: String,
    },
    ChooseReason {
        bin: String,
        suggested: String,
    },
    NotInTote {
        name: String,
    },
    MoreThanTote {
        name: String,
        asked: i64,
        in_tote: i64,
    },
    UnknownCode {
        raw: String,
    },
    NotABin {
        code: String,
    },
    OtherMerchantsZone {
        code: String,
        zone: String,
    },
    ScanItemFirst,
    NothingSuggested,
    /// Goods were selected; the device looks for a bin (followed at once by a suggestion).
    FindingBin {
        name: String,
    },
    BadQuantity,
    /// Cancel: nothing was recorded; the goods stay in the tote.
    Cancelled,
    EmptyTote,
    Finished,
}

pub type Feedback = flow::Feedback<Message>;
pub type Step = flow::Step<Putaway, Fact, Message>;

/// What the putaway waits for; the terminal reads scans and prompts by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    Item,
    /// The caller must read the candidate bins for [`Putaway::selected`] and feed them in.
    Candidates,
    Bin,
    Reason,
    Nothing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Selection {
    line: usize,
    /// Units the scan that selected the line stood for (0 when selected without a scan).
    scanned: i64,
    /// Units counted by repeated scans; `None` = the prefilled quantity.
    counted: Option<i64>,
    /// Keypad quantity, which wins over both.
    typed: Option<i64>,
    candidates: Vec<Bin>,
    suggestion: Option<Suggestion>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Awaiting {
    Item,
    Candidates(Selection),
    Bin(Selection),
    Reason(Selection, String),
    Done,
}

/// One tote being put away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Putaway {
    container: String,
    zones: Vec<String>,
    lines: Vec<ToteLine>,
    /// Bins found full or refused during this job: never suggested again in it.
    skip: Vec<String>,
    awaiting: Awaiting,
}

/// Largest quantity one keypad entry may say: a typo guard.
pub const MAX_KEYPAD_QUANTITY: i64 = 99_999;

impl Putaway {
    /// Starts putting away `container`, holding `lines`. `zones` are the merchant's zones in
    /// order of preference. A tote with one kind of goods selects it at once.
    pub fn new(container: String, zones: Vec<String>, lines: Vec<ToteLine>) -> Putaway {
        let lines: Vec<ToteLine> = lines.into_iter().filter(|l| l.quantity > 0).collect();
        let awaiting = match lines.len() {
            0 => Awaiting::Done,
            1 => Awaiting::Candidates(Selection::of(0)),
            _ => Awaiting::Item,
        };
        Putaway {
            container,
            zones,
            lines,
            skip: Vec::new(),
            awaiting,
        }
    }

    pub fn container(&self) -> &str {
        &self.container
    }

    pub fn lines(&self) -> &[ToteLine] {
        &self.lines
    }

    /// Units left in the tote.
    pub fn units_left(&self) -> i64 {
        self.lines.iter().map(|l| l.quantity).sum()
    }

    pub fn expects(&self) -> Expect {
        match &self.awaiting {
            Awaiting::Item => Expect::Item,
            Awaiting::Candidates(_) => Expect::Candidates,
            Awaiting::Bin(_) => Expect::Bin,
            Awaiting::Reason(..) => Expect::Reason,
            Awaiting::Done => Expect::Nothing,
        }
    }

    fn selection(&self) -> Option<&Selection> {
        match &self.awaiting {
            Awaiting::Candidates(s) | Awaiting::Bin(s) | Awaiting::Reason(s, _) => Some(s),
            _ => None,
        }
    }

    /// The goods in hand, if a line is selected.
    pub fn selected(&self) -> Option<&Goods> {
        self.selection().map(|s| &self.lines[s.line].goods)
    }

    /// The units that go into the bin at the next confirmation.
    pub fn quantity(&self) -> Option<i64> {
        self.selection().map(|s| self.quantity_of(s))
    }

    /// The bin suggested now.
    pub fn suggestion(&self) -> Option<&Suggestion> {
        self.selection().and_then(|s| s.suggestion.as_ref())
    }

    /// The prompt for where the flow stands now (also after an error in between).
    pub fn prompt(&self) -> Message {
        match &self.awaiting {
            Awaiting::Item => Message::ScanItem {
                lines: self.lines.len(),
            },
            Awaiting::Candidates(sel) => Message::FindingBin {
                name: self.lines[sel.line].goods.name.clone(),
            },
            Awaiting::Bin(sel) => self.suggest_message(sel),
            Awaiting::Reason(sel, bin) => Message::ChooseReason {
                bin: bin.clone(),
                suggested: sel
                    .suggestion
                    .as_ref()
                    .map(|s| s.bin.clone())
                    .unwrap_or_default(),
            },
            Awaiting::Done => Message::ToteEmpty,
        }
    }

    fn quantity_of(&self, sel: &Selection) -> i64 {
        let in_tote = self.lines[sel.line].quantity;
        if let Some(n) = sel.typed.or(sel.counted) {
            return n;
        }
        match sel.suggestion.as_ref().and_then(|s| s.room) {
            Some(room) => in_tote.min(room),
            None => in_tote,
        }
    }

    fn suggest_message(&self, sel: &Selection) -> Message {
        let name = self.lines[sel.line].goods.name.clone();
        let quantity = self.quantity_of(sel);
        match &sel.suggestion {
            Some(s) => Message::Suggest {
                name,
                quantity,
                bin: s.bin.clone(),
                why: s.why,
            },
            None => Message::NoSuggestion { name, quantity },
        }
    }

    /// Applies one input. Never mutates `self`.
    pub fn step(&self, input: Input, _today: Date) -> Step {
        let mut next = self.clone();
        let mut facts = Vec::new();
        let feedback = next.apply(input, &mut facts);
        Step {
            next,
            facts,
            feedback,
        }
    }

    fn apply(&mut self, input: Input, facts: &mut Vec<Fact>) -> Feedback {
        let waiting = std::mem::replace(&mut self.awaiting, Awaiting::Done);
        match (waiting, input) {
            (Awaiting::Done, _) => {
                self.awaiting = Awaiting::Done;
                Feedback::error(if self.lines.is_empty() && self.skip.is_empty() {
                    Message::EmptyTote
                } else {
                    Message::Finished
                })
            }
            (Awaiting::Candidates(mut sel), Input::Candidates(bins)) => {
                sel.candidates = bins;
                sel.suggestion = suggest(&sel.candidates, &self.zones, &self.skip);
                let message = self.suggest_message(&sel);
                self.awaiting = Awaiting::Bin(sel);
                match message {
                    m @ Message::Suggest { .. } => Feedback::ok(m),
                    m => Feedback::warning(m),
                }
            }
            (waiting @ Awaiting::Candidates(_), _) => {
                self.awaiting = waiting;
                Feedback::error(Message::ScanItemFirst)
            }
            (waiting, Input::Unknown(raw)) => {
                self.awaiting = waiting;
                Feedback::error(Message::UnknownCode { raw })
            }
            (Awaiting::Item, Input::Item(item)) => self.select(item, None),
            (Awaiting::Bin(sel), Input::Item(item)) => self.select(item, Some(sel)),
            (
                waiting @ Awaiting::Item,
                Input::Location(_) | Input::Quantity(_) | Input::BinFull,
            ) => {
                self.awaiting = waiting;
                Feedback::error(Message::ScanItemFirst)
            }
            (Awaiting::Bin(mut sel), Input::Quantity(n)) => {
                let in_tote = self.lines[sel.line].quantity;
                if !(1..=MAX_KEYPAD_QUANTITY).contains(&n) {
                    self.awaiting = Awaiting::Bin(sel);
                    return Feedback::error(Message::BadQuantity);
                }
                if n > in_tote {
                    let name = self.lines[sel.line].goods.name.clone();
                    self.awaiting = Awaiting::Bin(sel);
                    return Feedback::error(Message::MoreThanTote {
                        name,
                        asked: n,
                        in_tote,
                    });
                }
                sel.typed = Some(n);
                let message = self.suggest_message(&sel);
                self.awaiting = Awaiting::Bin(sel);
                Feedback::ok(message)
            }
            (Awaiting::Bin(mut sel), Input::BinFull) => {
                let Some(full) = sel.suggestion.take() else {
                    self.awaiting = Awaiting::Bin(sel);
                    return Feedback::error(Message::NothingSuggested);
                };
                self.skip.push(full.bin.clone());
                facts.push(Fact::BinFull {
                    bin: full.bin.clone(),
                });
                sel.suggestion = suggest(&sel.candidates, &self.zones, &self.skip);
                self.awaiting = Awaiting::Bin(sel);
                Feedback::warning(Message::BinMarkedFull { bin: full.bin })
            }
            (Awaiting::Bin(sel), Input::Location(place)) => {
                if let Some(refusal) = self.refuse_place(&sel, &place) {
                    self.awaiting = Awaiting::Bin(sel);
                    return Feedback::error(refusal);
                }
                match &sel.suggestion {
                    Some(s) if s.bin != place.code => {
                        let suggested = s.bin.clone();
                        self.awaiting = Awaiting::Reason(sel, place.code.clone());
                        Feedback::warning(Message::ChooseReason {
                            bin: place.code,
                            suggested,
                        })
                    }
                    // The suggestion, or any valid bin when nothing was suggested.
                    _ => self.put(sel, place.code, None, facts),
                }
            }
            (Awaiting::Reason(sel, bin), Input::Reason(reason)) => {
                self.put(sel, bin, Some(reason), facts)
            }
            (Awaiting::Reason(sel, _), Input::Cancel) => {
                let message = self.suggest_message(&sel);
                self.awaiting = Awaiting::Bin(sel);
                Feedback::warning(message)
            }
            (Awaiting::Bin(_), Input::Cancel) => {
                self.awaiting = self.after_put();
                Feedback::warning(Message::Cancelled)
            }
            (waiting, Input::Cancel) => {
                self.awaiting = waiting;
                Feedback::warning(Message::Cancelled)
            }
            (waiting @ Awaiting::Reason(..), _) => {
                let message = self.prompt_for(&waiting);
                self.awaiting = waiting;
                Feedback::error(message)
            }
            (waiting, Input::Candidates(_) | Input::Reason(_)) => {
                self.awaiting = waiting;
                Feedback::error(Message::ScanItemFirst)
            }
        }
    }

    fn prompt_for(&self, waiting: &Awaiting) -> Message {
        let saved = Putaway {
            awaiting: waiting.clone(),
            ..self.clone()
        };
        saved.prompt()
    }

    /// Selects the tote line an item belongs to; a repeated scan of the selected goods counts.
    fn select(&mut self, item: ItemScan, current: Option<Selection>) -> Feedback {
        let matches = |l: &ToteLine| {
            l.goods.merchant_id == item.merchant_id
                && l.goods.product_id == item.product_id
                && item
                    .lot
                    .as_ref()
                    .is_none_or(|lot| l.goods.lot.as_ref() == Some(lot))
                && item
                    .serial
                    .as_ref()
                    .is_none_or(|s| l.goods.serial.as_ref() == Some(s))
        };
        if let Some(mut sel) = current {
            if matches(&self.lines[sel.line]) && sel.scanned == 0 && sel.counted.is_none() {
                // Goods selected without a scan (a tote of one kind): the first scan of the item
                // identifies it and keeps the suggested quantity; scans after it count.
                sel.scanned = item.units;
                let message = self.suggest_message(&sel);
                self.awaiting = Awaiting::Bin(sel);
                return Feedback::ok(message);
            }
            if matches(&self.lines[sel.line]) {
                let in_tote = self.lines[sel.line].quantity;
                let counted = sel.counted.unwrap_or(sel.scanned) + item.units;
                if counted > in_tote {
                    let name = self.lines[sel.line].goods.name.clone();
                    self.awaiting = Awaiting::Bin(sel);
                    return Feedback::error(Message::MoreThanTote {
                        name,
                        asked: counted,
                        in_tote,
                    });
                }
                sel.typed = None;
                sel.counted = Some(counted);
                let message = self.suggest_message(&sel);
                self.awaiting = Awaiting::Bin(sel);
                return Feedback::ok(message);
            }
            // Another item of the tote: switch to it, nothing was recorded for the first.
            self.awaiting = Awaiting::Bin(sel);
        }
        match self.lines.iter().position(matches) {
            Some(line) => {
                let mut sel = Selection::of(line);
                sel.scanned = item.units;
                let name = self.lines[line].goods.name.clone();
                self.awaiting = Awaiting::Candidates(sel);
                Feedback::ok(Message::FindingBin { name })
            }
            None => {
                let keep = std::mem::replace(&mut self.awaiting, Awaiting::Item);
                self.awaiting = match keep {
                    Awaiting::Done => Awaiting::Item,
                    other => other,
                };
                Feedback::error(Message::NotInTote { name: item.name })
            }
        }
    }

    fn refuse_place(&self, sel: &Selection, place: &Place) -> Option<Message> {
        if !place.is_bin {
            return Some(Message::NotABin {
                code: place.code.clone(),
            });
        }
        let merchant = &self.lines[sel.line].goods.merchant_id;
        match &place.zone_owner {
            Some(owner) if owner != merchant => Some(Message::OtherMerchantsZone {
                code: place.code.clone(),
                zone: place.zone.clone(),
            }),
            _ => None,
        }
    }

    fn put(
        &mut self,
        sel: Selection,
        bin: String,
        reason: Option<OverrideReason>,
        facts: &mut Vec<Fact>,
    ) -> Feedback {
        let quantity = self.quantity_of(&sel);
        let line = &mut self.lines[sel.line];
        let quantity = quantity.min(line.quantity);
        line.quantity -= quantity;
        let left = line.quantity;
        let goods = line.goods.clone();
        facts.push(Fact::PutAway {
            goods: goods.clone(),
            quantity,
            bin: bin.clone(),
            suggested: sel.suggestion.as_ref().map(|s| s.bin.clone()),
            reason,
        });
        if let Some(r) = reason
            && r != OverrideReason::Closer
            && let Some(s) = &sel.suggestion
        {
            // A blocked or too small suggested bin is not suggested again in this job.
            self.skip.push(s.bin.clone());
        }
        self.lines.retain(|l| l.quantity > 0);
        if self.lines.is_empty() {
            facts.push(Fact::Finished);
            self.awaiting = Awaiting::Done;
            return Feedback::done(Message::PutAway {
                name: goods.name,
                quantity,
                bin,
                left: 0,
            });
        }
        // What is left of the same goods stays selected, with a fresh suggestion.
        self.awaiting = match self.lines.iter().position(|l| l.goods == goods) {
            Some(line) => Awaiting::Candidates(Selection::of(line)),
            None => self.after_put(),
        };
        Feedback::ok(Message::PutAway {
            name: goods.name,
            quantity,
            bin,
            left,
        })
    }

    /// Where a job goes after a line is done or dropped.
    fn after_put(&self) -> Awaiting {
        match self.lines.len() {
            0 => Awaiting::Done,
            1 => Awaiting::Candidates(Selection::of(0)),
            _ => Awaiting::Item,
        }
    }
}

impl Selection {
    fn of(line: usize) -> Selection {
        Selection {
            line,
            scanned: 0,
            counted: None,
            typed: None,
            candidates: Vec::new(),
            suggestion: None,
        }
    }
}

impl Flow for Putaway {
    type Input = Input;
    type Fact = Fact;
    type Message = Message;

    fn step(&self, input: Input, today: Date) -> Step {
        Putaway::step(self, input, today)
    }

    fn is_finished(&self) -> bool {
        self.awaiting == Awaiting::Done
    }
}

#[cfg(test)]
mod tests;

//! The receiving flow at the inbound dock as a state machine: `(receipt, input) -> step`.
//!
//! [`Receipt::step`] never mutates: it returns the next receipt, the facts to record and the
//! feedback to give. The terminal writes the facts durably and adopts the next receipt only after
//! the commit succeeded, so a failed write leaves the flow exactly where it was.
//!
//! The caller resolves scans before they get here (a barcode becomes a product of the receipt's
//! merchant, a tote label becomes a container); this module decides what they mean for the
//! receipt: lot and expiry rules, shelf life against the merchant's rule, over-receipt tolerance,
//! damaged goods, unknown codes, and closing with expected against received. It must never do
//! I/O or read a clock: `today` is a parameter.

use crate::calendar::Date;
pub use crate::flow::Tone;
use crate::flow::{self, Flow};

/// The merchant's rules that receiving applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    pub min_shelf_life_days: u32,
    pub over_receipt_tolerance_pct: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedLine {
    pub product_id: String,
    pub name: String,
    pub expected: i64,
}

/// What a receipt starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setup {
    pub merchant_id: String,
    pub rules: Rules,
    /// The inbound notice received against; `None` for a blind receipt.
    pub notice_id: Option<String>,
    pub expected: Vec<ExpectedLine>,
    pub dock: String,
    pub quarantine_location: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: String,
    pub name: String,
    pub track_lot: bool,
    pub track_expiry: bool,
    pub track_serial: bool,
}

/// A scanned item, already matched to a product of the receipt's merchant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemScan {
    pub product: Product,
    /// Units this scan stands for: the pack quantity of the barcode times any count on the label.
    pub units: i64,
    pub lot: Option<String>,
    pub expiry: Option<Date>,
    pub serial: Option<String>,
    /// The raw scan, kept for audit.
    pub raw: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A tote or license-plate label: goods go into it from now on.
    Container(String),
    Item(ItemScan),
    /// A lot, when the receipt asked for one.
    Lot(String),
    /// An expiry date, when the receipt asked for one.
    Expiry(Date),
    /// A serial number, when the receipt asked for one.
    Serial(String),
    /// Keypad: this many more units of the last item received.
    AddQuantity(i64),
    /// Keypad: this many units of the last item arrived damaged.
    Damaged(i64),
    /// A barcode that matches nothing of this merchant.
    Unknown(String),
    /// A barcode of another merchant's product: not on this receipt, recorded like an unknown
    /// code for the shift lead, but named as what it is.
    Foreign {
        raw: String,
        name: String,
        merchant: String,
    },
    Confirm,
    Cancel,
    /// Show expected against received and ask to confirm closing.
    RequestClose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Condition {
    Good,
    Damaged,
    Expired,
    ShortShelfLife,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineSummary {
    pub product_id: String,
    pub name: String,
    pub expected: i64,
    pub received: i64,
    pub quarantined: i64,
}

/// What the terminal must record durably, in order, in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    Received {
        product_id: String,
        quantity: i64,
        lot: Option<String>,
        expiry: Option<Date>,
        serial: Option<String>,
        container: String,
        location: String,
        condition: Condition,
        barcode: String,
    },
    UnknownBarcode {
        raw: String,
    },
    Closed {
        lines: Vec<LineSummary>,
    },
}

/// What to tell the operator. The terminal renders it in the operator's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    ScanContainer,
    /// The receipt waits for items.
    ScanItems,
    ContainerSet {
        container: String,
    },
    Received {
        name: String,
        units: i64,
        total: i64,
        expected: Option<i64>,
    },
    Quarantined {
        name: String,
        units: i64,
        condition: Condition,
    },
    NeedLot {
        name: String,
    },
    NeedExpiry {
        name: String,
    },
    NeedSerial {
        name: String,
    },
    ConfirmOverReceipt {
        name: String,
        would_be: i64,
        expected: i64,
    },
    UnknownRecorded {
        raw: String,
    },
    /// "belongs to Kettu Outdoor, not on this receipt".
    ForeignRecorded {
        name: String,
        merchant: String,
    },
    NoItemYet,
    BadQuantity,
    FinishCurrentFirst,
    SerialNeedsSingleUnits {
        name: String,
    },
    /// The unit in hand was dropped: nothing recorded for it (`None` when nothing was in hand,
    /// e.g. closing was cancelled).
    Cancelled {
        item: Option<String>,
    },
    ConfirmClose {
        lines: Vec<LineSummary>,
    },
    Closed {
        lines: Vec<LineSummary>,
    },
    ReceiptClosed,
}

/// What to tell the operator about a receiving step.
pub type Feedback = flow::Feedback<Message>;

/// What the receipt waits for next; the terminal uses it to read a scan and to prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    Container,
    Item,
    Lot,
    Expiry,
    Serial,
    ConfirmOverReceipt,
    ConfirmClose,
    Nothing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Tally {
    product_id: String,
    name: String,
    expected: i64,
    received: i64,
    quarantined: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Awaiting {
    Scanning,
    Lot(ItemScan),
    Expiry(ItemScan),
    Serial(ItemScan),
    OverReceipt(ItemScan),
    CloseConfirm,
    Closed,
}

/// One receipt in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    setup: Setup,
    container: Option<String>,
    lines: Vec<Tally>,
    /// The last item received, for keypad quantities and damaged counts.
    last: Option<ItemScan>,
    awaiting: Awaiting,
}

/// The result of one input.
pub type Step = flow::Step<Receipt, Fact, Message>;

/// Largest quantity one keypad entry may add: a typo guard, not a business rule.
pub const MAX_KEYPAD_QUANTITY: i64 = 99_999;

impl Receipt {
    pub fn new(setup: Setup) -> Receipt {
        let lines = setup
            .expected
            .iter()
            .map(|l| Tally {
                product_id: l.product_id.clone(),
                name: l.name.clone(),
                expected: l.expected,
                received: 0,
                quarantined: 0,
            })
            .collect();
        Receipt {
            setup,
            container: None,
            lines,
            last: None,
            awaiting: Awaiting::Scanning,
        }
    }

    /// Rebuilds a receipt from what the device recorded before a restart: the tallies of each
    /// `(product id, name, units, condition)` and the container in use. Nothing is pending.
    pub fn restore(
        setup: Setup,
        container: Option<String>,
        recorded: &[(String, String, i64, Condition)],
    ) -> Receipt {
        let mut r = Receipt::new(setup);
        r.container = container;
        for (id, name, units, condition) in recorded {
            let product = Product {
                id: id.clone(),
                name: name.clone(),
                track_lot: false,
                track_expiry: false,
                track_serial: false,
            };
            let line = r.line_mut(&product);
            line.received += units;
            if *condition != Condition::Good {
                line.quarantined += units;
            }
        }
        r
    }

    pub fn setup(&self) -> &Setup {
        &self.setup
    }

    pub fn container(&self) -> Option<&str> {
        self.container.as_deref()
    }

    pub fn is_closed(&self) -> bool {
        self.awaiting == Awaiting::Closed
    }

    /// Expected against received so far, notice lines first, then unexpected products.
    pub fn summary(&self) -> Vec<LineSummary> {
        self.lines
            .iter()
            .map(|t| LineSummary {
                product_id: t.product_id.clone(),
                name: t.name.clone(),
                expected: t.expected,
                received: t.received,
                quarantined: t.quarantined,
            })
            .collect()
    }

    /// The product whose lot, expiry or serial is being asked for, if any.
    pub fn pending_product(&self) -> Option<&Product> {
        match &self.awaiting {
            Awaiting::Lot(i)
            | Awaiting::Expiry(i)
            | Awaiting::Serial(i)
            | Awaiting::OverReceipt(i) => Some(&i.product),
            _ => None,
        }
    }

    /// What the receipt asks for now, with what it is about (also after an error in between):
    /// "7 is more than the 6 expected of Oat flakes: confirm or cancel".
    pub fn prompt(&self) -> Message {
        let name = |i: &ItemScan| i.product.name.clone();
        match &self.awaiting {
            Awaiting::Closed => Message::ReceiptClosed,
            Awaiting::Lot(i) => Message::NeedLot { name: name(i) },
            Awaiting::Expiry(i) => Message::NeedExpiry { name: name(i) },
            Awaiting::Serial(i) => Message::NeedSerial { name: name(i) },
            Awaiting::OverReceipt(i) => {
                let (received, expected) = self
                    .lines
                    .iter()
                    .find(|l| l.product_id == i.product.id)
                    .map_or((0, 0), |l| (l.received, l.expected));
                Message::ConfirmOverReceipt {
                    name: name(i),
                    would_be: received + i.units,
                    expected,
                }
            }
            Awaiting::CloseConfirm => Message::ConfirmClose {
                lines: self.summary(),
            },
            Awaiting::Scanning if self.container.is_none() => Message::ScanContainer,
            Awaiting::Scanning => Message::ScanItems,
        }
    }

    pub fn expects(&self) -> Expect {
        match &self.awaiting {
            Awaiting::Closed => Expect::Nothing,
            Awaiting::Lot(_) => Expect::Lot,
            Awaiting::Expiry(_) => Expect::Expiry,
            Awaiting::Serial(_) => Expect::Serial,
            Awaiting::OverReceipt(_) => Expect::ConfirmOverReceipt,
            Awaiting::CloseConfirm => Expect::ConfirmClose,
            Awaiting::Scanning if self.container.is_none() => Expect::Container,
            Awaiting::Scanning => Expect::Item,
        }
    }

    /// Applies one input. Never mutates `self`.
    pub fn step(&self, input: Input, today: Date) -> Step {
        let mut next = self.clone();
        let mut facts = Vec::new();
        let feedback = next.apply(input, today, &mut facts);
        Step {
            next,
            facts,
            feedback,
        }
    }

    fn apply(&mut self, input: Input, today: Date, facts: &mut Vec<Fact>) -> Feedback {
        if self.awaiting == Awaiting::Closed {
            return error(Message::ReceiptClosed);
        }
        match (
            std::mem::replace(&mut self.awaiting, Awaiting::Scanning),
            input,
        ) {
            // An unknown code is always recorded, whatever the receipt waits for: never a silent skip.
            (waiting, Input::Unknown(raw)) => {
                self.awaiting = waiting;
                facts.push(Fact::UnknownBarcode { raw: raw.clone() });
                error(Message::UnknownRecorded { raw })
            }
            (
                waiting,
                Input::Foreign {
                    raw,
                    name,
                    merchant,
                },
            ) => {
                self.awaiting = waiting;
                facts.push(Fact::UnknownBarcode { raw });
                error(Message::ForeignRecorded { name, merchant })
            }
            (Awaiting::Scanning, Input::Container(code)) => {
                self.container = Some(code.clone());
                ok(Message::ContainerSet { container: code })
            }
            (Awaiting::Scanning, Input::Item(item)) => self.continue_item(item, today, facts),
            (Awaiting::Scanning, Input::AddQuantity(n)) => self.repeat_last(n, None, today, facts),
            (Awaiting::Scanning, Input::Damaged(n)) => {
                self.repeat_last(n, Some(Condition::Damaged), today, facts)
            }
            (Awaiting::Scanning, Input::RequestClose) => {
                self.awaiting = Awaiting::CloseConfirm;
                let lines = self.summary();
                let tone = if lines
                    .iter()
                    .all(|l| self.setup.notice_id.is_none() || l.expected == l.received)
                {
                    Tone::Ok
                } else {
                    Tone::Warning
                };
                Feedback {
                    tone,
                    message: Message::ConfirmClose { lines },
                }
            }
            (Awaiting::CloseConfirm, Input::Confirm) => {
                let lines = self.summary();
                facts.push(Fact::Closed {
                    lines: lines.clone(),
                });
                self.awaiting = Awaiting::Closed;
                Feedback {
                    tone: Tone::Done,
                    message: Message::Closed { lines },
                }
            }
            (Awaiting::Lot(mut item), Input::Lot(lot)) => {
                item.lot = Some(lot);
                self.continue_item(item, today, facts)
            }
            (Awaiting::Expiry(mut item), Input::Expiry(date)) => {
                item.expiry = Some(date);
                self.continue_item(item, today, facts)
            }
            (Awaiting::Serial(mut item), Input::Serial(serial)) => {
                item.serial = Some(serial);
                self.continue_item(item, today, facts)
            }
            // A rescan of the same product while its details are asked for may carry them (a GS1
            // label scanned after its plain EAN): merge what it brings and go on.
            (
                Awaiting::Lot(pending) | Awaiting::Expiry(pending) | Awaiting::Serial(pending),
                Input::Item(item),
            ) if item.product.id == pending.product.id => {
                let merged = ItemScan {
                    lot: pending.lot.or(item.lot),
                    expiry: pending.expiry.or(item.expiry),
                    serial: pending.serial.or(item.serial),
                    ..pending
                };
                self.continue_item(merged, today, facts)
            }
            (Awaiting::OverReceipt(item), Input::Confirm) => self.record(item, today, facts, true),
            // Cancel drops the unit in hand without recording it: a warning, never a success.
            (
                Awaiting::Lot(i)
                | Awaiting::Expiry(i)
                | Awaiting::Serial(i)
                | Awaiting::OverReceipt(i),
                Input::Cancel,
            ) => Feedback::warning(Message::Cancelled {
                item: Some(i.product.name),
            }),
            (_, Input::Cancel) => Feedback::warning(Message::Cancelled { item: None }),
            (waiting, _) => {
                self.awaiting = waiting;
                error(Message::FinishCurrentFirst)
            }
        }
    }

    /// Asks for whatever the product tracks and the scan lacks, else records it.
    fn continue_item(&mut self, item: ItemScan, today: Date, facts: &mut Vec<Fact>) -> Feedback {
        if self.container.is_none() {
            return error(Message::ScanContainer);
        }
        let p = &item.product;
        if p.track_serial && item.units != 1 {
            return error(Message::SerialNeedsSingleUnits {
                name: p.name.clone(),
            });
        }
        let ask = if p.track_lot && item.lot.is_none() {
            Some((
                Message::NeedLot {
                    name: p.name.clone(),
                },
                Awaiting::Lot as fn(_) -> _,
            ))
        } else if p.track_expiry && item.expiry.is_none() {
            Some((
                Message::NeedExpiry {
                    name: p.name.clone(),
                },
                Awaiting::Expiry as fn(_) -> _,
            ))
        } else if p.track_serial && item.serial.is_none() {
            Some((
                Message::NeedSerial {
                    name: p.name.clone(),
                },
                Awaiting::Serial as fn(_) -> _,
            ))
        } else {
            None
        };
        if let Some((message, waiting)) = ask {
            self.awaiting = waiting(item);
            return Feedback {
                tone: Tone::Warning,
                message,
            };
        }
        self.record(item, today, facts, false)
    }

    fn condition_of(&self, item: &ItemScan, today: Date) -> Condition {
        match item.expiry {
            Some(exp) if exp < today => Condition::Expired,
            Some(exp)
                if today.days_until(exp) < i64::from(self.setup.rules.min_shelf_life_days) =>
            {
                Condition::ShortShelfLife
            }
            _ => Condition::Good,
        }
    }

    fn record(
        &mut self,
        item: ItemScan,
        today: Date,
        facts: &mut Vec<Fact>,
        over_confirmed: bool,
    ) -> Feedback {
        let condition = self.condition_of(&item, today);
        self.record_as(item, condition, facts, over_confirmed)
    }

    fn record_as(
        &mut self,
        item: ItemScan,
        condition: Condition,
        facts: &mut Vec<Fact>,
        over_confirmed: bool,
    ) -> Feedback {
        let Some(container) = self.container.clone() else {
            return error(Message::ScanContainer);
        };
        let line = self.line_mut(&item.product);
        let would_be = line.received + item.units;
        let expected = line.expected;
        if !over_confirmed && self.is_over_tolerance(would_be, expected) {
            let name = item.product.name.clone();
            self.awaiting = Awaiting::OverReceipt(item);
            return Feedback {
                tone: Tone::Warning,
                message: Message::ConfirmOverReceipt {
                    name,
                    would_be,
                    expected,
                },
            };
        }
        let line = self.line_mut(&item.product);
        line.received += item.units;
        if condition != Condition::Good {
            line.quarantined += item.units;
        }
        let total = line.received;
        let location = if condition == Condition::Good {
            self.setup.dock.clone()
        } else {
            self.setup.quarantine_location.clone()
        };
        facts.push(Fact::Received {
            product_id: item.product.id.clone(),
            quantity: item.units,
            lot: item.lot.clone(),
            expiry: item.expiry,
            serial: item.serial.clone(),
            container,
            location,
            condition,
            barcode: item.raw.clone(),
        });
        let name = item.product.name.clone();
        let units = item.units;
        // A serial belongs to one unit: a keypad quantity after it would repeat the serial.
        self.last = Some(ItemScan {
            serial: None,
            ..item
        });
        if condition == Condition::Good {
            let expected = self.setup.notice_id.as_ref().map(|_| expected);
            ok(Message::Received {
                name,
                units,
                total,
                expected,
            })
        } else {
            Feedback {
                tone: Tone::Warning,
                message: Message::Quarantined {
                    name,
                    units,
                    condition,
                },
            }
        }
    }

    /// Keypad quantity or damaged count for the last item received.
    fn repeat_last(
        &mut self,
        n: i64,
        condition: Option<Condition>,
        today: Date,
        facts: &mut Vec<Fact>,
    ) -> Feedback {
        if !(1..=MAX_KEYPAD_QUANTITY).contains(&n) {
            return error(Message::BadQuantity);
        }
        let Some(last) = self.last.clone() else {
            return error(Message::NoItemYet);
        };
        if last.product.track_serial {
            return error(Message::SerialNeedsSingleUnits {
                name: last.product.name,
            });
        }
        let item = ItemScan { units: n, ..last };
        match condition {
            Some(c) => self.record_as(item, c, facts, true),
            None => self.record(item, today, facts, false),
        }
    }

    fn is_over_tolerance(&self, would_be: i64, expected: i64) -> bool {
        if self.setup.notice_id.is_none() {
            return false;
        }
        let tol = i64::from(self.setup.rules.over_receipt_tolerance_pct);
        // would_be > expected * (1 + tol/100), in integers.
        would_be * 100 > expected * (100 + tol)
    }

    fn line_mut(&mut self, product: &Product) -> &mut Tally {
        let idx = match self.lines.iter().position(|l| l.product_id == product.id) {
            Some(i) => i,
            None => {
                self.lines.push(Tally {
                    product_id: product.id.clone(),
                    name: product.name.clone(),
                    expected: 0,
                    received: 0,
                    quarantined: 0,
                });
                self.lines.len() - 1
            }
        };
        &mut self.lines[idx]
    }
}

impl Flow for Receipt {
    type Input = Input;
    type Fact = Fact;
    type Message = Message;

    fn step(&self, input: Input, today: Date) -> Step {
        Receipt::step(self, input, today)
    }

    fn is_finished(&self) -> bool {
        self.is_closed()
    }
}

fn ok(message: Message) -> Feedback {
    Feedback::ok(message)
}

fn error(message: Message) -> Feedback {
    Feedback::error(message)
}

#[cfg(test)]
mod tests;

//! Returns: a customer's returned parcel taken in at the returns desk, as a state machine.
//!
//! Transitions (one job = one return of one order):
//! - `FindOrder`: the order the caller found by a return label, tracking code, order number or
//!   customer name (`Input::Order`) -> `Items`. `Input::NotFound` says so and stays.
//! - `Items`: an item scan (a product of the order's merchant, or a barcode that is none) takes
//!   one unit in hand -> `Reason`. An item the order did not ship (or more than it shipped) is
//!   taken too and warned as unexpected: it is recorded, never dropped. `Finish` -> `Missing`
//!   when shipped units did not come back, else `Done` with fact `Finished`.
//! - `Reason`: the same item again or the keypad sets how many; a reason -> the merchant's
//!   rules ([`Rule`]) decide: a forced rule records the line at once with its action (a restock
//!   it forbids is recorded `blocked`), an unknown product goes to quarantine `blocked`, else
//!   -> `Action` with the rule's or the reason's suggestion. Cancel drops the unit in hand.
//! - `Action`: any action records the line (fact `Recorded`) -> `Items`. Cancel -> `Reason`.
//! - `Missing`: the units not in the parcel are shown; `Finish` again records them as missing
//!   -> `Done` with fact `Finished`; a scan goes on with the return (-> `Reason`).
//! - `Done`: takes nothing more.
//!
//! What each line's goods become (restock into the tote, quarantine, dispose, back to the
//! merchant) is the caller's stock moves; this module decides only the line. No I/O, no clock.

use crate::calendar::Date;
use crate::flow::{self, Flow};

/// Why the customer sent the goods back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    Unwanted,
    Defective,
    WrongItem,
    Undeliverable,
}

impl Reason {
    pub const ALL: [Reason; 4] = [
        Reason::Unwanted,
        Reason::Defective,
        Reason::WrongItem,
        Reason::Undeliverable,
    ];

    /// What becomes of goods returned for this reason when no rule of the merchant says:
    /// sellable goods back to stock, broken ones to quarantine for a look.
    pub fn default_action(self) -> Action {
        match self {
            Reason::Defective => Action::Quarantine,
            Reason::Unwanted | Reason::WrongItem | Reason::Undeliverable => Action::Restock,
        }
    }
}

/// What becomes of returned goods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Restock,
    Quarantine,
    Dispose,
    BackToMerchant,
}

impl Action {
    pub const ALL: [Action; 4] = [
        Action::Restock,
        Action::Quarantine,
        Action::Dispose,
        Action::BackToMerchant,
    ];
}

/// Why goods meant for stock were not restocked (they went to quarantine, or where the rule
/// said).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Block {
    UnknownProduct,
    MerchantRule,
}

/// A merchant's rule: goods returned for `reason` (any when `None`) of one of `products` (any
/// when empty) get `action`; `forced` decides, otherwise it only suggests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub reason: Option<Reason>,
    pub products: Vec<String>,
    pub action: Action,
    pub forced: bool,
}

impl Rule {
    fn matches(&self, reason: Reason, product: Option<&str>) -> bool {
        self.reason.is_none_or(|r| r == reason)
            && (self.products.is_empty()
                || product.is_some_and(|p| self.products.iter().any(|x| x == p)))
    }
}

/// What the rules say of a returned line: the first rule that matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ruling {
    /// The rule decides: no choice is asked.
    Forced(Action),
    /// The person may choose; this is preselected.
    Suggested(Action),
}

/// The rules' ruling on goods of `product` (`None`: unknown) returned for `reason`.
pub fn ruling(rules: &[Rule], reason: Reason, product: Option<&str>) -> Ruling {
    match rules.iter().find(|r| r.matches(reason, product)) {
        Some(r) if r.forced => Ruling::Forced(r.action),
        Some(r) => Ruling::Suggested(r.action),
        None => Ruling::Suggested(reason.default_action()),
    }
}

/// One line of what the order shipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipped {
    pub product_id: String,
    pub name: String,
    pub quantity: i64,
}

/// The order a return is of, as the device found it (no personal data is needed here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub order_id: String,
    pub reference: String,
    pub merchant_id: String,
    pub lines: Vec<Shipped>,
    /// The merchant's rules for returned goods.
    pub rules: Vec<Rule>,
}

/// A scanned item: a product of the order's merchant (`product_id`), or a barcode that is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub product_id: Option<String>,
    /// The product's name, or the barcode as scanned.
    pub name: String,
    pub barcode: String,
    /// Units the scan stands for (a case code counts its pack).
    pub units: i64,
    pub lot: Option<String>,
    pub expiry: Option<Date>,
}

/// One recorded line of the return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub product_id: Option<String>,
    pub name: String,
    /// The scan, for an unknown item only.
    pub barcode: Option<String>,
    pub lot: Option<String>,
    pub expiry: Option<Date>,
    pub quantity: i64,
    pub reason: Option<Reason>,
    pub action: Option<Action>,
    pub unexpected: bool,
    pub missing: bool,
    pub blocked: Option<Block>,
}

impl Line {
    fn same_kind(&self, other: &Line) -> bool {
        Line {
            quantity: 0,
            ..self.clone()
        } == Line {
            quantity: 0,
            ..other.clone()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The order the caller found for what was scanned or typed.
    Order(Order),
    /// Nothing matched what was scanned or typed.
    NotFound(String),
    Item(Item),
    /// Keypad: this many units of the item in hand.
    Quantity(i64),
    Reason(Reason),
    Action(Action),
    Cancel,
    Finish,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// A line was recorded (for the job's journal).
    Recorded(Line),
    /// The return is finished: every line, the missing ones last.
    Finished { lines: Vec<Line> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    ScanOrder,
    NotFound {
        code: String,
    },
    OrderFound {
        reference: String,
        units: i64,
    },
    /// Choose why `quantity` of `name` came back.
    ChooseReason {
        name: String,
        quantity: i64,
    },
    /// The order did not ship this (or not so many): it will be recorded as unexpected.
    Unexpected {
        name: String,
        quantity: i64,
    },
    /// The barcode is no product of the merchant's: recorded, to quarantine.
    UnknownItem {
        barcode: String,
    },
    ChooseAction {
        name: String,
        suggested: Action,
    },
    Recorded {
        name: String,
        quantity: i64,
        action: Action,
    },
    /// Not restocked, and why; `action` is where the goods go instead.
    RestockBlocked {
        name: String,
        block: Block,
        action: Action,
    },
    /// `units` shipped units are not in the parcel: finish again to record them missing.
    ConfirmMissing {
        units: i64,
    },
    ScanItemFirst,
    ChooseReasonFirst,
    BadQuantity,
    Cancelled {
        name: String,
    },
    NothingReturned,
    Finished {
        lines: usize,
        unexpected: usize,
        missing: i64,
    },
    Over,
}

pub type Feedback = flow::Feedback<Message>;
pub type Step = flow::Step<Return, Fact, Message>;

/// Largest quantity one keypad entry may say: a typo guard.
pub const MAX_KEYPAD_QUANTITY: i64 = 9_999;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Hand {
    item: Item,
    quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Awaiting {
    FindOrder,
    Items,
    Reason(Hand),
    Action(Hand, Reason, Action),
    Missing,
    Done,
}

/// What the return waits for: the terminal reads scans and prompts by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Order,
    Item,
    Reason,
    Action,
    ConfirmMissing,
    Nothing,
}

/// One return being taken in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Return {
    order: Option<Order>,
    lines: Vec<Line>,
    awaiting: Awaiting,
}

impl Default for Return {
    fn default() -> Self {
        Return::new()
    }
}

impl Return {
    /// A return that waits for its order.
    pub fn new() -> Return {
        Return {
            order: None,
            lines: Vec::new(),
            awaiting: Awaiting::FindOrder,
        }
    }

    pub fn order(&self) -> Option<&Order> {
        self.order.as_ref()
    }

    /// The lines recorded so far.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    pub fn expect(&self) -> Expect {
        match self.awaiting {
            Awaiting::FindOrder => Expect::Order,
            Awaiting::Items => Expect::Item,
            Awaiting::Reason(..) => Expect::Reason,
            Awaiting::Action(..) => Expect::Action,
            Awaiting::Missing => Expect::ConfirmMissing,
            Awaiting::Done => Expect::Nothing,
        }
    }

    /// What the screen asks for now.
    pub fn prompt(&self) -> Message {
        match &self.awaiting {
            Awaiting::FindOrder => Message::ScanOrder,
            Awaiting::Items => Message::ScanItemFirst,
            Awaiting::Reason(h) => Message::ChooseReason {
                name: h.item.name.clone(),
                quantity: h.quantity,
            },
            Awaiting::Action(h, _, suggested) => Message::ChooseAction {
                name: h.item.name.clone(),
                suggested: *suggested,
            },
            Awaiting::Missing => Message::ConfirmMissing {
                units: self.missing().iter().map(|l| l.quantity).sum(),
            },
            Awaiting::Done => Message::Over,
        }
    }

    /// Units of `product` the order shipped and no expected line has brought back yet.
    fn outstanding(&self, product: &str) -> i64 {
        let Some(order) = &self.order else { return 0 };
        let shipped: i64 = order
            .lines
            .iter()
            .filter(|l| l.product_id == product)
            .map(|l| l.quantity)
            .sum();
        let back: i64 = self
            .lines
            .iter()
            .filter(|l| !l.unexpected && !l.missing && l.product_id.as_deref() == Some(product))
            .map(|l| l.quantity)
            .sum();
        (shipped - back).max(0)
    }

    /// The order's lines not (wholly) in the parcel, as missing lines.
    fn missing(&self) -> Vec<Line> {
        let Some(order) = &self.order else {
            return Vec::new();
        };
        let mut out: Vec<Line> = Vec::new();
        for l in &order.lines {
            if out
                .iter()
                .any(|m| m.product_id.as_deref() == Some(&l.product_id))
            {
                continue;
            }
            let left = self.outstanding(&l.product_id);
            if left > 0 {
                out.push(Line {
                    product_id: Some(l.product_id.clone()),
                    name: l.name.clone(),
                    barcode: None,
                    lot: None,
                    expiry: None,
                    quantity: left,
                    reason: None,
                    action: None,
                    unexpected: false,
                    missing: true,
                    blocked: None,
                });
            }
        }
        out
    }

    fn to(&self, awaiting: Awaiting) -> Return {
        Return {
            awaiting,
            ..self.clone()
        }
    }

    fn stay(&self, feedback: Feedback) -> Step {
        Step {
            next: self.clone(),
            facts: Vec::new(),
            feedback,
        }
    }

    /// Takes an item in hand.
    fn take(&self, item: Item) -> Step {
        if item.units <= 0 {
            return self.stay(Feedback::error(Message::BadQuantity));
        }
        let name = item.name.clone();
        let quantity = item.units;
        let feedback = match &item.product_id {
            None => Feedback::warning(Message::UnknownItem {
                barcode: item.barcode.clone(),
            }),
            Some(p) if self.outstanding(p) < quantity => {
                Feedback::warning(Message::Unexpected { name, quantity })
            }
            Some(_) => Feedback::ok(Message::ChooseReason { name, quantity }),
        };
        Step {
            next: self.to(Awaiting::Reason(Hand { item, quantity })),
            facts: Vec::new(),
            feedback,
        }
    }

    /// Records `hand` returned for `reason` as `action`, split into what the order shipped and
    /// what is unexpected.
    fn record(&self, hand: &Hand, reason: Reason, action: Action, blocked: Option<Block>) -> Step {
        let item = &hand.item;
        let expected = match &item.product_id {
            Some(p) => self.outstanding(p).min(hand.quantity),
            None => 0,
        };
        let base = Line {
            product_id: item.product_id.clone(),
            name: item.name.clone(),
            barcode: item.product_id.is_none().then(|| item.barcode.clone()),
            lot: item.lot.clone(),
            expiry: item.expiry,
            quantity: 0,
            reason: Some(reason),
            action: Some(action),
            unexpected: false,
            missing: false,
            blocked,
        };
        let mut next = self.to(Awaiting::Items);
        let mut facts = Vec::new();
        for (quantity, unexpected) in [(expected, false), (hand.quantity - expected, true)] {
            if quantity <= 0 {
                continue;
            }
            let line = Line {
                quantity,
                unexpected,
                ..base.clone()
            };
            facts.push(Fact::Recorded(line.clone()));
            match next.lines.iter_mut().find(|l| l.same_kind(&line)) {
                Some(l) => l.quantity += quantity,
                None => next.lines.push(line),
            }
        }
        let name = item.name.clone();
        let feedback = match blocked {
            Some(block) => Feedback::warning(Message::RestockBlocked {
                name,
                block,
                action,
            }),
            None => Feedback::ok(Message::Recorded {
                name,
                quantity: hand.quantity,
                action,
            }),
        };
        Step {
            next,
            facts,
            feedback,
        }
    }

    fn reason(&self, hand: &Hand, reason: Reason) -> Step {
        let order = self.order.as_ref();
        let rules = order.map(|o| o.rules.as_slice()).unwrap_or_default();
        let product = hand.item.product_id.as_deref();
        if product.is_none() {
            return self.record(
                hand,
                reason,
                Action::Quarantine,
                Some(Block::UnknownProduct),
            );
        }
        match ruling(rules, reason, product) {
            Ruling::Forced(action) => {
                let refused =
                    reason.default_action() == Action::Restock && action != Action::Restock;
                self.record(hand, reason, action, refused.then_some(Block::MerchantRule))
            }
            Ruling::Suggested(action) => Step {
                next: self.to(Awaiting::Action(hand.clone(), reason, action)),
                facts: Vec::new(),
                feedback: Feedback::ok(Message::ChooseAction {
                    name: hand.item.name.clone(),
                    suggested: action,
                }),
            },
        }
    }

    fn finish(&self) -> Step {
        let lines: Vec<Line> = self.lines.iter().chain(&self.missing()).cloned().collect();
        let unexpected = lines.iter().filter(|l| l.unexpected).count();
        let missing = lines.iter().filter(|l| l.missing).map(|l| l.quantity).sum();
        let count = lines.len();
        Step {
            next: Return {
                lines: lines.clone(),
                ..self.to(Awaiting::Done)
            },
            facts: vec![Fact::Finished { lines }],
            feedback: Feedback::done(Message::Finished {
                lines: count,
                unexpected,
                missing,
            }),
        }
    }
}

impl Flow for Return {
    type Input = Input;
    type Fact = Fact;
    type Message = Message;

    fn step(&self, input: Input, _today: Date) -> Step {
        match (&self.awaiting, input) {
            (Awaiting::Done, _) => self.stay(Feedback::error(Message::Over)),
            (Awaiting::FindOrder, Input::Order(order)) => {
                let units = order.lines.iter().map(|l| l.quantity).sum();
                let reference = order.reference.clone();
                Step {
                    next: Return {
                        order: Some(order),
                        lines: Vec::new(),
                        awaiting: Awaiting::Items,
                    },
                    facts: Vec::new(),
                    feedback: Feedback::ok(Message::OrderFound { reference, units }),
                }
            }
            (_, Input::NotFound(code)) => self.stay(Feedback::error(Message::NotFound { code })),
            (Awaiting::FindOrder, _) => self.stay(Feedback::error(Message::ScanOrder)),
            (Awaiting::Items | Awaiting::Missing, Input::Item(item)) => self.take(item),
            (Awaiting::Items, Input::Finish) => {
                if self.lines.is_empty() {
                    return self.stay(Feedback::error(Message::NothingReturned));
                }
                if self.missing().is_empty() {
                    return self.finish();
                }
                let units = self.missing().iter().map(|l| l.quantity).sum();
                Step {
                    next: self.to(Awaiting::Missing),
                    facts: Vec::new(),
                    feedback: Feedback::warning(Message::ConfirmMissing { units }),
                }
            }
            (Awaiting::Missing, Input::Finish) => self.finish(),
            (Awaiting::Missing, Input::Cancel) => self
                .to(Awaiting::Items)
                .stay(Feedback::ok(Message::ScanItemFirst)),
            (Awaiting::Items, Input::Cancel) => self.stay(Feedback::ok(Message::ScanItemFirst)),
            (Awaiting::Items | Awaiting::Missing, _) => {
                self.stay(Feedback::error(Message::ScanItemFirst))
            }
            (Awaiting::Reason(hand), Input::Item(item)) => {
                let same = item.product_id == hand.item.product_id
                    && item.barcode == hand.item.barcode
                    && item.lot == hand.item.lot;
                if !same {
                    return self.stay(Feedback::error(Message::ChooseReasonFirst));
                }
                if item.units <= 0 {
                    return self.stay(Feedback::error(Message::BadQuantity));
                }
                let hand = Hand {
                    quantity: hand.quantity + item.units,
                    ..hand.clone()
                };
                let message = Message::ChooseReason {
                    name: hand.item.name.clone(),
                    quantity: hand.quantity,
                };
                self.to(Awaiting::Reason(hand)).stay(Feedback::ok(message))
            }
            (Awaiting::Reason(hand), Input::Quantity(n)) => {
                if n <= 0 || n > MAX_KEYPAD_QUANTITY {
                    return self.stay(Feedback::error(Message::BadQuantity));
                }
                let hand = Hand {
                    quantity: n,
                    ..hand.clone()
                };
                let message = Message::ChooseReason {
                    name: hand.item.name.clone(),
                    quantity: n,
                };
                self.to(Awaiting::Reason(hand)).stay(Feedback::ok(message))
            }
            (Awaiting::Reason(hand), Input::Reason(reason)) => self.reason(hand, reason),
            (Awaiting::Reason(hand), Input::Cancel) => {
                let name = hand.item.name.clone();
                self.to(Awaiting::Items)
                    .stay(Feedback::warning(Message::Cancelled { name }))
            }
            (Awaiting::Reason(_), _) => self.stay(Feedback::error(Message::ChooseReasonFirst)),
            (Awaiting::Action(hand, reason, _), Input::Action(action)) => {
                self.record(hand, *reason, action, None)
            }
            (Awaiting::Action(hand, _, _), Input::Cancel) => {
                let message = Message::ChooseReason {
                    name: hand.item.name.clone(),
                    quantity: hand.quantity,
                };
                self.to(Awaiting::Reason(hand.clone()))
                    .stay(Feedback::ok(message))
            }
            (Awaiting::Action(hand, _, suggested), _) => {
                self.stay(Feedback::error(Message::ChooseAction {
                    name: hand.item.name.clone(),
                    suggested: *suggested,
                }))
            }
        }
    }

    fn is_finished(&self) -> bool {
        self.awaiting == Awaiting::Done
    }
}

#[cfg(test)]
mod tests;

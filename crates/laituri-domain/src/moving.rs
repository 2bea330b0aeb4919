//! Moves inside the warehouse: a quantity of an item from one place to another, or a whole tote
//! or license plate to another location, as a state machine.
//!
//! Transitions (one job = one place the goods come from, then as many moves from it as wanted):
//! - `From`: a location that holds goods on the device's view -> `Item`. A tote or license plate
//!   that holds goods -> `To` with the whole container in hand. An empty place, an item or a
//!   quantity is answered with what to scan and changes nothing.
//! - `Item`: an item of the place puts one unit (or a case's pack) in hand, each further scan of
//!   the same goods one more, the keypad sets the quantity; a location (or a tote that stands
//!   somewhere) with goods in hand is where they went -> fact `Moved`, back to `Item` for what is
//!   left, or to `From` when the place is empty on the view. Without goods in hand a location
//!   or tote is a new place to move from. Cancel puts the goods in hand down (nothing recorded).
//! - `To`: a location -> fact `Moved` of every row of the container, keeping them in it -> `From`.
//!   Cancel -> `From`.
//!
//! Wrong scans (the place the goods are at, a picker's cart, an item that is not at the place,
//! an item of several lots without its lot) are answered with what to do next and record
//! nothing. Moving more than the device's view holds is allowed, with a warning: the view may
//! be behind the shelf, and physical reality wins on the server.

use crate::calendar::Date;
pub use crate::flow::Tone;
use crate::flow::{self, Flow};

/// Goods as one row of a place: everything that tells one stock row from another.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Goods {
    pub merchant_id: String,
    pub product_id: String,
    pub name: String,
    pub lot: Option<String>,
    pub expiry: Option<Date>,
    /// The goods' condition as the wire names it (`good`, `damaged`, ...): part of what they
    /// are, carried along unchanged.
    pub condition: String,
}

/// What a place holds of some goods, on the device's view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub goods: Goods,
    /// The tote or license plate the goods are in at the place, if any.
    pub container: Option<String>,
    pub quantity: i64,
}

/// A scanned place, as the caller found it in master data and its local stock view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The location's code, or for a tote the location it stands at.
    pub location: String,
    /// The tote or license plate scanned, if it was one.
    pub container: Option<String>,
    /// Goods on a picker's cart: they move with their pick task only.
    pub in_transit: bool,
    /// What it holds now on the device's view.
    pub rows: Vec<Row>,
}

impl Place {
    fn name(&self) -> String {
        self.container
            .clone()
            .unwrap_or_else(|| self.location.clone())
    }
}

/// An item scanned, already matched to a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemScan {
    pub merchant_id: String,
    pub product_id: String,
    pub name: String,
    /// Units the scan stands for (a case code counts its pack).
    pub units: i64,
    /// From a GS1 label, when it carried one: picks the row of that lot.
    pub lot: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A location or a tote label, with what the caller read of it.
    Place(Place),
    /// A tote label whose location the device does not know (it holds nothing on the view).
    EmptyContainer(String),
    Item(ItemScan),
    /// Keypad: this many units are in hand.
    Quantity(i64),
    /// A code that is neither a place nor a product known to the device.
    Unknown(String),
    Cancel,
}

/// One row's part of a move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveLine {
    pub goods: Goods,
    pub quantity: i64,
    pub from_location: String,
    pub from_container: Option<String>,
    pub to_location: String,
    pub to_container: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// Goods went from one place to another; `container` when a whole tote moved.
    Moved {
        container: Option<String>,
        lines: Vec<MoveLine>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Scan the location or tote the goods are at.
    ScanFrom,
    /// Scan an item of `place` (or another place).
    ScanItem {
        place: String,
    },
    /// `quantity` of `name` in hand: scan where they go.
    ScanTo {
        name: String,
        quantity: i64,
    },
    /// The whole tote is in hand: scan the location it goes to.
    ScanToWhole {
        container: String,
        units: i64,
    },
    /// Recorded.
    Moved {
        name: String,
        quantity: i64,
        to: String,
    },
    MovedWhole {
        container: String,
        to: String,
    },
    /// More in hand than the view says the place holds: allowed, said.
    MoreThanKnown {
        name: String,
        quantity: i64,
        known: i64,
        place: String,
    },
    /// The place holds nothing on the device's view.
    NothingHere {
        place: String,
    },
    /// The item is not at the place on the device's view.
    NotHere {
        name: String,
        place: String,
    },
    /// The place holds several lots of the item: scan the lot's label.
    WhichLot {
        name: String,
    },
    /// The goods are already at the scanned place.
    SamePlace {
        place: String,
    },
    /// Goods on a picker's cart move with their pick task.
    InTransit,
    /// An item before the place it is at.
    PlaceFirst,
    /// A quantity with nothing in hand, or below 1.
    NoQuantity,
    /// A tote whose place the device does not know, where a destination is wanted.
    ToteNowhere {
        container: String,
    },
    Unknown {
        code: String,
    },
    /// Cancel: the goods in hand were put down.
    Cancelled,
}

type Step = flow::Step<Moving, Fact, Message>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Awaiting {
    From,
    Item,
    To,
}

/// A move job: where the goods come from and what is in hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moving {
    awaiting: Awaiting,
    from: Option<Place>,
    /// The row in hand and how many of it (`Item`), or `None`.
    hand: Option<(Row, i64)>,
}

impl Default for Moving {
    fn default() -> Self {
        Moving::new()
    }
}

impl Moving {
    pub fn new() -> Moving {
        Moving {
            awaiting: Awaiting::From,
            from: None,
            hand: None,
        }
    }

    /// The place the goods come from, once scanned.
    pub fn from(&self) -> Option<&Place> {
        self.from.as_ref()
    }

    /// The goods in hand and how many, while moving part of a place.
    pub fn in_hand(&self) -> Option<(&Goods, i64)> {
        self.hand.as_ref().map(|(r, q)| (&r.goods, *q))
    }

    /// True while a whole tote is in hand.
    pub fn whole_container(&self) -> Option<&str> {
        match self.awaiting {
            Awaiting::To => self.from.as_ref().and_then(|p| p.container.as_deref()),
            _ => None,
        }
    }

    /// What to scan now.
    pub fn prompt(&self) -> Message {
        match (&self.awaiting, &self.from, &self.hand) {
            (Awaiting::To, Some(p), _) => Message::ScanToWhole {
                container: p.name(),
                units: p.rows.iter().map(|r| r.quantity.max(0)).sum(),
            },
            (Awaiting::Item, _, Some((row, q))) => Message::ScanTo {
                name: row.goods.name.clone(),
                quantity: *q,
            },
            (Awaiting::Item, Some(p), None) => Message::ScanItem { place: p.name() },
            _ => Message::ScanFrom,
        }
    }

    fn stay(&self, tone: Tone, message: Message) -> Step {
        Step {
            next: self.clone(),
            facts: Vec::new(),
            feedback: flow::Feedback { tone, message },
        }
    }

    fn to(next: Moving, tone: Tone, message: Message) -> Step {
        Step {
            next,
            facts: Vec::new(),
            feedback: flow::Feedback { tone, message },
        }
    }

    pub fn step(&self, input: Input, _today: Date) -> Step {
        match input {
            Input::Cancel => match self.awaiting {
                Awaiting::From => self.stay(Tone::Ok, Message::ScanFrom),
                Awaiting::Item if self.hand.is_some() => {
                    let next = Moving {
                        hand: None,
                        ..self.clone()
                    };
                    Self::to(next, Tone::Warning, Message::Cancelled)
                }
                _ => Self::to(Moving::new(), Tone::Warning, Message::Cancelled),
            },
            Input::Unknown(code) => self.stay(Tone::Error, Message::Unknown { code }),
            Input::Quantity(n) => match &self.hand {
                Some((row, _)) if n > 0 => {
                    let next = Moving {
                        hand: Some((row.clone(), n)),
                        ..self.clone()
                    };
                    let feedback = self.more_than_known(row, n);
                    Self::to(
                        next.clone(),
                        feedback.0,
                        feedback.1.unwrap_or(next.prompt()),
                    )
                }
                _ => self.stay(Tone::Error, Message::NoQuantity),
            },
            Input::Item(item) => self.item(item),
            Input::EmptyContainer(container) => match (&self.awaiting, &self.hand) {
                (Awaiting::To, _) | (Awaiting::Item, Some(_)) => {
                    self.stay(Tone::Error, Message::ToteNowhere { container })
                }
                _ => self.stay(Tone::Error, Message::NothingHere { place: container }),
            },
            Input::Place(place) => self.place(place),
        }
    }

    /// `(tone, message)` for `n` of `row` in hand: a warning past what the view holds.
    fn more_than_known(&self, row: &Row, n: i64) -> (Tone, Option<Message>) {
        if n > row.quantity {
            (
                Tone::Warning,
                Some(Message::MoreThanKnown {
                    name: row.goods.name.clone(),
                    quantity: n,
                    known: row.quantity.max(0),
                    place: self.from.as_ref().map(Place::name).unwrap_or_default(),
                }),
            )
        } else {
            (Tone::Ok, None)
        }
    }

    fn item(&self, item: ItemScan) -> Step {
        let Some(from) = self
            .from
            .as_ref()
            .filter(|_| self.awaiting == Awaiting::Item)
        else {
            return match self.awaiting {
                Awaiting::To => self.stay(Tone::Error, self.prompt()),
                _ => self.stay(Tone::Error, Message::PlaceFirst),
            };
        };
        // Another scan of the goods in hand adds to them.
        if let Some((row, q)) = &self.hand
            && row.goods.merchant_id == item.merchant_id
            && row.goods.product_id == item.product_id
            && item
                .lot
                .as_ref()
                .is_none_or(|l| row.goods.lot.as_ref() == Some(l))
        {
            let n = q.saturating_add(item.units.max(1));
            let next = Moving {
                hand: Some((row.clone(), n)),
                ..self.clone()
            };
            let (tone, said) = self.more_than_known(row, n);
            return Self::to(next.clone(), tone, said.unwrap_or(next.prompt()));
        }
        if self.hand.is_some() {
            // Other goods while some are in hand: one kind of goods moves at a time.
            return self.stay(Tone::Error, self.prompt());
        }
        let rows: Vec<&Row> = from
            .rows
            .iter()
            .filter(|r| {
                r.quantity > 0
                    && r.goods.merchant_id == item.merchant_id
                    && r.goods.product_id == item.product_id
                    && item
                        .lot
                        .as_ref()
                        .is_none_or(|l| r.goods.lot.as_ref() == Some(l))
            })
            .collect();
        let row = match rows.as_slice() {
            [] => {
                return self.stay(
                    Tone::Error,
                    Message::NotHere {
                        name: item.name,
                        place: from.name(),
                    },
                );
            }
            [one] => (*one).clone(),
            [first, rest @ ..] => {
                // Several rows of one lot (loose and in a tote, or several conditions) are one
                // choice only when they are the same goods; several lots need the lot's label.
                if rest.iter().any(|r| r.goods.lot != first.goods.lot) {
                    return self.stay(Tone::Error, Message::WhichLot { name: item.name });
                }
                (*first).clone()
            }
        };
        let n = item.units.max(1);
        let next = Moving {
            hand: Some((row.clone(), n)),
            ..self.clone()
        };
        let (tone, said) = self.more_than_known(&row, n);
        Self::to(next.clone(), tone, said.unwrap_or(next.prompt()))
    }

    fn place(&self, place: Place) -> Step {
        if place.in_transit {
            return self.stay(Tone::Error, Message::InTransit);
        }
        match (&self.awaiting, &self.hand) {
            (Awaiting::To, _) => self.whole_to(place),
            (Awaiting::Item, Some(_)) => self.part_to(place),
            _ => Self::start(place),
        }
    }

    /// A new place to move from.
    fn start(place: Place) -> Step {
        if !place.rows.iter().any(|r| r.quantity > 0) {
            let name = place.name();
            return Self::to(
                Moving::new(),
                Tone::Error,
                Message::NothingHere { place: name },
            );
        }
        let awaiting = if place.container.is_some() {
            Awaiting::To
        } else {
            Awaiting::Item
        };
        let next = Moving {
            awaiting,
            from: Some(place),
            hand: None,
        };
        let prompt = next.prompt();
        Self::to(next, Tone::Ok, prompt)
    }

    fn whole_to(&self, to: Place) -> Step {
        let Some(from) = &self.from else {
            return Self::start(to);
        };
        if to.container.is_some() {
            // A tote into a tote is not a move this flow knows: it goes to a location.
            return self.stay(Tone::Error, self.prompt());
        }
        if to.location == from.location {
            return self.stay(
                Tone::Error,
                Message::SamePlace {
                    place: to.location.clone(),
                },
            );
        }
        let lines = from
            .rows
            .iter()
            .filter(|r| r.quantity > 0)
            .map(|r| MoveLine {
                goods: r.goods.clone(),
                quantity: r.quantity,
                from_location: from.location.clone(),
                from_container: r.container.clone(),
                to_location: to.location.clone(),
                to_container: r.container.clone(),
            })
            .collect();
        let container = from.name();
        Step {
            next: Moving::new(),
            facts: vec![Fact::Moved {
                container: Some(container.clone()),
                lines,
            }],
            feedback: flow::Feedback::done(Message::MovedWhole {
                container,
                to: to.location,
            }),
        }
    }

    fn part_to(&self, to: Place) -> Step {
        let (Some(from), Some((row, n))) = (&self.from, &self.hand) else {
            return Self::start(to);
        };
        if to.location == from.location && to.container == row.container {
            return self.stay(Tone::Error, Message::SamePlace { place: to.name() });
        }
        let line = MoveLine {
            goods: row.goods.clone(),
            quantity: *n,
            from_location: from.location.clone(),
            from_container: row.container.clone(),
            to_location: to.location.clone(),
            to_container: to.container.clone(),
        };
        // What is left at the place on the view.
        let mut left = from.clone();
        for r in left.rows.iter_mut() {
            if r == row {
                r.quantity -= n;
            }
        }
        left.rows.retain(|r| r.quantity > 0);
        let next = if left.rows.is_empty() {
            Moving::new()
        } else {
            Moving {
                awaiting: Awaiting::Item,
                from: Some(left),
                hand: None,
            }
        };
        Step {
            next,
            facts: vec![Fact::Moved {
                container: None,
                lines: vec![line],
            }],
            feedback: flow::Feedback::ok(Message::Moved {
                name: row.goods.name.clone(),
                quantity: *n,
                to: to.name(),
            }),
        }
    }
}

impl Flow for Moving {
    type Input = Input;
    type Fact = Fact;
    type Message = Message;

    fn step(&self, input: Input, today: Date) -> Step {
        Moving::step(self, input, today)
    }

    /// Nothing is in hand (a place may be scanned): the job holds nothing half-done, and
    /// another job may start.
    fn is_finished(&self) -> bool {
        self.hand.is_none() && self.awaiting != Awaiting::To
    }
}

#[cfg(test)]
mod tests;

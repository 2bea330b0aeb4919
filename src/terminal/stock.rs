//! Stock look-up and moves: "what is in this bin", "where is this item", and goods moved from
//! one place to another.
//!
//! The look-up reads the device's local stock view (`store::stock`): the levels it pulled plus
//! its own moves the server has not shown back yet, so it works offline and says how old the
//! pulled part is. Rows that hold such own moves are marked as saved on the device. Point
//! look-ups on indexes only, each bounded by `PLACE_ROWS`.
//!
//! The move controller steps [`laituri_domain::moving`] through [`super::seam::advance`], like
//! every flow: a location, tote or item scanned is read with [`super::recognise`] and the place's
//! rows from the local view; a move is one `stock_moved` event. Nothing of a move is half-done
//! across a restart (the goods in hand are not recorded until the destination is scanned), so it
//! needs no open-job record: a move job left open simply starts again from "scan the place".

use laituri_domain::calendar::Date;
use laituri_domain::moving::{
    Fact, Goods, Input, ItemScan, Message, MoveLine, Moving, Place as DomainPlace, Row,
};
use laituri_domain::scan::Scan;
use laituri_protocol::{EventBody, GoodsCondition, IN_TRANSIT, Place, StockMove};
use uuid::Uuid;

use super::messages::Text;
use super::recognise::{Label, recognise};
use super::{CoreConfig, Reply, Tone};
use crate::store::{LineState, StockRowLocal, Store, StoreError};

/// How many recent moves the move screen lists.
pub const RECENT_LINES: u32 = 30;

/// What was looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Location(String),
    Container(String),
    /// A product (of every merchant whose barcode it is), by name.
    Product(String),
}

/// One row of a look-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupRow {
    /// Where: the location, and the tote at it ("A-01-02", "DOCK-1 · T-0001").
    pub place: String,
    pub product: String,
    pub merchant: String,
    pub lot: Option<String>,
    pub expiry: Option<String>,
    pub condition: GoodsCondition,
    pub quantity: i64,
    /// Part of `quantity` that is this device's moves not yet confirmed by the server.
    pub pending: i64,
}

/// The answer to a look-up scan, as the stock screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub subject: Subject,
    pub rows: Vec<LookupRow>,
    /// A place (location or tote) that goods can be moved from.
    pub movable: bool,
}

fn place_of(r: &StockRowLocal) -> String {
    match &r.container {
        Some(c) => format!("{} · {c}", r.location),
        None => r.location.clone(),
    }
}

/// The rows as the screen shows them. Names are looked up once per product and merchant: a
/// product's places are many rows of one product, a bin's rows mostly one merchant's.
fn rows_of(store: &Store, rows: Vec<StockRowLocal>) -> Result<Vec<LookupRow>, StoreError> {
    let mut products = std::collections::HashMap::new();
    let mut merchants = std::collections::HashMap::new();
    let named = |cache: &mut std::collections::HashMap<String, String>,
                 id: &str,
                 look: &dyn Fn(&str) -> Result<String, StoreError>|
     -> Result<String, StoreError> {
        if let Some(name) = cache.get(id) {
            return Ok(name.clone());
        }
        let name = look(id)?;
        cache.insert(id.to_string(), name.clone());
        Ok(name)
    };
    rows.into_iter()
        .filter(|r| r.quantity != 0)
        .map(|r| {
            Ok(LookupRow {
                place: place_of(&r),
                product: named(&mut products, &r.product_id, &|id| store.product_label(id))?,
                merchant: named(&mut merchants, &r.merchant_id, &|id| {
                    store.merchant_label(id)
                })?,
                lot: r.lot,
                expiry: r.expiry,
                condition: r.condition,
                quantity: r.quantity,
                pending: r.pending,
            })
        })
        .collect()
}

/// Looks up what a scan names: a location's contents, a tote's, or the places of a product.
pub fn look_up(store: &Store, config: &CoreConfig, scan: &Scan) -> Result<Lookup, Reply> {
    let lookup = match recognise(store, config, scan)? {
        Label::Location(loc) => Lookup {
            rows: rows_of(store, store.location_contents(&loc.code)?)?,
            subject: Subject::Location(loc.code),
            movable: true,
        },
        Label::Container(c) => Lookup {
            rows: rows_of(store, store.container_contents(&c)?)?,
            subject: Subject::Container(c),
            movable: true,
        },
        Label::Product { matches, .. } => {
            let mut rows = Vec::new();
            for m in &matches {
                rows.extend(rows_of(
                    store,
                    store.product_places(&m.merchant_id, &m.product_id)?,
                )?);
            }
            Lookup {
                subject: Subject::Product(matches[0].name.clone()),
                rows,
                movable: false,
            }
        }
        Label::Unreadable(why) => return Err(Reply::new(Tone::Error, Text::Unreadable { why })),
        Label::Badge(_) | Label::Notice(_) | Label::Unknown(_) => {
            return Err(Reply::new(
                Tone::Error,
                Text::NotStock {
                    code: scan.text().unwrap_or(&scan.data).trim().to_string(),
                },
            ));
        }
    };
    Ok(lookup)
}

/// Buttons and keypad entries of the move screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Quantity(i64),
    Cancel,
}

/// What the move screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveView {
    pub prompt: Message,
    /// The place the goods come from ("" before one is scanned).
    pub from: String,
    /// The goods in hand and how many, or the whole tote.
    pub in_hand: Option<(String, i64)>,
    pub whole: Option<String>,
    /// What the place holds on the device's view: name, lot, units.
    pub rows: Vec<(String, Option<String>, i64)>,
}

pub struct MoveController {
    job: Moving,
}

fn goods_of(store: &Store, r: &StockRowLocal) -> Result<Goods, StoreError> {
    Ok(Goods {
        merchant_id: r.merchant_id.clone(),
        product_id: r.product_id.clone(),
        name: store.product_label(&r.product_id)?,
        lot: r.lot.clone(),
        expiry: r.expiry.as_deref().and_then(Date::parse_iso),
        condition: r.condition.as_str().to_string(),
    })
}

fn domain_rows(store: &Store, rows: &[StockRowLocal]) -> Result<Vec<Row>, StoreError> {
    rows.iter()
        .filter(|r| r.quantity > 0)
        .map(|r| {
            Ok(Row {
                goods: goods_of(store, r)?,
                container: r.container.clone(),
                quantity: r.quantity,
            })
        })
        .collect()
}

impl Default for MoveController {
    fn default() -> Self {
        MoveController::new()
    }
}

impl MoveController {
    pub fn new() -> MoveController {
        MoveController { job: Moving::new() }
    }

    fn prompt_reply(&self) -> Reply {
        Reply::new(Tone::Ok, Text::Moving(self.job.prompt()))
    }

    /// The input a scan is on this device, with the rows of a place read from the local view.
    fn input(&self, store: &Store, config: &CoreConfig, scan: &Scan) -> Result<Input, Reply> {
        Ok(match recognise(store, config, scan)? {
            Label::Location(loc) => {
                let rows = store.location_contents(&loc.code)?;
                Input::Place(DomainPlace {
                    in_transit: loc.kind == "transit" || loc.code == IN_TRANSIT,
                    rows: domain_rows(store, &rows)?,
                    location: loc.code,
                    container: None,
                })
            }
            Label::Container(c) => {
                let rows = store.container_contents(&c)?;
                // A tote stands where its goods are.
                match rows.iter().find(|r| r.quantity > 0) {
                    Some(first) => Input::Place(DomainPlace {
                        location: first.location.clone(),
                        in_transit: first.location == IN_TRANSIT,
                        rows: domain_rows(store, &rows)?,
                        container: Some(c),
                    }),
                    None => Input::EmptyContainer(c),
                }
            }
            Label::Product { matches, .. } => {
                // The product of the place's merchant when the barcode is shared.
                let merchant = self
                    .job
                    .from()
                    .and_then(|p| p.rows.first())
                    .map(|r| r.goods.merchant_id.clone());
                let m = super::recognise::of_merchant(&matches, merchant.as_deref());
                Input::Item(ItemScan {
                    merchant_id: m.merchant_id.clone(),
                    product_id: m.product_id.clone(),
                    name: m.name.clone(),
                    units: super::recognise::units(m, scan),
                    lot: scan.lot().map(str::to_string),
                })
            }
            Label::Unreadable(why) => {
                return Err(Reply::new(Tone::Error, Text::Unreadable { why }));
            }
            Label::Badge(_) | Label::Notice(_) | Label::Unknown(_) => {
                Input::Unknown(scan.text().unwrap_or(&scan.data).trim().to_string())
            }
        })
    }

    fn apply(&mut self, store: &mut Store, operator: &str, input: Input, today: Date) -> Reply {
        let result = super::seam::advance(&mut self.job, input, today, |facts| {
            record(store, operator, facts)
        });
        match result {
            Ok(feedback) => Reply::new(feedback.tone, Text::Moving(feedback.message)),
            Err(e) => e.into(),
        }
    }

    pub fn scan(
        &mut self,
        store: &mut Store,
        config: &CoreConfig,
        operator: &str,
        scan: &Scan,
        today: Date,
    ) -> Reply {
        match self.input(store, config, scan) {
            Ok(input) => self.apply(store, operator, input, today),
            Err(reply) => reply,
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
            Action::Cancel => Input::Cancel,
        };
        self.apply(store, operator, input, today)
    }

    /// Starts the job from a place looked up on the stock screen, as if it had been scanned.
    pub fn start_from(
        &mut self,
        store: &mut Store,
        config: &CoreConfig,
        operator: &str,
        scan: &Scan,
        today: Date,
    ) -> Reply {
        self.job = Moving::new();
        let reply = self.scan(store, config, operator, scan, today);
        if reply.tone == Tone::Ok {
            self.prompt_reply()
        } else {
            reply
        }
    }

    /// This device's recent moves, newest first, each with where its event stands: ("2 ×
    /// Oat drink 1 l", "A-01 → A-02"). Bounded by [`RECENT_LINES`].
    pub fn recent(&self, store: &Store) -> Vec<(String, String, LineState)> {
        let events = store
            .recent_events("stock_moved", RECENT_LINES)
            .unwrap_or_default();
        let mut out = Vec::new();
        for (body, state) in events {
            let EventBody::StockMoved {
                container, moves, ..
            } = body
            else {
                continue;
            };
            let place = |p: &Option<Place>| {
                p.as_ref()
                    .map(|p| match (&p.container, &container) {
                        (Some(c), None) => format!("{} · {c}", p.location),
                        _ => p.location.clone(),
                    })
                    .unwrap_or_default()
            };
            if let (Some(c), Some(first)) = (&container, moves.first()) {
                let units: i64 = moves.iter().map(|m| m.quantity).sum();
                out.push((
                    format!("{c} ({units})"),
                    format!("{} → {}", place(&first.from), place(&first.to)),
                    state,
                ));
                continue;
            }
            for m in moves {
                let name = store
                    .product_label(&m.product_id)
                    .unwrap_or_else(|_| m.product_id.clone());
                out.push((
                    format!("{} × {name}", m.quantity),
                    format!("{} → {}", place(&m.from), place(&m.to)),
                    state,
                ));
            }
        }
        out
    }

    pub fn view(&self) -> MoveView {
        let from = self.job.from();
        MoveView {
            prompt: self.job.prompt(),
            from: from
                .map(|p| p.container.clone().unwrap_or_else(|| p.location.clone()))
                .unwrap_or_default(),
            in_hand: self.job.in_hand().map(|(g, n)| (g.name.clone(), n)),
            whole: self.job.whole_container().map(str::to_string),
            rows: from
                .map(|p| {
                    p.rows
                        .iter()
                        .map(|r| (r.goods.name.clone(), r.goods.lot.clone(), r.quantity))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

fn wire_move(l: &MoveLine) -> StockMove {
    StockMove {
        merchant_id: l.goods.merchant_id.clone(),
        product_id: l.goods.product_id.clone(),
        quantity: l.quantity,
        lot: l.goods.lot.clone(),
        expiry: l.goods.expiry.map(|d| d.to_string()),
        serial: None,
        condition: GoodsCondition::parse(&l.goods.condition).unwrap_or(GoodsCondition::Good),
        from: Some(Place {
            location: l.from_location.clone(),
            container: l.from_container.clone(),
        }),
        to: Some(Place {
            location: l.to_location.clone(),
            container: l.to_container.clone(),
        }),
        reason: None,
    }
}

/// Writes one step's facts in one transaction.
fn record(store: &mut Store, operator: &str, facts: &[Fact]) -> Result<(), StoreError> {
    let bodies: Vec<EventBody> = facts
        .iter()
        .map(|Fact::Moved { container, lines }| EventBody::StockMoved {
            move_id: Uuid::now_v7(),
            container: container.clone(),
            moves: lines.iter().map(wire_move).collect(),
        })
        .collect();
    store.append_events(operator, &bodies)?;
    Ok(())
}

impl super::job::Job for MoveController {
    fn screen(&self) -> super::Screen {
        super::Screen::Move
    }

    fn name(&self) -> String {
        self.view().from
    }

    fn is_finished(&self) -> bool {
        use laituri_domain::flow::Flow;
        self.job.is_finished()
    }

    fn scan(&mut self, cx: &mut super::job::JobCtx, scan: &Scan) -> Reply {
        MoveController::scan(self, cx.store, cx.config, cx.operator, scan, cx.today)
    }
}

//! The returns controller: a customer's returned parcel taken in at the returns desk, offline.
//!
//! The order is found on the device, among the shipped orders the server published
//! (`store/returns.rs`): by the return label's or a parcel's tracking code, the order number,
//! or the customer's name typed and ended with Enter. Items are read with
//! [`super::recognise`]; a barcode that is no product of the order's merchant is taken as an
//! unknown item, never dropped. The merchant's rules travel with the merchant and decide offline
//! ([`laituri_domain::returns`]). The whole return is recorded at its finish as one
//! `return_received` event, with the moves that bring its goods in: restocked goods into the
//! returns tote at the desk (a putaway task follows on the server), the rest to quarantine, to
//! the desk for the merchant, or in and out again when disposed of. The customer's name is shown
//! on the screen while the order is found and is never written into an event or a log.
//!
//! A return in progress is not journaled: a terminal that stops in the middle has recorded
//! nothing of it, and the return is taken again.

use laituri_domain::calendar::Date;
use laituri_domain::flow::Flow;
use laituri_domain::returns::{
    Action as Disposition, Block, Expect, Fact, Input, Item, Line, Message, Order, Reason, Return,
    Rule, Shipped,
};
use laituri_domain::scan::Scan;
use laituri_protocol::{
    EventBody, GoodsCondition, Place, RestockBlock, ReturnAction, ReturnReason, ReturnRule,
    ReturnableOrder, ReturnedLine, StockMove, recorded_scan,
};
use uuid::Uuid;

use super::messages::Text;
use super::recognise::{Label, recognise};
use super::{CoreConfig, Reply, Tone};
use crate::store::{Store, StoreError, now_ms};

/// Buttons of the returns screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Reason(Reason),
    Disposition(Disposition),
    Cancel,
    Finish,
}

/// What the returns screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnsView {
    /// The order's number, and the customer's name while the return is open.
    pub reference: String,
    pub customer: Option<String>,
    pub expects: Expect,
    pub prompt: Message,
    /// The disposition preselected for the item in hand.
    pub suggested: Option<Disposition>,
    pub tote: Option<String>,
    pub finished: bool,
}

pub struct ReturnsController {
    job: Return,
    return_id: Uuid,
    /// The returns desk: where goods come in.
    desk: String,
    quarantine: String,
    tote: Option<String>,
    customer: Option<String>,
}

pub fn reason_to_wire(r: Reason) -> ReturnReason {
    match r {
        Reason::Unwanted => ReturnReason::Unwanted,
        Reason::Defective => ReturnReason::Defective,
        Reason::WrongItem => ReturnReason::WrongItem,
        Reason::Undeliverable => ReturnReason::Undeliverable,
    }
}

fn reason_from_wire(r: ReturnReason) -> Reason {
    match r {
        ReturnReason::Unwanted => Reason::Unwanted,
        ReturnReason::Defective => Reason::Defective,
        ReturnReason::WrongItem => Reason::WrongItem,
        ReturnReason::Undeliverable => Reason::Undeliverable,
    }
}

pub fn action_to_wire(a: Disposition) -> ReturnAction {
    match a {
        Disposition::Restock => ReturnAction::Restock,
        Disposition::Quarantine => ReturnAction::Quarantine,
        Disposition::Dispose => ReturnAction::Dispose,
        Disposition::BackToMerchant => ReturnAction::BackToMerchant,
    }
}

fn action_from_wire(a: ReturnAction) -> Disposition {
    match a {
        ReturnAction::Restock => Disposition::Restock,
        ReturnAction::Quarantine => Disposition::Quarantine,
        ReturnAction::Dispose => Disposition::Dispose,
        ReturnAction::BackToMerchant => Disposition::BackToMerchant,
    }
}

fn rule_from_wire(r: &ReturnRule) -> Rule {
    Rule {
        reason: r.reason.map(reason_from_wire),
        products: r.products.clone(),
        action: action_from_wire(r.action),
        forced: r.forced,
    }
}

fn line_to_wire(l: &Line) -> ReturnedLine {
    ReturnedLine {
        product_id: l.product_id.clone(),
        barcode: l.barcode.as_deref().map(recorded_scan),
        lot: l.lot.clone(),
        expiry: l.expiry.map(|d| d.to_string()),
        quantity: l.quantity,
        reason: l.reason.map(reason_to_wire),
        action: l.action.map(action_to_wire),
        unexpected: l.unexpected,
        missing: l.missing,
        blocked: l.blocked.map(|b| match b {
            Block::UnknownProduct => RestockBlock::UnknownProduct,
            Block::MerchantRule => RestockBlock::MerchantRule,
        }),
    }
}

/// How one returned line's goods come in: restocked into the tote at the desk, quarantined (or
/// blocked) to quarantine, for the merchant at the desk, disposed of in and out at the desk.
/// Unknown items (no product) and missing lines move nothing.
fn moves_of(
    merchant: &str,
    desk: &str,
    tote: Option<&str>,
    quarantine: &str,
    line: &Line,
) -> Vec<StockMove> {
    let (Some(product), Some(action), false) = (&line.product_id, line.action, line.missing) else {
        return Vec::new();
    };
    let came = |condition, to: Place| StockMove {
        merchant_id: merchant.to_string(),
        product_id: product.clone(),
        quantity: line.quantity,
        lot: line.lot.clone(),
        expiry: line.expiry.map(|d| d.to_string()),
        serial: None,
        condition,
        from: None,
        to: Some(to),
        reason: None,
    };
    match action {
        Disposition::Restock => {
            let to = match tote {
                Some(t) => Place::in_container(desk, t),
                None => Place::at(desk),
            };
            vec![came(GoodsCondition::Good, to)]
        }
        Disposition::Quarantine => vec![came(GoodsCondition::Damaged, Place::at(quarantine))],
        Disposition::BackToMerchant => vec![came(GoodsCondition::Damaged, Place::at(desk))],
        Disposition::Dispose => {
            let inn = came(GoodsCondition::Damaged, Place::at(desk));
            let out = StockMove {
                from: Some(Place::at(desk)),
                to: None,
                reason: Some("disposed".into()),
                ..inn.clone()
            };
            vec![inn, out]
        }
    }
}

impl ReturnsController {
    /// Finds the order a scan or typed text names among the returnable orders on the device and
    /// starts its return; a reply when none (or several) match.
    pub fn start(
        store: &Store,
        config: &CoreConfig,
        scan: &Scan,
        now_ms: i64,
        today: Date,
    ) -> Result<(ReturnsController, Reply), Reply> {
        let typed = scan.text().unwrap_or(&scan.data).trim().to_string();
        let found = match store.returnable_by_code(&typed, now_ms)? {
            Some(o) => o,
            None => {
                let mut named = store.returnables_by_name(&typed, now_ms)?;
                match named.len() {
                    1 => named.remove(0),
                    0 => {
                        return Err(Reply::new(
                            Tone::Error,
                            Text::Returns(Message::NotFound {
                                code: recorded_scan(&typed),
                            }),
                        ));
                    }
                    count => return Err(Reply::new(Tone::Warning, Text::ReturnOrders { count })),
                }
            }
        };
        let order = Self::order(store, &found)?;
        let quarantine = store
            .first_location_of_kind("quarantine")?
            .unwrap_or_else(|| "QUARANTINE".to_string());
        let step = Return::new().step(Input::Order(order), today);
        let ctrl = ReturnsController {
            job: step.next,
            return_id: Uuid::now_v7(),
            desk: config.dock.clone(),
            quarantine,
            tote: None,
            customer: found.customer_name.clone(),
        };
        let reply = Reply::new(step.feedback.tone, Text::Returns(step.feedback.message));
        Ok((ctrl, reply))
    }

    /// The order as the state machine takes it: names of its products, the merchant's rules.
    fn order(store: &Store, found: &ReturnableOrder) -> Result<Order, StoreError> {
        let mut lines = Vec::new();
        for l in &found.lines {
            let name = store.product_label(&l.product_id)?;
            lines.push(Shipped {
                product_id: l.product_id.clone(),
                name,
                quantity: l.quantity,
            });
        }
        let rules = store
            .merchant(&found.merchant_id)?
            .map(|m| m.return_rules.iter().map(rule_from_wire).collect())
            .unwrap_or_default();
        Ok(Order {
            order_id: found.order_id.to_string(),
            reference: found.reference.clone(),
            merchant_id: found.merchant_id.clone(),
            lines,
            rules,
        })
    }

    pub fn is_finished(&self) -> bool {
        self.job.is_finished()
    }

    fn merchant(&self) -> String {
        self.job
            .order()
            .map(|o| o.merchant_id.clone())
            .unwrap_or_default()
    }

    fn apply(&mut self, store: &mut Store, operator: &str, input: Input, today: Date) -> Reply {
        let Some(order) = self.job.order().cloned() else {
            return Reply::new(Tone::Error, Text::Returns(Message::ScanOrder));
        };
        let event = |lines: &[Line]| -> Result<EventBody, StoreError> {
            let order_id = Uuid::parse_str(&order.order_id)
                .map_err(|e| StoreError::Data(format!("order id: {e}")))?;
            Ok(EventBody::ReturnReceived {
                return_id: self.return_id,
                order_id,
                merchant_id: order.merchant_id.clone(),
                location: self.desk.clone(),
                tote: self.tote.clone(),
                lines: lines.iter().map(line_to_wire).collect(),
                moves: lines
                    .iter()
                    .flat_map(|l| {
                        moves_of(
                            &order.merchant_id,
                            &self.desk,
                            self.tote.as_deref(),
                            &self.quarantine,
                            l,
                        )
                    })
                    .collect(),
            })
        };
        let mut job = self.job.clone();
        let result = super::seam::advance(&mut job, input, today, |facts| {
            for f in facts {
                if let Fact::Finished { lines } = f {
                    let body = event(lines)?;
                    store.append_events_closing_job(operator, &[body], false)?;
                }
            }
            Ok(())
        });
        self.job = job;
        match result {
            Ok(feedback) => {
                if self.job.is_finished() {
                    // The name leaves the screen with the finished return.
                    self.customer = None;
                }
                Reply::new(feedback.tone, Text::Returns(feedback.message))
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
            Action::Reason(r) => Input::Reason(r),
            Action::Disposition(a) => Input::Action(a),
            Action::Cancel => Input::Cancel,
            Action::Finish => {
                let restocks = self
                    .job
                    .lines()
                    .iter()
                    .any(|l| l.action == Some(Disposition::Restock) && l.product_id.is_some());
                if restocks && self.tote.is_none() && !self.job.is_finished() {
                    return Reply::new(Tone::Error, Text::ReturnNeedsTote);
                }
                Input::Finish
            }
        };
        self.apply(store, operator, input, today)
    }

    pub fn scan(
        &mut self,
        store: &mut Store,
        config: &CoreConfig,
        operator: &str,
        scan: &Scan,
        today: Date,
    ) -> Reply {
        let merchant = self.merchant();
        let unknown = |raw: &str| {
            let kept = recorded_scan(raw.trim());
            Input::Item(Item {
                product_id: None,
                name: kept.clone(),
                barcode: kept,
                units: 1,
                lot: None,
                expiry: None,
            })
        };
        let input = match recognise(store, config, scan) {
            Ok(Label::Container(c)) => {
                self.tote = Some(c.clone());
                return Reply::new(Tone::Ok, Text::ReturnTote { tote: c });
            }
            Ok(Label::Product { matches, code }) => {
                match matches.iter().find(|m| m.merchant_id == merchant) {
                    Some(m) => {
                        let units = super::recognise::units(m, scan);
                        Input::Item(Item {
                            product_id: Some(m.product_id.clone()),
                            name: m.name.clone(),
                            barcode: code,
                            units,
                            lot: scan.lot().map(str::to_string),
                            expiry: scan.expiry().or(scan.best_before()),
                        })
                    }
                    // Another merchant's product is no product of this merchant's.
                    None => unknown(&code),
                }
            }
            Ok(Label::Unreadable(why)) => return Reply::new(Tone::Error, Text::Unreadable { why }),
            Ok(Label::Location(_)) => {
                return Reply::new(Tone::Error, Text::Returns(Message::ScanItemFirst));
            }
            Ok(Label::Badge(_) | Label::Notice(_) | Label::Unknown(_)) => {
                // A customer's name typed again is no item: it must not enter the record.
                let typed = scan.text().unwrap_or(&scan.data).trim();
                match store.returnables_by_name(typed, now_ms()) {
                    Ok(named) if !named.is_empty() => {
                        return Reply::new(Tone::Error, Text::Returns(Message::ScanItemFirst));
                    }
                    Ok(_) => unknown(&scan.data),
                    Err(e) => return e.into(),
                }
            }
            Err(e) => return e.into(),
        };
        self.apply(store, operator, input, today)
    }

    pub fn view(&self) -> ReturnsView {
        let suggested = match self.job.prompt() {
            Message::ChooseAction { suggested, .. } => Some(suggested),
            _ => None,
        };
        ReturnsView {
            reference: self
                .job
                .order()
                .map(|o| o.reference.clone())
                .unwrap_or_default(),
            customer: self.customer.clone(),
            expects: self.job.expect(),
            prompt: self.job.prompt(),
            suggested,
            tote: self.tote.clone(),
            finished: self.is_finished(),
        }
    }

    /// The recorded lines as the domain keeps them, for the screen to word.
    pub fn lines(&self) -> &[Line] {
        self.job.lines()
    }
}

impl super::job::Job for ReturnsController {
    fn screen(&self) -> super::Screen {
        super::Screen::Returns
    }

    fn name(&self) -> String {
        self.job
            .order()
            .map(|o| o.reference.clone())
            .unwrap_or_default()
    }

    fn is_finished(&self) -> bool {
        ReturnsController::is_finished(self)
    }

    fn scan(&mut self, cx: &mut super::job::JobCtx, scan: &Scan) -> Reply {
        ReturnsController::scan(self, cx.store, cx.config, cx.operator, scan, cx.today)
    }
}

//! The receiving controller: turns scans and buttons into inputs of the receiving state machine,
//! records its facts, and only then adopts its next state.
//!
//! What a scan means depends on what the receipt waits for: a tote label, an item, a lot, an
//! expiry date or a serial. Look-ups are point queries. A failed commit leaves the receipt exactly
//! where it was and tells the operator that nothing was saved.

use laituri_domain::calendar::Date;
use laituri_domain::receiving::{
    Condition, Expect, ExpectedLine, Input, ItemScan, LineSummary, Product, Receipt, Rules, Setup,
};
use laituri_domain::scan::{Scan, ScanKind};

use super::messages::Text;
use super::recognise::{Label, recognise};
use super::{CoreConfig, Reply, Tone};
use crate::store::{OpenReceipt, ReceiptLineRow, Store, StoreError};

/// How many recent scans the receiving screen lists.
pub const RECENT_LINES: u32 = 30;

pub enum Start {
    Notice(String),
    Blind(String),
}

/// Buttons and keypad entries of the receiving screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    AddQuantity(i64),
    Damaged(i64),
    /// A date typed on the keypad when an expiry is asked for (YYMMDD or YYYYMMDD).
    Expiry(String),
    Confirm,
    Cancel,
    RequestClose,
}

/// What the receiving screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivingView {
    pub title: String,
    pub merchant: String,
    pub container: Option<String>,
    pub expects: Expect,
    /// The product whose details are being asked for.
    pub pending: Option<String>,
    /// What the receipt asks for now, with what it is about.
    pub prompt: laituri_domain::receiving::Message,
    pub lines: Vec<LineSummary>,
    /// Newest first, with where each stands with the server.
    pub recent: Vec<ReceiptLineRow>,
    pub closed: bool,
}

pub struct ReceivingController {
    open: OpenReceipt,
    receipt: Receipt,
    title: String,
    merchant_name: String,
}

fn setup_for(
    store: &Store,
    config: &CoreConfig,
    merchant_id: &str,
    notice_id: Option<&str>,
) -> Result<(Setup, String, String), Reply> {
    let merchant = store
        .merchant(merchant_id)?
        .ok_or_else(|| Reply::new(Tone::Error, Text::UnknownMerchant))?;
    let (expected, title) = match notice_id {
        Some(id) => {
            let notice = store.notice(id)?.ok_or_else(|| {
                Reply::new(
                    Tone::Error,
                    Text::UnknownNotice {
                        code: id.to_string(),
                    },
                )
            })?;
            let mut lines = Vec::with_capacity(notice.lines.len());
            for l in &notice.lines {
                let name = store.product_label(&l.product_id)?;
                lines.push(ExpectedLine {
                    product_id: l.product_id.clone(),
                    name,
                    expected: l.expected_qty,
                });
            }
            (lines, notice.reference)
        }
        None => (Vec::new(), String::new()),
    };
    let quarantine = store
        .first_location_of_kind("quarantine")?
        .unwrap_or_else(|| "QUARANTINE".to_string());
    let setup = Setup {
        merchant_id: merchant.id.clone(),
        rules: Rules {
            min_shelf_life_days: merchant.min_shelf_life_days,
            over_receipt_tolerance_pct: merchant.over_receipt_tolerance_pct,
        },
        notice_id: notice_id.map(str::to_string),
        expected,
        dock: config.dock.clone(),
        quarantine_location: quarantine,
    };
    Ok((setup, title, merchant.name))
}

impl ReceivingController {
    /// Opens a receipt: records `receipt_opened` and shows the first prompt.
    pub fn start(
        store: &mut Store,
        config: &CoreConfig,
        operator: &str,
        start: Start,
    ) -> Result<(ReceivingController, Reply), Reply> {
        let (merchant_id, notice_id) = match &start {
            Start::Notice(id) => {
                let n = store.notice(id)?.ok_or_else(|| {
                    Reply::new(Tone::Error, Text::UnknownNotice { code: id.clone() })
                })?;
                (n.merchant_id, Some(n.id))
            }
            Start::Blind(m) => (m.clone(), None),
        };
        let (setup, title, merchant_name) =
            setup_for(store, config, &merchant_id, notice_id.as_deref())?;
        let (receipt_id, _) =
            store.open_receipt(operator, &merchant_id, notice_id.as_deref(), &config.dock)?;
        let open = OpenReceipt {
            receipt_id,
            merchant_id,
            notice_id,
            dock: config.dock.clone(),
            operator_id: operator.to_string(),
        };
        let ctrl = ReceivingController {
            open,
            receipt: Receipt::new(setup),
            title,
            merchant_name,
        };
        Ok((ctrl, Reply::new(Tone::Ok, Text::ScanContainer)))
    }

    /// Picks up a receipt this device left open, with the tallies it had recorded.
    pub fn resume(
        store: &Store,
        config: &CoreConfig,
        open: OpenReceipt,
    ) -> Result<ReceivingController, StoreError> {
        let (setup, title, merchant_name) =
            setup_for(store, config, &open.merchant_id, open.notice_id.as_deref())
                .map_err(|r| StoreError::Data(format!("{:?}", r.text)))?;
        let totals = store.receipt_totals(open.receipt_id)?;
        let container = store.receipt_last_container(open.receipt_id)?;
        let mut recorded = Vec::with_capacity(totals.len());
        for (product_id, condition, units) in totals {
            let name = store.product_label(&product_id)?;
            let condition = match condition.as_str() {
                "good" => Condition::Good,
                "damaged" => Condition::Damaged,
                "expired" => Condition::Expired,
                _ => Condition::ShortShelfLife,
            };
            recorded.push((product_id, name, units, condition));
        }
        Ok(ReceivingController {
            receipt: Receipt::restore(setup, container, &recorded),
            open,
            title,
            merchant_name,
        })
    }

    pub fn is_closed(&self) -> bool {
        self.receipt.is_closed()
    }

    pub fn open_receipt(&self) -> &OpenReceipt {
        &self.open
    }

    pub fn expects(&self) -> Expect {
        self.receipt.expects()
    }

    /// Feeds one input to the state machine; records its facts; adopts the next state only
    /// when the commit succeeded.
    fn apply(&mut self, store: &mut Store, operator: &str, input: Input, today: Date) -> Reply {
        let open = &self.open;
        match super::seam::advance(&mut self.receipt, input, today, |facts| {
            store.record_receiving(open, operator, facts).map(drop)
        }) {
            Ok(feedback) => Reply::new(feedback.tone, Text::Receiving(feedback.message)),
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
            Action::AddQuantity(n) => Input::AddQuantity(n),
            Action::Damaged(n) => Input::Damaged(n),
            Action::Confirm => Input::Confirm,
            Action::Cancel => Input::Cancel,
            Action::RequestClose => Input::RequestClose,
            Action::Expiry(typed) => match parse_typed_date(&typed) {
                Some(d) => Input::Expiry(d),
                None => return Reply::new(Tone::Error, Text::BadDate { typed }),
            },
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
        match self.classify(store, config, scan) {
            Ok(input) => self.apply(store, operator, input, today),
            Err(reply) => reply,
        }
    }

    /// Decides what a scan is for this receipt, given what it waits for.
    fn classify(&self, store: &Store, config: &CoreConfig, scan: &Scan) -> Result<Input, Reply> {
        let expects = self.receipt.expects();
        let text = scan
            .reading(ScanKind::Plain)
            .and_then(|s| s.text())
            .map(str::trim);
        // Details asked for: take them from a GS1 label or as plain text.
        match expects {
            Expect::Lot => {
                if let Some(lot) = scan.lot().filter(|_| scan.gtin14().is_none()) {
                    return Ok(Input::Lot(lot.to_string()));
                }
                if scan.kind == ScanKind::Plain
                    && let Some(t) = text
                {
                    return Ok(Input::Lot(t.to_string()));
                }
            }
            Expect::Expiry => {
                if scan.gtin14().is_none()
                    && let Some(d) = scan.expiry().or(scan.best_before())
                {
                    return Ok(Input::Expiry(d));
                }
                if let Some(d) = parse_typed_date(&scan.data) {
                    return Ok(Input::Expiry(d));
                }
                // Six or eight digits typed for a date are a date gone wrong, never a barcode.
                let typed = scan.data.trim();
                if matches!(typed.len(), 6 | 8) && typed.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(Reply::new(
                        Tone::Error,
                        Text::BadDate {
                            typed: typed.to_string(),
                        },
                    ));
                }
            }
            Expect::Serial => {
                if let Some(serial) = scan.serial().filter(|_| scan.gtin14().is_none()) {
                    return Ok(Input::Serial(serial.to_string()));
                }
                if scan.kind == ScanKind::Plain
                    && let Some(t) = text
                {
                    return Ok(Input::Serial(t.to_string()));
                }
            }
            _ => {}
        }
        // Everything else is read by the one label recognition every flow uses.
        let m = match recognise(store, config, scan)? {
            Label::Container(c) => return Ok(Input::Container(c)),
            // A pallet label (SSCC) of a notice is the license plate the goods stay on.
            Label::Notice(_) if scan.sscc().is_some() && scan.gtin14().is_none() => {
                return Ok(Input::Container(
                    scan.sscc().unwrap_or_default().to_string(),
                ));
            }
            Label::Notice(n) => {
                return Err(Reply::new(
                    Tone::Error,
                    Text::NotAnItem { code: n.reference },
                ));
            }
            Label::Location(l) => {
                return Err(Reply::new(Tone::Error, Text::NotAnItem { code: l.code }));
            }
            Label::Badge(b) => {
                return Err(Reply::new(Tone::Error, Text::NotAnItem { code: b.badge }));
            }
            Label::Unreadable(why) => {
                // A misread: nothing is recorded, the operator rescans.
                return Err(Reply::new(Tone::Error, Text::Unreadable { why }));
            }
            Label::Unknown(raw) => return Ok(Input::Unknown(raw)),
            Label::Product { matches, .. } => {
                let matches_first = matches.first().cloned();
                match matches
                    .into_iter()
                    .find(|m| m.merchant_id == self.open.merchant_id)
                {
                    Some(m) => m,
                    // Another merchant's product is not this receipt's: recorded for the lead,
                    // and named as what it is.
                    None => {
                        let Some(first) = matches_first else {
                            return Ok(Input::Unknown(scan.data.clone()));
                        };
                        let merchant = store.merchant_label(&first.merchant_id)?;
                        return Ok(Input::Foreign {
                            raw: scan.data.clone(),
                            name: first.name,
                            merchant,
                        });
                    }
                }
            }
        };
        Ok(Input::Item(ItemScan {
            product: Product {
                id: m.product_id.clone(),
                name: m.name.clone(),
                track_lot: m.track_lot,
                track_expiry: m.track_expiry,
                track_serial: m.track_serial,
            },
            units: super::recognise::units(&m, scan),
            lot: scan.lot().map(str::to_string),
            expiry: scan.expiry().or(scan.best_before()),
            serial: scan.serial().map(str::to_string),
            raw: scan.data.clone(),
        }))
    }

    /// Everything the receiving screen shows. Bounded: the notice's lines and the recent scans.
    pub fn view(&self, store: &Store) -> ReceivingView {
        let recent = store
            .recent_receipt_lines(self.open.receipt_id, RECENT_LINES)
            .unwrap_or_default();
        ReceivingView {
            title: self.title.clone(),
            merchant: self.merchant_name.clone(),
            container: self.receipt.container().map(str::to_string),
            expects: self.receipt.expects(),
            pending: self.receipt.pending_product().map(|p| p.name.clone()),
            prompt: self.receipt.prompt(),
            lines: self.receipt.summary(),
            recent,
            closed: self.receipt.is_closed(),
        }
    }
}

/// A date typed on the keypad or scanned as plain digits: YYMMDD, YYYYMMDD or YYYY-MM-DD.
pub fn parse_typed_date(s: &str) -> Option<Date> {
    let s = s.trim();
    if let Some(d) = Date::parse_iso(s) {
        return Some(d);
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |a: usize, b: usize| s.get(a..b)?.parse::<u32>().ok();
    match s.len() {
        6 => Date::new(2000 + n(0, 2)? as i32, n(2, 4)? as u8, n(4, 6)? as u8),
        8 => Date::new(n(0, 4)? as i32, n(4, 6)? as u8, n(6, 8)? as u8),
        _ => None,
    }
}

impl super::job::Job for ReceivingController {
    fn screen(&self) -> super::Screen {
        super::Screen::Receiving
    }

    fn name(&self) -> String {
        self.open
            .notice_id
            .clone()
            .unwrap_or_else(|| self.merchant_name.clone())
    }

    fn is_finished(&self) -> bool {
        self.is_closed()
    }

    fn scan(&mut self, cx: &mut super::job::JobCtx, scan: &Scan) -> Reply {
        ReceivingController::scan(self, cx.store, cx.config, cx.operator, scan, cx.today)
    }
}

/// A receipt this device left open for `operator` (a crash, a battery) resumes at log-in.
pub fn resume_for(
    store: &Store,
    config: &CoreConfig,
    operator: &str,
) -> Result<Option<Box<dyn super::job::Job>>, StoreError> {
    match store.last_open_receipt()? {
        Some(open) if open.operator_id == operator => Ok(Some(Box::new(
            ReceivingController::resume(store, config, open)?,
        ))),
        _ => Ok(None),
    }
}

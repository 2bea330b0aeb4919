//! The packer: a driver at a packing station, with no window.
//!
//! It packs the orders whose totes are at packing, as the terminal's packing screen offers them
//! (pulled pack orders): from the menu it scans the order's first tote (now and then its
//! reference on the packing start screen), scans the box the carton plan suggests (now and then
//! another box of the station, an override said as a warning), scans the items the screen asks
//! for, taps the checklist's inserts and documents, and closes and finishes. Now and then it
//! scans a wrong item (a product of the merchant's that no order asks for) or one unit too many
//! of a product already packed: both must be refused with nothing recorded, the journal and the
//! job unchanged, or the driver fails. Now and then it takes the last unit back out (Cancel),
//! and in about a third of the orders with more than one unit it closes a first parcel early, so
//! the order ships in two. A weight the estimate cannot give comes from the scale or the keypad.
//!
//! A new job starts only once a sync round of the driver's process has pulled to the end of the
//! change log: a station still pulling its history lists orders that were packed since, whose
//! removal comes later in the log (a person would find no tote there; the driver would not).
//!
//! The station has no printer: labels that arrive are shown on screen and the packer confirms
//! each handled. A job open when the driver is killed resumes at the next log-in from its journal
//! (the terminal's `pack_journal`), and the packer goes on from where the screen stands.
//!
//! Its shift ends when the stop file exists, a sync round that began after the file appeared
//! reached the server (so every drop before it has been pulled), no job is open, no order waits
//! and no label waits to be confirmed; or a bounded while after the file appeared.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context;
use laituri::store::LabelState;
use laituri::terminal::packing::Action as PackAction;
use laituri::terminal::{PackingView, Screen, Tone};
use laituri_domain::packing::{Entry, Expect as PackExpect, Message};
use rand::RngExt;

use super::{DriverConfig, Session};

/// The events a packing job records.
pub const PACKING: [&str; 2] = ["parcel_packed", "packing_finished"];

/// Percent of a packer's choices from the menu that take a return of a shipped order.
const RETURN_PCT: u32 = 25;

/// How long a packer goes on after the stop file appeared, at most.
const STOP_WITHIN: Duration = Duration::from_secs(60);

/// What the packer does to the order in hand: each extra once an order.
#[derive(Debug, Clone, Default)]
pub struct PackPlan {
    order: String,
    /// Product names of the order, to the product ids whose barcodes are scanned.
    products: BTreeMap<String, String>,
    /// Close a first parcel early: the order ships in two.
    split: bool,
    wrong_item: bool,
    one_too_many: bool,
    other_box: bool,
    cancelled: bool,
    /// When the stop file was first seen, and the sync rounds that had reached the server then.
    stop_seen: Option<(Instant, u64)>,
}

impl DriverConfig {
    /// The same, as a packer at a packing station: the operator who packs (the demo's lead,
    /// who also picks), doing nothing but packing, until `stop_file` exists.
    pub fn packing_station(
        mut self,
        facts: &crate::DemoFacts,
        stop_file: std::path::PathBuf,
    ) -> DriverConfig {
        self.badge = facts.picker_badge.clone();
        self.pin = facts.picker_pin.clone();
        self.pick_pct = 0;
        self.items = 0;
        self.packer = true;
        self.stop_file = Some(stop_file);
        self
    }
}

impl Session {
    /// True while the packer's shift goes on (see the module's header).
    pub fn packing_left(&mut self) -> anyhow::Result<bool> {
        let Some(stop) = &self.config.stop_file else {
            return Ok(true);
        };
        if !stop.exists() {
            return Ok(true);
        }
        let rounds = self.online_rounds.load(Ordering::SeqCst);
        let (since, rounds_then) = *self.pack.stop_seen.get_or_insert((Instant::now(), rounds));
        if since.elapsed() > STOP_WITHIN {
            tracing::warn!("the packer's shift ends with work left after {STOP_WITHIN:?}");
            return Ok(false);
        }
        let store = self.terminal.store();
        let job_open = store
            .open_job()?
            .is_some_and(|j| j.flow == laituri::terminal::packing::FLOW);
        Ok(rounds < rounds_then + 2
            || job_open
            || !store.pack_orders_waiting(1)?.is_empty()
            || self.label_to_confirm()?.is_some())
    }

    /// A label that arrived and waits to be shown and confirmed: `(order, parcel)`.
    fn label_to_confirm(&self) -> anyhow::Result<Option<(String, u32)>> {
        Ok(self
            .terminal
            .store()
            .station_parcels(50)?
            .into_iter()
            .find(|p| p.state == LabelState::New)
            .map(|p| (p.order_id, p.number)))
    }

    /// The packer's next thing: the open job's next step, a label to confirm, or the next order
    /// waiting at packing; else a moment's wait for the pull.
    pub(super) fn packer_step(&mut self, before: u64) -> anyhow::Result<bool> {
        if self.terminal.packing().is_some_and(|p| !p.is_finished()) {
            return self.pack_step(before);
        }
        if self.terminal.returns().is_some_and(|r| !r.is_finished()) {
            return self.return_step(before);
        }
        self.terminal.home();
        if let Some((order, parcel)) = self.label_to_confirm()? {
            let r = self.terminal.label_handled(&order, parcel);
            return self.record("label-handled", before, &r);
        }
        if let Some(confirmed) = self.menu_return(before)? {
            return Ok(confirmed);
        }
        // A new order only after a sync round of this process pulled to the end of the change
        // log: a station that is still pulling its history lists orders that were packed since
        // (their removal comes later in the log). A packer would find no tote; the driver would
        // not see that.
        let pulled = self.online_rounds.load(Ordering::SeqCst) > 0;
        let waiting = if pulled {
            self.terminal.store().pack_orders_waiting(20)?
        } else {
            Vec::new()
        };
        let Some(order) = waiting.first() else {
            self.wake_sync();
            std::thread::sleep(Duration::from_millis(20));
            return Ok(true);
        };
        let tote = order.totes().first().map(|t| t.to_string());
        let r = match tote {
            Some(tote) if self.rng.random_range(0..100) >= 15 => {
                // The tote in hand, scanned on the menu.
                self.terminal.scan(&tote).context("a tote scan answers")?
            }
            _ => {
                // The reference off the paper, on the packing start screen.
                let reference = order.reference.clone();
                if let Err(r) = self.terminal.open(Screen::PackingStart) {
                    return self.record("pack-open", before, &r);
                }
                self.terminal
                    .scan(&reference)
                    .context("a reference scan answers")?
            }
        };
        self.record("pack-start", before, &r)
    }

    /// Now and then, from the menu: the return of an order this station's pull lists as
    /// returnable (shipped) and that no return of this station names yet, found by its number on
    /// the returns screen. `None` when the packer packs instead.
    fn menu_return(&mut self, before: u64) -> anyhow::Result<Option<bool>> {
        if self.rng.random_range(0..100) >= RETURN_PCT {
            return Ok(None);
        }
        let returned: Vec<uuid::Uuid> = self
            .terminal
            .store()
            .recent_events("return_received", 200)?
            .into_iter()
            .filter_map(|(body, _)| match body {
                laituri_protocol::EventBody::ReturnReceived { order_id, .. } => Some(order_id),
                _ => None,
            })
            .collect();
        let candidates: Vec<(String, String)> = self
            .reader
            .prepare_cached(
                "SELECT order_id, reference FROM returnable_orders ORDER BY keep_until_ms DESC
                 LIMIT 50",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let Some((_, reference)) = candidates
            .into_iter()
            .find(|(id, _)| uuid::Uuid::parse_str(id).is_ok_and(|id| !returned.contains(&id)))
        else {
            return Ok(None);
        };
        if let Err(r) = self.terminal.open(Screen::Returns) {
            return self.record("return-open", before, &r).map(Some);
        }
        let r = self
            .terminal
            .scan(&reference)
            .context("a scan on the returns screen answers")?;
        self.record("return-find", before, &r).map(Some)
    }

    /// The next step of the return in hand: one or two of the order's items (now and then one
    /// it did not ship), a reason and what becomes of each, a tote when something is restocked,
    /// then Finish (and Finish again for what did not come back). The return is recorded whole
    /// at its finish.
    fn return_step(&mut self, before: u64) -> anyhow::Result<bool> {
        use laituri::terminal::returns::Action as Ret;
        use laituri_domain::returns::{Action as Disposition, Expect as RetExpect, Reason};
        if *self.terminal.screen() != Screen::Returns
            && let Err(r) = self.terminal.open(Screen::Returns)
        {
            return self.record("return-open", before, &r);
        }
        let ctrl = self.terminal.returns().context("a return is open")?;
        let view = ctrl.view();
        let lines = ctrl.lines().to_vec();
        let restocks = lines
            .iter()
            .any(|l| l.action == Some(Disposition::Restock) && l.product_id.is_some());
        let shipped = self
            .terminal
            .store()
            .returnable_by_code(&view.reference, laituri::store::now_ms())?
            .map(|o| {
                o.lines
                    .into_iter()
                    .map(|l| l.product_id)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let (action, reply) = match view.expects {
            RetExpect::Item if lines.len() < 2 && !shipped.is_empty() => {
                // An item of the order, or now and then the merchant's product it did not ship.
                let product = if self.rng.random_range(0..100) < 10 {
                    self.config.gtin.clone()
                } else {
                    let pick = self.rng.random_range(0..shipped.len());
                    self.unit_barcode(&shipped[pick])?
                };
                (
                    "return-item",
                    self.terminal
                        .scan(&product)
                        .context("a scan on the returns screen answers")?,
                )
            }
            RetExpect::Item if restocks && view.tote.is_none() => {
                let tote = format!("T-RET-{before}");
                (
                    "return-tote",
                    self.terminal.scan(&tote).context("a tote scan answers")?,
                )
            }
            RetExpect::Item | RetExpect::ConfirmMissing => {
                ("return-finish", self.terminal.returns_action(Ret::Finish))
            }
            RetExpect::Reason => {
                let reason = Reason::ALL[self.rng.random_range(0..Reason::ALL.len())];
                (
                    "return-reason",
                    self.terminal.returns_action(Ret::Reason(reason)),
                )
            }
            RetExpect::Action => {
                let action = if self.rng.random_range(0..2) == 0 {
                    Disposition::Restock
                } else {
                    Disposition::ALL[self.rng.random_range(0..Disposition::ALL.len())]
                };
                (
                    "return-action",
                    self.terminal.returns_action(Ret::Disposition(action)),
                )
            }
            RetExpect::Order | RetExpect::Nothing => {
                self.terminal.home();
                return Ok(true);
            }
        };
        let confirmed = self.record(action, before, &reply)?;
        if self.terminal.returns().is_some_and(|r| r.is_finished()) {
            self.terminal.home();
        }
        Ok(confirmed)
    }

    /// The unit barcode of `product` as its label reads (GTIN-13 for a stored GTIN-14).
    fn unit_barcode(&self, product: &str) -> anyhow::Result<String> {
        let code: String = self
            .reader
            .prepare_cached(
                "SELECT code FROM barcodes WHERE product_id = ?1 AND pack_qty = 1
                 ORDER BY code LIMIT 1",
            )?
            .query_row([product], |r| r.get(0))
            .with_context(|| format!("product {product} has no unit barcode"))?;
        Ok(match code.strip_prefix('0') {
            Some(gtin13) if code.len() == 14 => gtin13.to_string(),
            _ => code,
        })
    }

    /// A new plan for the order in hand: its products by name, and what the packer will do.
    fn plan_order(&mut self, order_id: &str, view: &PackingView) -> anyhow::Result<()> {
        let store = self.terminal.store();
        let mut products = BTreeMap::new();
        if let Some(pack) = store.pack_order(order_id)? {
            for p in pack
                .goods
                .iter()
                .map(|g| &g.product_id)
                .chain(pack.inserts.iter().map(|l| &l.product_id))
            {
                let name = store.product_label(p)?;
                products.insert(name, p.clone());
            }
        }
        let units: i64 = view.lines.iter().map(|l| l.quantity).sum();
        self.pack = PackPlan {
            order: order_id.to_string(),
            products,
            split: units > 1 && self.rng.random_range(0..100) < 35,
            stop_seen: self.pack.stop_seen,
            ..PackPlan::default()
        };
        Ok(())
    }

    /// A scan the job must refuse, recording nothing: the journal, the outbox and the job stay
    /// as they were. Anything else fails the driver.
    fn refused_scan(
        &mut self,
        action: &str,
        code: &str,
        order_id: &str,
        view: &PackingView,
    ) -> anyhow::Result<bool> {
        let seq = self.last_seq()?;
        let journal = self.terminal.store().pack_journal(order_id)?.len();
        let r = self.terminal.scan(code).context("a scan answers")?;
        let after = self.terminal.packing().map(|p| p.view());
        anyhow::ensure!(
            r.tone == Tone::Error,
            "{action} {code} was taken ({:?}): {}",
            r.tone,
            r.text.render(self.terminal.lang())
        );
        anyhow::ensure!(
            self.last_seq()? == seq
                && self.terminal.store().pack_journal(order_id)?.len() == journal
                && after.as_ref() == Some(view),
            "{action} {code} was refused but changed the job: {view:?} -> {after:?}"
        );
        self.record(action, seq, &r)
    }

    /// Weigh the open parcel (the scale now and then, else the keypad) or close it.
    fn weigh_or_close(&mut self, view: &PackingView) -> (&'static str, laituri::terminal::Reply) {
        if view.weight.is_some() {
            return (
                "pack-close",
                self.terminal.packing_action(PackAction::CloseParcel),
            );
        }
        let grams = 250 + 180 * view.open_units.max(1);
        if self.rng.random_bool(0.5)
            && let Some(r) = self.terminal.scale_weight(grams)
        {
            return ("pack-scale", r);
        }
        (
            "pack-weight",
            self.terminal.packing_action(PackAction::Weight(grams)),
        )
    }

    /// The next step on the packing screen, until the order is finished.
    fn pack_step(&mut self, before: u64) -> anyhow::Result<bool> {
        if *self.terminal.screen() != Screen::Packing {
            // A job resumed after a restart: to its screen.
            if let Err(r) = self.terminal.open(Screen::PackingStart) {
                return self.record("pack-open", before, &r);
            }
        }
        let (view, order_id) = {
            let p = self.terminal.packing().context("a packing job is open")?;
            (p.view(), p.order_id())
        };
        if self.pack.order != order_id {
            self.plan_order(&order_id, &view)?;
        }
        let roll = self.rng.random_range(0..100);
        let (action, reply) =
            match view.expects {
                PackExpect::Box => {
                    let store = self.terminal.store();
                    let location = store
                        .pack_order(&order_id)?
                        .and_then(|p| p.goods.first().map(|g| g.location.clone()))
                        .unwrap_or_else(|| crate::outbound::PACKING.to_string());
                    let boxes = store.box_types(&location)?;
                    let suggested = boxes
                        .iter()
                        .find(|b| Some(&b.name) == view.suggested_box.as_ref());
                    let other = boxes
                        .iter()
                        .find(|b| Some(&b.name) != view.suggested_box.as_ref());
                    match (suggested, other) {
                        (_, Some(other)) if roll < 15 && !self.pack.other_box => {
                            self.pack.other_box = true;
                            let code = other.code().to_string();
                            let r = self.terminal.scan(&code).context("a box scan answers")?;
                            ("pack-other-box", r)
                        }
                        (Some(b), _) | (None, Some(b)) => {
                            let code = b.code().to_string();
                            let r = self.terminal.scan(&code).context("a box scan answers")?;
                            ("pack-box", r)
                        }
                        (None, None) => (
                            "pack-no-box",
                            self.terminal.packing_action(PackAction::NoBox),
                        ),
                    }
                }
                PackExpect::Item => {
                    let full: Vec<String> = view
                        .lines
                        .iter()
                        .filter(|l| {
                            view.lines
                                .iter()
                                .filter(|o| o.name == l.name)
                                .all(|o| o.packed >= o.quantity)
                        })
                        .filter_map(|l| self.pack.products.get(&l.name).cloned())
                        .collect();
                    if self.pack.split
                        && view.parcels_closed == 0
                        && view.open_units > 0
                        && view.units_left > 0
                    {
                        self.weigh_or_close(&view)
                    } else if roll < 8 && !self.pack.wrong_item {
                        // A product of the merchant's that no order asks for.
                        self.pack.wrong_item = true;
                        let code = self.config.gtin.clone();
                        return self.refused_scan("pack-wrong-item", &code, &order_id, &view);
                    } else if roll < 16 && !self.pack.one_too_many && !full.is_empty() {
                        self.pack.one_too_many = true;
                        let code = self.unit_barcode(&full[0])?;
                        return self.refused_scan("pack-one-too-many", &code, &order_id, &view);
                    } else if roll < 22 && !self.pack.cancelled && view.open_units > 0 {
                        self.pack.cancelled = true;
                        (
                            "pack-cancel",
                            self.terminal.packing_action(PackAction::Cancel),
                        )
                    } else {
                        let (name, insert) = match &view.prompt {
                            Message::ScanItems { name, insert, .. } => (name.clone(), *insert),
                            other => anyhow::bail!("items asked for with the prompt {other:?}"),
                        };
                        let product =
                            self.pack.products.get(&name).cloned().with_context(|| {
                                format!("no product of the order is named {name}")
                            })?;
                        if insert {
                            // An insert (a flyer has no barcode): ticked off the checklist.
                            (
                                "pack-insert",
                                self.terminal
                                    .packing_action(PackAction::Tap(Entry::Insert(product))),
                            )
                        } else {
                            let code = self.unit_barcode(&product)?;
                            let r = self.terminal.scan(&code).context("an item scan answers")?;
                            ("pack-item", r)
                        }
                    }
                }
                PackExpect::Close | PackExpect::Weight => self.weigh_or_close(&view),
                PackExpect::Checklist => {
                    let entry = view
                        .checklist
                        .iter()
                        .find(|c| !c.done)
                        .map(|c| c.entry.clone())
                        .context("the checklist asked for has an open entry")?;
                    (
                        "pack-checklist",
                        self.terminal.packing_action(PackAction::Tap(entry)),
                    )
                }
                PackExpect::Finish => (
                    "pack-finish",
                    self.terminal.packing_action(PackAction::Finish),
                ),
                PackExpect::Nothing => {
                    anyhow::bail!("the packing screen asks for nothing: {:?}", view.prompt)
                }
            };
        let confirmed = self.record(action, before, &reply)?;
        if self.terminal.packing().is_some_and(|p| p.is_finished()) {
            self.terminal.home();
        }
        Ok(confirmed)
    }
}

//! The scanning driver: floor actions against the real terminal core, with its sync worker.
//!
//! It is what a receiving and putaway clerk does, without a window: log in with a badge, start a
//! blind receipt for a merchant, scan a tote, scan items, close the receipt after a few. Then,
//! most of the time, put the totes that hold goods away: by scanning the tote from the menu (a
//! tote in hand is its own claim), or by taking its putaway task from the task list (the sync
//! worker leases it; when no answer comes because the link or the server is down, the clerk scans
//! the tote instead). On the putaway screen it scans the suggested bin, now and then reports the
//! bin full first, types a smaller quantity, or scans another bin of the merchant's zones and
//! gives the reason, until the tote is empty. Then the next receipt.
//!
//! Every action the terminal confirms goes to the oracle ([`crate::oracle`]) before the next one.
//! It can be killed at any moment and started again on the same store and oracle: it picks up
//! where the terminal is (a receipt or a putaway left open resumes, an answered task starts) and
//! goes on until the oracle holds `items` item scans.
//!
//! A driver whose operator picks (`pick_pct` > 0, a badge with a PIN) also takes pick tasks from
//! the menu now and then, as a picker takes the next from the task list: the sync worker leases
//! it, and the server's answer starts the job; when no answer comes because the link or the
//! server is down, the picker goes on with other work and starts the job once the answer is
//! there. On the pick screen it scans the location shown, the item's barcode as many times as
//! the line asks (now and then it finds fewer: "found less"), the order's tote (its label is
//! made from the task and the order's slot on the cart, so the same tote is scanned after a
//! restart; the job itself remembers the totes it bound), answers the zero checks, now and then
//! skips a line or scans a wrong location first, and at the end scans the packing location. A
//! job whose lease another device took over is stopped, as the screen says. A pick job open when
//! the items are done is finished before the driver ends; or, told to end in the middle of one
//! (a shift that ends), the driver goes on until a job holds goods in its totes and stops there,
//! the goods in transit.
//!
//! A packer (`packer`, the same operator at a packing station) does nothing but pack the orders
//! whose totes are at packing and confirm their labels, until its shift ends ([`packer`]).
//!
//! It owns nothing of the terminal: it calls `Terminal` as the UI adapters do.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use laituri::store::Store;
use laituri::sync::{SyncConfig, SyncHandle};
use laituri::terminal::picking::Action as PickAction;
use laituri::terminal::putaway::Action as PutAction;
use laituri::terminal::receiving::Action;
use laituri::terminal::{CoreConfig, PickingView, PutawayView, Reply, Screen, Terminal, Tone};
use laituri_domain::picking::Expect as PickExpect;
use laituri_domain::putaway::{Expect as PutExpect, OverrideReason};
use laituri_domain::receiving::Expect;
use laituri_protocol::TaskKind;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use rusqlite::{Connection, OpenFlags, params};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::oracle::{self, OracleEntry, OracleEvent, OracleWriter};

pub mod packer;

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct DriverConfig {
    pub db: PathBuf,
    pub server_url: String,
    pub oracle: PathBuf,
    /// Stop when the oracle holds this many confirmed item scans.
    pub items: u64,
    /// Pause between actions, plus a random part up to `jitter_ms`.
    pub pace_ms: u64,
    pub jitter_ms: u64,
    pub seed: u64,
    pub request_timeout: Duration,
    pub batch_size: u32,
    pub pull_limit: u32,
    /// Close a receipt after this many item scans.
    pub receipt_items: u64,
    pub badge: String,
    pub merchant: String,
    pub gtin: String,
    /// Tote labels are this prefix and a number.
    pub tote_prefix: String,
    /// After the last scan, wait this long at most for the outbox to drain.
    pub drain: Duration,
    /// Give up after this many refused actions in a row.
    pub max_refusals: u32,
    /// Percent of the menu's choices that put a tote away when one holds goods (else receive).
    pub putaway_pct: u32,
    /// Percent of putaways started by taking the tote's task (a lease) instead of scanning it.
    pub lease_pct: u32,
    /// The PIN the badge asks for, if it asks for one.
    pub pin: Option<String>,
    /// Percent of the menu's choices that take a pick task when the task list has one (0: the
    /// operator does not pick).
    pub pick_pct: u32,
    /// Pick totes are labelled with this prefix, the task and the order's slot on the cart.
    pub pick_tote_prefix: String,
    /// Where the totes of a pick task are dropped.
    pub packing: String,
    /// Finish a pick job open when the items are done before ending; else end in the middle of
    /// one, once a job holds goods in its totes (they stay in transit).
    pub finish_picking: bool,
    /// A packer at a packing station: packs the orders waiting at packing and confirms their
    /// labels, and does nothing else (see [`packer`]).
    pub packer: bool,
    /// A packer's shift ends once this file exists and nothing waits to pack (see [`packer`]).
    pub stop_file: Option<PathBuf>,
    /// Percent of the menu's choices that move part of a bin holding the merchant's goods into
    /// another bin of its zones (item scans, now and then the keypad), when one holds goods.
    pub move_pct: u32,
    /// Percent of the menu's choices that count a bin holding only the merchant's goods (an
    /// operator with the counting role): blind, by scans and the keypad, found as the view
    /// holds it or one off, now and then interrupted by a kill and resumed.
    pub count_pct: u32,
}

impl DriverConfig {
    pub fn new(
        db: PathBuf,
        server_url: String,
        oracle: PathBuf,
        facts: &crate::DemoFacts,
    ) -> DriverConfig {
        DriverConfig {
            db,
            server_url,
            oracle,
            items: 30,
            pace_ms: 5,
            jitter_ms: 5,
            seed: 1,
            request_timeout: Duration::from_secs(1),
            batch_size: 8,
            pull_limit: 20,
            receipt_items: 12,
            badge: facts.badge.clone(),
            merchant: facts.merchant.clone(),
            gtin: facts.gtin.clone(),
            tote_prefix: "T-F".into(),
            drain: Duration::ZERO,
            max_refusals: 200,
            putaway_pct: 80,
            lease_pct: 50,
            pin: None,
            pick_pct: 0,
            pick_tote_prefix: "T-P".into(),
            packing: crate::outbound::PACKING.into(),
            finish_picking: true,
            packer: false,
            stop_file: None,
            move_pct: 10,
            count_pct: 10,
        }
    }

    /// The same, as the operator who picks too: the picker's badge and PIN, taking a pick task
    /// at `pick_pct` percent of the menu's choices.
    pub fn picking(mut self, facts: &crate::DemoFacts, pick_pct: u32) -> DriverConfig {
        self.badge = facts.picker_badge.clone();
        self.pin = facts.picker_pin.clone();
        self.pick_pct = pick_pct.min(100);
        self
    }

    /// The driver's command line (for `laituri-driver scan`).
    pub fn to_args(&self) -> Vec<String> {
        let mut a: Vec<String> = vec!["scan".into()];
        let mut kv = |k: &str, v: String| {
            a.push(format!("--{k}"));
            a.push(v);
        };
        kv("db", self.db.display().to_string());
        kv("server", self.server_url.clone());
        kv("oracle", self.oracle.display().to_string());
        kv("items", self.items.to_string());
        kv("pace-ms", self.pace_ms.to_string());
        kv("jitter-ms", self.jitter_ms.to_string());
        kv("seed", self.seed.to_string());
        kv(
            "request-timeout-ms",
            self.request_timeout.as_millis().to_string(),
        );
        kv("batch-size", self.batch_size.to_string());
        kv("pull-limit", self.pull_limit.to_string());
        kv("receipt-items", self.receipt_items.to_string());
        kv("badge", self.badge.clone());
        kv("merchant", self.merchant.clone());
        kv("gtin", self.gtin.clone());
        kv("tote-prefix", self.tote_prefix.clone());
        kv("drain-ms", self.drain.as_millis().to_string());
        kv("max-refusals", self.max_refusals.to_string());
        kv("putaway-pct", self.putaway_pct.to_string());
        kv("lease-pct", self.lease_pct.to_string());
        if let Some(pin) = &self.pin {
            kv("pin", pin.clone());
        }
        kv("pick-pct", self.pick_pct.to_string());
        kv("pick-tote-prefix", self.pick_tote_prefix.clone());
        kv("packing", self.packing.clone());
        if !self.finish_picking {
            a.push("--leave-picking-open".into());
        }
        if self.packer {
            a.push("--packer".into());
        }
        if let Some(stop) = &self.stop_file {
            a.push("--stop-file".into());
            a.push(stop.display().to_string());
        }
        a.push("--move-pct".into());
        a.push(self.move_pct.to_string());
        a.push("--count-pct".into());
        a.push(self.count_pct.to_string());
        a
    }

    pub fn sync_config(&self) -> SyncConfig {
        let mut c = SyncConfig::new(self.db.clone(), self.server_url.clone());
        c.enrolment_code = Some(laituri_server::demo::ENROLMENT_CODE.into());
        c.device_name = "laituri-driver".into();
        c.batch_size = self.batch_size.max(1);
        c.pull_limit = self.pull_limit.max(1);
        c.poll_interval = Duration::from_millis(150);
        c.min_backoff = Duration::from_millis(20);
        c.max_backoff = Duration::from_millis(400);
        c.request_timeout = self.request_timeout;
        c
    }
}

/// What one driver process did; printed as one JSON line on stdout when it ends by itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriverSummary {
    /// Item scans confirmed by this process.
    pub items: u64,
    /// Actions confirmed by this process.
    pub actions: u64,
    /// Actions the terminal refused (an error tone), e.g. a full disk.
    pub refused: u64,
    /// Events still waiting for the server when the driver stopped.
    pub pending: u64,
    /// Pick jobs this process ended: the totes dropped, every line short, or the job left after
    /// another device took the task over.
    #[serde(default)]
    pub pick_tasks: u64,
}

fn tone_name(t: Tone) -> &'static str {
    match t {
        Tone::Ok => "ok",
        Tone::Warning => "warning",
        Tone::Error => "error",
        Tone::Done => "done",
    }
}

/// Reads the events after `after` from the terminal's outbox, through a read-only connection.
pub fn events_after(conn: &Connection, after: u64) -> anyhow::Result<Vec<OracleEvent>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, event_id, type, payload FROM outbox WHERE seq > ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map(params![after as i64], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, id, event_type, payload) = row?;
        let payload: serde_json::Value = serde_json::from_str(&payload)?;
        out.push(OracleEvent {
            seq: seq as u64,
            event_id: id.parse()?,
            quantity: (event_type == "goods_received")
                .then(|| payload["quantity"].as_i64())
                .flatten(),
            order: packer::PACKING
                .contains(&event_type.as_str())
                .then(|| payload["order_id"].as_str().map(str::to_string))
                .flatten(),
            event_type,
        });
    }
    Ok(out)
}

/// How long the clerk waits for the task list to show a tote's task, and for the server to
/// answer a task taken from it, before scanning the tote instead.
const TASK_SHOWS_WITHIN: Duration = Duration::from_millis(400);
const LEASE_ANSWERED_WITHIN: Duration = Duration::from_millis(1000);

/// Steps a pick job open when the items are done may take to finish.
const FINISH_PICKING_WITHIN: u32 = 500;

/// A task asked for, waiting for the sync worker's answer.
#[derive(Debug, Clone)]
struct Waiting {
    tote: String,
    until: Instant,
}

/// What the clerk already did to the tote in hand: each extra only a few times per tote.
#[derive(Debug, Clone, Default)]
struct Extras {
    container: String,
    bin_full: u32,
    typed: u32,
    other_bin: u32,
}

/// The line a picker works on: task, location, item and order as the screen shows them.
type LineKey = (String, String, String, String);

/// What the picker finds at the line in hand and did there already: each extra once a line.
#[derive(Debug, Clone, Default)]
struct PickPlan {
    line: LineKey,
    /// Units at the location when fewer than the line asks for: a short pick after them.
    found: Option<i64>,
    /// Units of them already put into the tote (part of the line, before the rest).
    put: i64,
    part_put: bool,
    typed: bool,
    cancelled: bool,
    wrong_location: bool,
}

/// Skips in the task in hand: a few per task, so that a task always ends.
#[derive(Debug, Clone, Default)]
struct Skips {
    task: String,
    done: u32,
}

/// The terminal plus what the driver needs to record what it confirmed.
pub struct Session {
    pub terminal: Terminal,
    reader: Connection,
    oracle: OracleWriter,
    config: DriverConfig,
    pub summary: DriverSummary,
    /// Item scans confirmed so far, by every process on this oracle.
    pub items_total: u64,
    receipt_items: u64,
    /// The shift is ending: the picker takes no new pick task, only what it asked for.
    pub winding_down: bool,
    /// The terminal's answer to the last action.
    pub last_reply: Option<Reply>,
    /// The clerk's choices (what to do next, which bin), apart from the pace.
    rng: SmallRng,
    waiting: Option<Waiting>,
    extras: Extras,
    /// A pick task taken from the menu: the server's answer is waited for until then.
    pick_waiting: Option<Instant>,
    pick_plan: PickPlan,
    skips: Skips,
    /// Batch labels scanned again for a task held without a job, by task: twice at most.
    relabelled: std::collections::BTreeMap<String, u32>,
    waker: Option<Arc<Notify>>,
    /// Whether the sync worker's last round reached the server (waits are skipped when not).
    link_up: Arc<AtomicBool>,
    /// The packer's plan for the order in hand, and when its shift ends.
    pack: packer::PackPlan,
    /// Sync rounds that reached the server, counted by the sync worker's status.
    online_rounds: Arc<std::sync::atomic::AtomicU64>,
}

/// What a refused action must leave untouched: the outbox, the local view, the flow's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub last_seq: u64,
    pub outbox_rows: u64,
    pub receipts: u64,
    pub receipt_lines: u64,
    pub units: i64,
    pub exceptions: u64,
    pub expects: Option<Expect>,
    pub tallies: Vec<(String, i64, i64)>,
    pub open_job: Option<String>,
    pub leases_wanted: u64,
    pub putaway: Option<PutawayView>,
}

impl Session {
    /// Opens the store and the oracle (trimming a torn last line).
    pub fn open(config: &DriverConfig) -> anyhow::Result<Session> {
        let store = Store::open(&config.db).context("opening the terminal's store")?;
        Session::with_store(config, store)
    }

    pub fn with_store(config: &DriverConfig, store: Store) -> anyhow::Result<Session> {
        let before = oracle::read(&config.oracle)?;
        let items_total = before.iter().filter(|e| e.action == "item").count() as u64;
        let oracle = OracleWriter::open(&config.oracle).context("opening the oracle")?;
        let reader = Connection::open_with_flags(
            &config.db,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        reader.busy_timeout(Duration::from_secs(5))?;
        let terminal = Terminal::new(store, CoreConfig::default(), Box::new(crate::today));
        // Another stream than the pace's, and another for each process on the same oracle.
        let rng = SmallRng::seed_from_u64(
            config.seed ^ 0x7075_7461_7761_7900 ^ (before.len() as u64).wrapping_mul(0x9e37),
        );
        Ok(Session {
            terminal,
            reader,
            oracle,
            config: config.clone(),
            summary: DriverSummary::default(),
            items_total,
            receipt_items: 0,
            last_reply: None,
            rng,
            waiting: None,
            extras: Extras::default(),
            winding_down: false,
            pick_waiting: None,
            pick_plan: PickPlan::default(),
            skips: Skips::default(),
            relabelled: Default::default(),
            waker: None,
            link_up: Arc::new(AtomicBool::new(true)),
            pack: packer::PackPlan::default(),
            online_rounds: Arc::default(),
        })
    }

    /// Connects the sync worker: the terminal wakes it after each commit, the driver while it
    /// waits for a task or a lease answer.
    pub fn set_waker(&mut self, waker: Arc<Notify>) {
        self.terminal.set_waker(waker.clone());
        self.waker = Some(waker);
    }

    /// The flag the sync worker's status keeps: true while its rounds reach the server.
    pub fn link_flag(&self) -> Arc<AtomicBool> {
        self.link_up.clone()
    }

    fn wake_sync(&self) {
        if let Some(w) = &self.waker {
            w.notify_one();
        }
    }

    /// True when the store has what scanning needs: the operator, the merchant, the product.
    pub fn master_data_ready(&self) -> bool {
        let s = self.terminal.store();
        let gtin14 = format!("{:0>14}", self.config.gtin);
        matches!(s.operator_by_badge(&self.config.badge), Ok(Some(_)))
            && matches!(s.merchant(&self.config.merchant), Ok(Some(_)))
            && s.products_by_barcode(&gtin14)
                .is_ok_and(|m| m.iter().any(|p| p.merchant_id == self.config.merchant))
    }

    /// The terminal's durable state and its flow's state, for before/after comparisons.
    pub fn snapshot(&self) -> anyhow::Result<Snapshot> {
        let count = |sql: &str| -> anyhow::Result<i64> {
            Ok(self.reader.query_row(sql, [], |r| r.get(0))?)
        };
        let receiving = self.terminal.receiving();
        Ok(Snapshot {
            last_seq: count("SELECT last_seq FROM device WHERE id = 1")? as u64,
            outbox_rows: count("SELECT count(*) FROM outbox")? as u64,
            receipts: count("SELECT count(*) FROM receipts")? as u64,
            receipt_lines: count("SELECT count(*) FROM receipt_lines")? as u64,
            units: count("SELECT coalesce(sum(quantity), 0) FROM receipt_lines")?,
            exceptions: count("SELECT count(*) FROM exceptions")? as u64,
            expects: receiving.map(|r| r.expects()),
            tallies: receiving
                .map(|r| {
                    r.view(self.terminal.store())
                        .lines
                        .into_iter()
                        .map(|l| (l.product_id, l.received, l.quarantined))
                        .collect()
                })
                .unwrap_or_default(),
            open_job: self.reader.query_row(
                "SELECT (SELECT flow || ' ' || key FROM open_job WHERE id = 1)",
                [],
                |r| r.get(0),
            )?,
            leases_wanted: count("SELECT count(*) FROM lease_wanted")? as u64,
            putaway: self.terminal.putaway().map(|p| p.view()),
        })
    }

    fn last_seq(&self) -> anyhow::Result<u64> {
        Ok(self.terminal.store().counts()?.last_seq)
    }

    /// Records a confirmed action durably; a refused one only counts.
    fn record(&mut self, action: &str, before: u64, reply: &Reply) -> anyhow::Result<bool> {
        self.last_reply = Some(reply.clone());
        if reply.tone == Tone::Error {
            self.summary.refused += 1;
            tracing::info!(
                action,
                "refused: {}",
                reply.text.render(self.terminal.lang())
            );
            return Ok(false);
        }
        let events = events_after(&self.reader, before)?;
        let entry = OracleEntry {
            action: action.to_string(),
            tone: tone_name(reply.tone).to_string(),
            events,
        };
        self.oracle.append(&entry)?;
        self.summary.actions += 1;
        if action == "item" {
            self.summary.items += 1;
            self.items_total += 1;
            self.receipt_items += 1;
        }
        Ok(true)
    }

    /// Logs in (a badge, and the PIN when it asks for one); no floor action, nothing recorded.
    pub fn log_in(&mut self) -> anyhow::Result<()> {
        let mut r = self
            .terminal
            .scan(&self.config.badge)
            .context("a badge scan always answers")?;
        if *self.terminal.screen() == Screen::Pin {
            let pin = self
                .config
                .pin
                .clone()
                .context("the badge asks for a PIN")?;
            r = self.terminal.enter_pin(&pin);
        }
        if r.tone == Tone::Error || self.terminal.operator().is_none() {
            anyhow::bail!("login refused: {}", r.text.render(self.terminal.lang()));
        }
        Ok(())
    }

    /// Does the next thing: the open putaway's next step, the open receipt's, or from the menu
    /// a tote to put away or a new receipt. Returns whether the terminal confirmed it.
    pub fn step(&mut self) -> anyhow::Result<bool> {
        if self.terminal.operator().is_none() {
            self.log_in()?;
        }
        let before = self.last_seq()?;
        if self.config.packer {
            return self.packer_step(before);
        }
        if self.terminal.picking().is_some_and(|p| !p.is_finished()) {
            return self.pick_step(before);
        }
        if self.terminal.putaway().is_some_and(|p| !p.is_finished()) {
            return self.putaway_step(before);
        }
        if self
            .terminal
            .mover()
            .is_some_and(|m| m.view().in_hand.is_some())
        {
            return self.move_step(before);
        }
        if self.terminal.counting().is_some_and(|c| !c.is_finished()) {
            return self.count_step(before);
        }
        let open = self.terminal.receiving().is_some_and(|r| !r.is_closed());
        if !open {
            self.terminal.home();
            if let Some(confirmed) = self.menu_pick(before)? {
                return Ok(confirmed);
            }
            if let Some(confirmed) = self.menu_putaway(before)? {
                return Ok(confirmed);
            }
            if let Some(confirmed) = self.menu_move(before)? {
                return Ok(confirmed);
            }
            if let Some(confirmed) = self.menu_count(before)? {
                return Ok(confirmed);
            }
            if let Err(r) = self.terminal.open(Screen::ReceivingStart) {
                return self.record("open", before, &r);
            }
            let r = self.terminal.start_blind(&self.config.merchant);
            self.receipt_items = 0;
            return self.record("open", before, &r);
        }
        if *self.terminal.screen() != Screen::Receiving {
            // A receipt resumed after a restart: back to its screen.
            if let Err(r) = self.terminal.open(Screen::ReceivingStart) {
                return self.record("open", before, &r);
            }
            self.receipt_items = self
                .terminal
                .receiving()
                .map(|r| {
                    r.view(self.terminal.store())
                        .lines
                        .iter()
                        .map(|l| l.received.max(0) as u64)
                        .sum()
                })
                .unwrap_or(0);
        }
        let expects = self
            .terminal
            .receiving()
            .map(|r| r.expects())
            .unwrap_or(Expect::Nothing);
        let (action, reply) = match expects {
            Expect::Container => {
                let tote = format!("{}{}", self.config.tote_prefix, before + 1);
                ("tote", self.terminal.scan(&tote))
            }
            Expect::Item if self.receipt_items >= self.config.receipt_items => (
                "close",
                Some(self.terminal.receiving_action(Action::RequestClose)),
            ),
            Expect::Item => {
                let gtin = self.config.gtin.clone();
                ("item", self.terminal.scan(&gtin))
            }
            Expect::ConfirmClose => (
                "confirm",
                Some(self.terminal.receiving_action(Action::Confirm)),
            ),
            _ => (
                "cancel",
                Some(self.terminal.receiving_action(Action::Cancel)),
            ),
        };
        let reply = reply.context("a scan on the receiving screen always answers")?;
        self.record(action, before, &reply)
    }

    /// This driver's totes that hold good goods on the device's view, oldest first.
    pub fn totes_with_goods(&self) -> anyhow::Result<Vec<String>> {
        let mut stmt = self.reader.prepare_cached(
            "SELECT json_extract(payload, '$.container') AS c, min(seq) FROM outbox
             WHERE type = 'goods_received' GROUP BY c ORDER BY min(seq)",
        )?;
        let totes = stmt
            .query_map([], |r| r.get::<_, Option<String>>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out = Vec::new();
        for tote in totes.into_iter().flatten() {
            if !tote.starts_with(&self.config.tote_prefix) {
                continue;
            }
            let units: i64 = self
                .terminal
                .store()
                .container_contents(&tote)?
                .iter()
                .filter(|r| r.condition == laituri_protocol::GoodsCondition::Good)
                .map(|r| r.quantity)
                .sum();
            if units > 0 {
                out.push(tote);
            }
        }
        Ok(out)
    }

    /// The open putaway task of one of `totes` on the device's task list, if any.
    fn task_of(&self, totes: &[String]) -> anyhow::Result<Option<(String, String)>> {
        Ok(self
            .terminal
            .store()
            .open_tasks(TaskKind::Putaway, 200)?
            .into_iter()
            .find_map(|t| {
                t.container
                    .filter(|c| totes.contains(c))
                    .map(|c| (t.task_id, c))
            }))
    }

    /// From the menu: an answered task, a task asked for, or a tote with goods to put away.
    /// `None` when the clerk goes receiving instead.
    fn menu_putaway(&mut self, before: u64) -> anyhow::Result<Option<bool>> {
        // A task asked for: wait a moment for the server's answer, else scan the tote.
        if let Some(w) = self.waiting.take() {
            loop {
                if let Some(r) = self.terminal.lease_answered() {
                    return self.record("lease", before, &r).map(Some);
                }
                if Instant::now() >= w.until || !self.link_up.load(Ordering::SeqCst) {
                    break;
                }
                self.wake_sync();
                std::thread::sleep(Duration::from_millis(5));
            }
            let r = self
                .terminal
                .scan(&w.tote)
                .context("a tote scan always answers")?;
            return self.record("putaway-tote", before, &r).map(Some);
        }
        // An answer that came after the clerk gave up waiting (or after a restart).
        if let Some(r) = self.terminal.lease_answered() {
            return self.record("lease", before, &r).map(Some);
        }
        let totes = self.totes_with_goods()?;
        if totes.is_empty() || self.rng.random_range(0..100) >= self.config.putaway_pct {
            return Ok(None);
        }
        if self.rng.random_range(0..100) < self.config.lease_pct {
            // The task list: a closed receipt's task shows after the next sync round.
            let until = Instant::now() + TASK_SHOWS_WITHIN;
            let mut task = self.task_of(&totes)?;
            while task.is_none() && Instant::now() < until && self.link_up.load(Ordering::SeqCst) {
                self.wake_sync();
                std::thread::sleep(Duration::from_millis(10));
                task = self.task_of(&totes)?;
            }
            if let Some((task_id, tote)) = task {
                if let Err(r) = self.terminal.open(Screen::PutawayStart) {
                    return self.record("putaway-open", before, &r).map(Some);
                }
                let r = self.terminal.take_task(&task_id);
                let confirmed = self.record("take-task", before, &r)?;
                if confirmed {
                    self.waiting = Some(Waiting {
                        tote,
                        until: Instant::now() + LEASE_ANSWERED_WITHIN,
                    });
                }
                return Ok(Some(confirmed));
            }
        }
        // A tote in hand is its own claim: scanned on the menu, it starts its putaway.
        let r = self
            .terminal
            .scan(&totes[0])
            .context("a tote scan always answers")?;
        self.record("putaway-tote", before, &r).map(Some)
    }

    /// From the menu: a bin of the merchant's zones where its goods lie on the view, scanned on
    /// the move screen, and its item scanned (one in hand). `None` when the clerk does
    /// something else.
    fn menu_move(&mut self, before: u64) -> anyhow::Result<Option<bool>> {
        if self.rng.random_range(0..100) >= self.config.move_pct {
            return Ok(None);
        }
        let mut with_goods = Vec::new();
        for bin in self.zone_bins()? {
            let holds = self
                .terminal
                .store()
                .location_contents(&bin)?
                .iter()
                .any(|r| r.merchant_id == self.config.merchant && r.quantity > 0);
            if holds {
                with_goods.push(bin);
            }
        }
        if with_goods.is_empty() {
            return Ok(None);
        }
        let bin = with_goods[self.rng.random_range(0..with_goods.len())].clone();
        if let Err(r) = self.terminal.open(Screen::Move) {
            return self.record("move-open", before, &r).map(Some);
        }
        let r = self
            .terminal
            .scan(&bin)
            .context("a scan on the move screen always answers")?;
        if !self.record("move-from", before, &r)? {
            return Ok(Some(false));
        }
        let r = self
            .terminal
            .scan(&self.config.gtin.clone())
            .context("a scan on the move screen always answers")?;
        self.record("move-item", before, &r).map(Some)
    }

    /// The next step of a move with goods in hand: now and then the keypad (a quantity up to
    /// what the view holds), else the bin they go to, after which the clerk leaves for the menu.
    fn move_step(&mut self, before: u64) -> anyhow::Result<bool> {
        let view = self
            .terminal
            .mover()
            .map(|m| m.view())
            .context("a move is open")?;
        if *self.terminal.screen() != Screen::Move
            && let Err(r) = self.terminal.open(Screen::Move)
        {
            return self.record("move-open", before, &r);
        }
        let known: i64 = view.rows.iter().map(|r| r.2).sum();
        let in_hand = view.in_hand.as_ref().map_or(0, |h| h.1);
        if in_hand == 1 && known > 1 && self.rng.random_range(0..100) < 30 {
            let n = self.rng.random_range(1..=known.min(4));
            let r = self
                .terminal
                .move_action(laituri::terminal::stock::Action::Quantity(n));
            return self.record("move-qty", before, &r);
        }
        let Some(to) = self.other_bin(Some(&view.from))? else {
            let r = self
                .terminal
                .move_action(laituri::terminal::stock::Action::Cancel);
            self.terminal.home();
            return self.record("move-cancel", before, &r);
        };
        let r = self
            .terminal
            .scan(&to)
            .context("a scan on the move screen always answers")?;
        let confirmed = self.record("move-to", before, &r)?;
        self.terminal.home();
        Ok(confirmed)
    }

    /// What the device's view holds loose of the driver's product at `bin`: `Some` only when the
    /// bin holds nothing else (a count names every line it finds; the driver scans one product).
    fn own_goods_in(&self, bin: &str) -> anyhow::Result<Option<i64>> {
        let product = self
            .terminal
            .store()
            .products_by_barcode(&laituri::terminal::recognise::product_code(
                &laituri_domain::scan::interpret(&self.config.gtin, &self.terminal.scan_options()),
            ))?
            .into_iter()
            .find(|p| p.merchant_id == self.config.merchant)
            .map(|p| p.product_id);
        let Some(product) = product else {
            return Ok(None);
        };
        let rows = self.terminal.store().location_contents(bin)?;
        if rows.is_empty()
            || rows
                .iter()
                .any(|r| r.product_id != product || r.container.is_some() || r.lot.is_some())
        {
            return Ok(None);
        }
        Ok(Some(rows.iter().map(|r| r.quantity).sum()))
    }

    /// From the menu: a bin of the merchant's zones that holds only the driver's goods, scanned
    /// on the counting screen. `None` when the clerk does something else, or may not count.
    fn menu_count(&mut self, before: u64) -> anyhow::Result<Option<bool>> {
        if !self.terminal.can(laituri_protocol::Role::Counting)
            || self.rng.random_range(0..100) >= self.config.count_pct
        {
            return Ok(None);
        }
        let mut countable = Vec::new();
        for bin in self.zone_bins()? {
            if self.own_goods_in(&bin)?.is_some_and(|q| q > 0) {
                countable.push(bin);
            }
        }
        if countable.is_empty() {
            return Ok(None);
        }
        let bin = countable[self.rng.random_range(0..countable.len())].clone();
        if let Err(r) = self.terminal.open(Screen::Counting) {
            return self.record("count-open", before, &r).map(Some);
        }
        let r = self
            .terminal
            .scan(&bin)
            .context("a scan on the counting screen always answers")?;
        self.record("count-location", before, &r).map(Some)
    }

    /// The next step of an open count: the item scanned once, then the keypad sets what is
    /// found (as the view holds it, or one off), then Finish, after which the counter leaves
    /// for the menu. A count resumed after a kill goes on from its journal.
    fn count_step(&mut self, before: u64) -> anyhow::Result<bool> {
        if *self.terminal.screen() != Screen::Counting
            && let Err(r) = self.terminal.open(Screen::Counting)
        {
            return self.record("count-open", before, &r);
        }
        let view = self
            .terminal
            .counting()
            .map(|c| c.view())
            .context("a count is open")?;
        let Some(location) = view.location.clone() else {
            let r = self
                .terminal
                .counting_action(laituri::terminal::counting::Action::Cancel);
            self.terminal.home();
            return self.record("count-cancel", before, &r);
        };
        let known = self.own_goods_in(&location)?.unwrap_or(0).max(0);
        let (action, reply) = match view.lines.first() {
            None if known == 0 => (
                "count-empty",
                self.terminal
                    .counting_action(laituri::terminal::counting::Action::Empty),
            ),
            None => (
                "count-item",
                self.terminal
                    .scan(&self.config.gtin.clone())
                    .context("a scan on the counting screen always answers")?,
            ),
            Some(line) => {
                let found = match self.rng.random_range(0..10) {
                    0..=6 => known,
                    7 | 8 => (known - 1).max(1),
                    _ => known + 1,
                };
                // The keypad once, after the first scan; then the count is finished.
                if line.2 == 1 && found != 1 {
                    (
                        "count-qty",
                        self.terminal
                            .counting_action(laituri::terminal::counting::Action::Quantity(found)),
                    )
                } else {
                    (
                        "count-finish",
                        self.terminal
                            .counting_action(laituri::terminal::counting::Action::Finish),
                    )
                }
            }
        };
        let confirmed = self.record(action, before, &reply)?;
        if action == "count-finish" || action == "count-empty" {
            self.terminal.home();
        }
        Ok(confirmed)
    }

    /// Bins of the merchant's zones, for a bin other than the suggestion or when none is.
    fn zone_bins(&self) -> anyhow::Result<Vec<String>> {
        let store = self.terminal.store();
        let zones = store
            .merchant(&self.config.merchant)?
            .map(|m| m.zones)
            .unwrap_or_default();
        let mut bins = Vec::new();
        for zone in zones {
            for loc in store.bins_of_zone(&zone, 40)? {
                if loc.kind == "bin" {
                    bins.push(loc.code);
                }
            }
        }
        Ok(bins)
    }

    fn other_bin(&mut self, not: Option<&str>) -> anyhow::Result<Option<String>> {
        let bins: Vec<String> = self
            .zone_bins()?
            .into_iter()
            .filter(|b| Some(b.as_str()) != not)
            .collect();
        Ok((!bins.is_empty()).then(|| bins[self.rng.random_range(0..bins.len())].clone()))
    }

    /// The next step on the putaway screen, until the tote is empty.
    fn putaway_step(&mut self, before: u64) -> anyhow::Result<bool> {
        if *self.terminal.screen() != Screen::Putaway {
            // A putaway resumed after a restart: back to its screen.
            if let Err(r) = self.terminal.open(Screen::PutawayStart) {
                return self.record("putaway-open", before, &r);
            }
        }
        let view = self
            .terminal
            .putaway()
            .map(|p| p.view())
            .context("a putaway is open")?;
        if self.extras.container != view.container {
            self.extras = Extras {
                container: view.container.clone(),
                ..Extras::default()
            };
        }
        let roll = self.rng.random_range(0..100);
        let (action, reply) = match view.expects {
            PutExpect::Item => {
                let gtin = self.config.gtin.clone();
                let r = self.terminal.scan(&gtin).context("an item scan answers")?;
                ("putaway-item", r)
            }
            PutExpect::Bin => match view.suggested.clone() {
                Some(_) if roll < 8 && self.extras.bin_full < 2 => {
                    self.extras.bin_full += 1;
                    ("bin-full", self.terminal.putaway_action(PutAction::BinFull))
                }
                Some(_)
                    if roll < 16
                        && self.extras.typed < 1
                        && view.quantity.is_some_and(|q| q > 1) =>
                {
                    self.extras.typed += 1;
                    let q = view.quantity.unwrap_or(2);
                    let n = self.rng.random_range(1..q);
                    (
                        "quantity",
                        self.terminal.putaway_action(PutAction::Quantity(n)),
                    )
                }
                Some(suggested) if roll < 28 && self.extras.other_bin < 2 => {
                    self.extras.other_bin += 1;
                    let bin = self.other_bin(Some(&suggested))?.unwrap_or(suggested);
                    let r = self.terminal.scan(&bin).context("a bin scan answers")?;
                    ("other-bin", r)
                }
                Some(suggested) => {
                    let r = self
                        .terminal
                        .scan(&suggested)
                        .context("a bin scan answers")?;
                    ("bin", r)
                }
                None => {
                    // Nothing suggested (every candidate full): any bin of the merchant's zones.
                    let Some(bin) = self.other_bin(None)? else {
                        let r = self.terminal.putaway_action(PutAction::Stop);
                        return self.record("putaway-stop", before, &r);
                    };
                    let r = self.terminal.scan(&bin).context("a bin scan answers")?;
                    ("bin", r)
                }
            },
            PutExpect::Reason if roll < 10 => (
                "reason-cancel",
                self.terminal.putaway_action(PutAction::Cancel),
            ),
            PutExpect::Reason => {
                let reason = [
                    OverrideReason::Blocked,
                    OverrideReason::DoesNotFit,
                    OverrideReason::Closer,
                    OverrideReason::LeadInstruction,
                ][self.rng.random_range(0..4)];
                (
                    "reason",
                    self.terminal.putaway_action(PutAction::Reason(reason)),
                )
            }
            PutExpect::Candidates | PutExpect::Nothing => (
                "putaway-cancel",
                self.terminal.putaway_action(PutAction::Cancel),
            ),
        };
        self.record(action, before, &reply)
    }

    /// True while the open pick job has put goods into its totes (false before the log-in that
    /// resumes it).
    pub fn goods_in_totes(&self) -> anyhow::Result<bool> {
        let Some(p) = self.terminal.picking().filter(|p| !p.is_finished()) else {
            return Ok(false);
        };
        let task = p.claim().task_id.clone();
        let picks: i64 = self.reader.query_row(
            "SELECT count(*) FROM outbox WHERE type = 'picked'
             AND json_extract(payload, '$.task.task_id') = ?1",
            [task],
            |r| r.get(0),
        )?;
        Ok(picks > 0)
    }

    /// True while a task asked for is not started yet: the server has not answered, or its
    /// answer was not taken.
    pub fn asking(&self) -> anyhow::Result<bool> {
        let n: i64 = self
            .reader
            .query_row("SELECT count(*) FROM lease_wanted", [], |r| r.get(0))?;
        Ok(n > 0)
    }

    /// True while there is picking to do: a job open, a task asked for, or one on the list.
    pub fn pick_work_left(&self) -> anyhow::Result<bool> {
        let store = self.terminal.store();
        Ok(self.pick_job_open()?
            || !store.leases_wanted()?.is_empty()
            || !store.open_tasks(TaskKind::Pick, 1)?.is_empty())
    }

    /// True while a pick job is open on the device (in the store: also before the log-in that
    /// resumes it).
    pub fn pick_job_open(&self) -> anyhow::Result<bool> {
        Ok(self
            .terminal
            .store()
            .open_job()?
            .is_some_and(|j| j.flow == laituri::terminal::picking::FLOW))
    }

    /// A pick task this device holds the lease of while no job works it and that it never
    /// finished: the picker scans its batch label again (the packet arrived, but the terminal
    /// stopped before the job started).
    fn held_pick_without_job(&self) -> anyhow::Result<Option<String>> {
        if self.pick_job_open()? {
            return Ok(None);
        }
        let mut stmt = self.reader.prepare_cached(
            "SELECT l.task_id FROM leases l JOIN tasks t ON t.task_id = l.task_id
             WHERE l.lost IS NULL AND t.kind = 'pick' AND t.status = 'leased'
               AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.type = 'pick_finished'
                               AND json_extract(o.payload, '$.task.task_id') = l.task_id)
             ORDER BY l.task_id LIMIT 10",
        )?;
        let ids = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(ids
            .into_iter()
            .find(|id| self.relabelled.get(id).copied().unwrap_or(0) < 2))
    }

    /// From the menu: the answer to a pick task taken (waited for a moment), or a pick task to
    /// take. `None` when the picker does other work instead.
    fn menu_pick(&mut self, before: u64) -> anyhow::Result<Option<bool>> {
        if let Some(until) = self.pick_waiting.take() {
            loop {
                if let Some(r) = self.terminal.lease_answered() {
                    return self.record("pick-lease", before, &r).map(Some);
                }
                if Instant::now() >= until || !self.link_up.load(Ordering::SeqCst) {
                    break;
                }
                self.wake_sync();
                std::thread::sleep(Duration::from_millis(5));
            }
            // No answer: the server is out of reach. Other work meanwhile; the answer starts
            // the job when it comes.
            return Ok(None);
        }
        if self.config.pick_pct == 0 || self.waiting.is_some() {
            return Ok(None);
        }
        if let Some(r) = self.terminal.lease_answered() {
            return self.record("pick-lease", before, &r).map(Some);
        }
        if let Some(task) = self.held_pick_without_job()? {
            *self.relabelled.entry(task.clone()).or_insert(0) += 1;
            let r = self
                .terminal
                .scan(&task)
                .context("a batch label scan always answers")?;
            let confirmed = self.record("pick-batch-label", before, &r)?;
            if confirmed && self.terminal.picking().is_none() {
                self.pick_waiting = Some(Instant::now() + LEASE_ANSWERED_WITHIN);
            }
            return Ok(Some(confirmed));
        }
        if self.winding_down
            || self.rng.random_range(0..100) >= self.config.pick_pct
            || !self.terminal.store().leases_wanted()?.is_empty()
            || self
                .terminal
                .store()
                .open_tasks(TaskKind::Pick, 1)?
                .is_empty()
        {
            return Ok(None);
        }
        if let Err(r) = self.terminal.open(Screen::PickingStart) {
            return self.record("pick-open", before, &r).map(Some);
        }
        let r = self.terminal.take_next_pick();
        let confirmed = self.record("pick-take", before, &r)?;
        if confirmed && r.tone == Tone::Ok {
            self.pick_waiting = Some(Instant::now() + LEASE_ANSWERED_WITHIN);
        }
        Ok(Some(confirmed))
    }

    /// The unit barcode of the goods of the current pick line, from the task's work packet and
    /// the device's master data.
    fn pick_barcode(&self, task_id: &str, view: &PickingView) -> anyhow::Result<String> {
        let lease = self
            .terminal
            .store()
            .lease(task_id)?
            .context("a pick job has its lease")?;
        let store = self.terminal.store();
        let mut product = None;
        for line in &lease.packet.task.lines {
            let at = line.goods.from.as_ref().map(|p| p.location.as_str());
            if at != view.location.as_deref() {
                continue;
            }
            let name = store.product_name(&line.goods.product_id)?;
            if name.is_some() && name == view.item {
                product = Some(line.goods.product_id.clone());
                break;
            }
        }
        let product = product.with_context(|| {
            format!(
                "no line of task {task_id} at {:?} is {:?}",
                view.location, view.item
            )
        })?;
        let code: String = self
            .reader
            .prepare_cached(
                "SELECT code FROM barcodes WHERE product_id = ?1 AND pack_qty = 1
                 ORDER BY code LIMIT 1",
            )?
            .query_row([&product], |r| r.get(0))
            .with_context(|| format!("product {product} has no unit barcode"))?;
        // Stored as a GTIN-14; its label is the GTIN-13.
        Ok(match code.strip_prefix('0') {
            Some(gtin13) if code.len() == 14 => gtin13.to_string(),
            _ => code,
        })
    }

    /// The tote of the current line's order: the one bound to it, or a new one labelled by the
    /// task and the order's slot on the cart.
    fn pick_tote(&self, task_id: &str, view: &PickingView) -> String {
        let order = view.order.as_ref();
        if let Some(tote) = order.and_then(|o| o.tote.clone()) {
            return tote;
        }
        let tail = &task_id[task_id.len().saturating_sub(8)..];
        format!(
            "{}{tail}-{}",
            self.config.pick_tote_prefix,
            order.map_or(0, |o| o.slot)
        )
    }

    /// The next step on the pick screen, until the totes are dropped at packing.
    fn pick_step(&mut self, before: u64) -> anyhow::Result<bool> {
        if *self.terminal.screen() != Screen::Picking {
            // A job resumed after a restart, or started by an answer: to its screen.
            if let Err(r) = self.terminal.open(Screen::PickingStart) {
                return self.record("pick-open", before, &r);
            }
        }
        let (view, task_id, lost) = {
            let p = self.terminal.picking().context("a pick job is open")?;
            (
                p.view(),
                p.claim().task_id.clone(),
                p.lease_lost(self.terminal.store()),
            )
        };
        if lost.is_some() {
            // Another device has the task now: the screen says so once, and to stop picking.
            let _ = self.terminal.lease_lost();
            let r = self.terminal.picking_action(PickAction::Stop);
            return self.record("pick-stop", before, &r);
        }
        let line: LineKey = (
            task_id.clone(),
            view.location.clone().unwrap_or_default(),
            view.item.clone().unwrap_or_default(),
            view.order
                .as_ref()
                .map(|o| o.reference.clone())
                .unwrap_or_default(),
        );
        if self.pick_plan.line != line {
            let short = view.quantity > 0 && self.rng.random_range(0..100) < 12;
            self.pick_plan = PickPlan {
                line,
                found: short.then(|| self.rng.random_range(0..view.quantity)),
                ..PickPlan::default()
            };
        }
        if self.skips.task != task_id {
            self.skips = Skips {
                task: task_id.clone(),
                done: 0,
            };
        }
        let roll = self.rng.random_range(0..100);
        let (action, reply) = match view.expects {
            PickExpect::Location => {
                let location = view.location.clone().unwrap_or_default();
                if roll < 6 && view.lines_left > 1 && self.skips.done < 3 {
                    self.skips.done += 1;
                    ("pick-skip", self.terminal.picking_action(PickAction::Skip))
                } else if roll < 10 && !self.pick_plan.wrong_location {
                    // The wrong location first: refused, nothing recorded.
                    self.pick_plan.wrong_location = true;
                    let wrong = self.config.packing.clone();
                    let r = self.terminal.scan(&wrong).context("a scan answers")?;
                    ("pick-wrong-location", r)
                } else {
                    let r = self.terminal.scan(&location).context("a scan answers")?;
                    ("pick-location", r)
                }
            }
            PickExpect::Item => {
                let want = self
                    .pick_plan
                    .found
                    .map_or(view.quantity, |f| f - self.pick_plan.put)
                    .clamp(0, view.quantity);
                if view.in_hand < want {
                    if view.in_hand > 0 && !self.pick_plan.part_put && roll < 6 {
                        // What is in hand into the tote first, the rest after it.
                        self.pick_plan.part_put = true;
                        let tote = self.pick_tote(&task_id, &view);
                        let r = self.terminal.scan(&tote).context("a tote scan answers")?;
                        if r.tone != Tone::Error {
                            self.pick_plan.put += view.in_hand;
                        }
                        ("pick-tote-part", r)
                    } else if view.in_hand > 0 && !self.pick_plan.typed && roll < 15 {
                        self.pick_plan.typed = true;
                        (
                            "pick-quantity",
                            self.terminal.picking_action(PickAction::Quantity(want)),
                        )
                    } else if view.in_hand > 0 && !self.pick_plan.cancelled && roll < 19 {
                        self.pick_plan.cancelled = true;
                        (
                            "pick-cancel",
                            self.terminal.picking_action(PickAction::Cancel),
                        )
                    } else {
                        let code = self.pick_barcode(&task_id, &view)?;
                        let r = self.terminal.scan(&code).context("an item scan answers")?;
                        ("pick-item", r)
                    }
                } else if self.pick_plan.found.is_some() {
                    (
                        "pick-short",
                        self.terminal.picking_action(PickAction::Short),
                    )
                } else {
                    let tote = self.pick_tote(&task_id, &view);
                    let r = self.terminal.scan(&tote).context("a tote scan answers")?;
                    ("pick-tote", r)
                }
            }
            PickExpect::Tote => {
                let tote = self.pick_tote(&task_id, &view);
                let r = self.terminal.scan(&tote).context("a tote scan answers")?;
                ("pick-tote", r)
            }
            PickExpect::ZeroCheck => (
                "pick-zero-check",
                self.terminal
                    .picking_action(PickAction::ZeroCheck(roll >= 10)),
            ),
            PickExpect::Drop => {
                let packing = self.config.packing.clone();
                let r = self.terminal.scan(&packing).context("a scan answers")?;
                ("pick-drop", r)
            }
            PickExpect::Nothing => ("pick-stop", self.terminal.picking_action(PickAction::Stop)),
        };
        let confirmed = self.record(action, before, &reply)?;
        if self.terminal.picking().is_some_and(|p| p.is_finished()) {
            self.summary.pick_tasks += 1;
            self.terminal.home();
        }
        Ok(confirmed)
    }

    /// Events still waiting for the server.
    pub fn pending(&self) -> u64 {
        self.terminal
            .store()
            .counts()
            .map(|c| c.pending())
            .unwrap_or(u64::MAX)
    }
}

/// Runs the driver until the oracle holds `items` item scans, then lets the outbox drain for
/// up to `drain`. The sync worker runs beside it the whole time.
pub fn run(config: &DriverConfig) -> anyhow::Result<DriverSummary> {
    let mut session = Session::open(config)?;
    let online = Arc::new(AtomicBool::new(false));
    let o = online.clone();
    let link = session.link_flag();
    let rounds = session.online_rounds.clone();
    let sync = SyncHandle::start(config.sync_config(), move |status| {
        if status.online {
            o.store(true, Ordering::SeqCst);
            rounds.fetch_add(1, Ordering::SeqCst);
        }
        link.store(status.online, Ordering::SeqCst);
    })?;
    session.set_waker(sync.waker());

    // A new terminal has nothing to scan against until its first pull: wait for it, as a clerk
    // waits for a new terminal to show the login screen. A terminal that has pulled goes at once.
    let ready_by = Instant::now() + Duration::from_secs(120);
    while !session.master_data_ready() {
        if online.load(Ordering::SeqCst) && !session.master_data_ready() {
            anyhow::bail!("the first sync finished but the demo's operator or product is missing");
        }
        if Instant::now() > ready_by {
            anyhow::bail!("no master data after two minutes: is the server reachable?");
        }
        std::thread::sleep(Duration::from_millis(10));
    }

    let mut rng = SmallRng::seed_from_u64(config.seed);
    let mut refusals_in_a_row = 0;
    // When the items are done, a pick job open (or asked for) is finished first, taking no
    // new one; or, to end in the middle of one, a job is worked until its totes hold goods
    // (within a bound of steps).
    let mut after_items = 0;
    while session.items_total < config.items
        || (after_items < FINISH_PICKING_WITHIN
            && if config.finish_picking {
                session.pick_job_open()? || (config.pick_pct > 0 && session.asking()?)
            } else {
                config.pick_pct > 0 && !session.goods_in_totes()? && session.pick_work_left()?
            })
        || (config.packer && session.packing_left()?)
    {
        if session.items_total >= config.items {
            after_items += 1;
            session.winding_down = config.finish_picking;
        }
        if session.step()? {
            refusals_in_a_row = 0;
        } else {
            refusals_in_a_row += 1;
            if refusals_in_a_row >= config.max_refusals {
                anyhow::bail!("{refusals_in_a_row} actions refused in a row");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let pause = config.pace_ms
            + if config.jitter_ms > 0 {
                rng.random_range(0..=config.jitter_ms)
            } else {
                0
            };
        if pause > 0 {
            std::thread::sleep(Duration::from_millis(pause));
        }
    }

    let drain_by = Instant::now() + config.drain;
    while session.pending() > 0 && Instant::now() < drain_by {
        sync.wake();
        std::thread::sleep(Duration::from_millis(20));
    }
    session.summary.pending = session.pending();
    sync.stop();
    Ok(session.summary)
}

//! The scanning driver: floor actions against the real terminal core, with its sync worker.
//!
//! It is what a receiving clerk does, without a window: log in with a badge, start a blind receipt
//! for a merchant, scan a tote, scan items, close the receipt after a few, start the next. Every
//! action the terminal confirms goes to the oracle ([`crate::oracle`]) before the next one. It can
//! be killed at any moment and started again on the same store and oracle: it picks up where the
//! terminal is (a receipt left open resumes) and goes on until the oracle holds `items` scans.
//!
//! It owns nothing of the terminal: it calls `Terminal` as the UI adapters do.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use laituri::store::Store;
use laituri::sync::{SyncConfig, SyncHandle};
use laituri::terminal::receiving::Action;
use laituri::terminal::{CoreConfig, Reply, Screen, Terminal, Tone};
use laituri_domain::receiving::Expect;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use rusqlite::{Connection, OpenFlags, params};
use serde::{Deserialize, Serialize};

use crate::oracle::{self, OracleEntry, OracleEvent, OracleWriter};

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
        }
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
            event_type,
        });
    }
    Ok(out)
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
    /// The terminal's answer to the last action.
    pub last_reply: Option<Reply>,
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
        Ok(Session {
            terminal,
            reader,
            oracle,
            config: config.clone(),
            summary: DriverSummary::default(),
            items_total,
            receipt_items: 0,
            last_reply: None,
        })
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

    /// Logs in (a badge without PIN); no floor action, nothing recorded.
    pub fn log_in(&mut self) -> anyhow::Result<()> {
        let r = self
            .terminal
            .scan(&self.config.badge)
            .context("a badge scan always answers")?;
        if r.tone == Tone::Error || self.terminal.operator().is_none() {
            anyhow::bail!("login refused: {}", r.text.render(self.terminal.lang()));
        }
        Ok(())
    }

    /// Does the next thing the receiving screen asks for. Returns whether it was confirmed.
    pub fn step(&mut self) -> anyhow::Result<bool> {
        if self.terminal.operator().is_none() {
            self.log_in()?;
        }
        let before = self.last_seq()?;
        let open = self.terminal.receiving().is_some_and(|r| !r.is_closed());
        if !open {
            self.terminal.home();
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
    let sync = SyncHandle::start(config.sync_config(), move |status| {
        if status.online {
            o.store(true, Ordering::SeqCst);
        }
    })?;
    session.terminal.set_waker(sync.waker());

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
    while session.items_total < config.items {
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

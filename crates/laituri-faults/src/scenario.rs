//! The faults, each over seeded runs: what the tests run briefly and the soak mode for minutes.
//!
//! A [`Rig`] is one server process with the demo warehouse, a fault proxy in front of it and a
//! directory for the runs. A run is one new terminal store driven by the scanning driver until it
//! has scanned its items, while a scenario does its worst; then the faults heal, the outbox drains
//! straight to the server, and [`check::check_run`] judges it. After all runs the rig checks that
//! the server's stock is the fold of the applied events, and that no task was worked by two
//! devices.
//!
//! Every wait has a deadline and every loop a bound; only 127.0.0.1 is used.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use laituri::store::Store;
use laituri::sync::SyncHandle;
use laituri::terminal::Tone;
use laituri::terminal::messages::Text;
use laituri_faultproxy::{Fault, FaultProxy, Stats};
use laituri_protocol::{
    EventOutcome, PROTOCOL_HEADER, PROTOCOL_VERSION, PushRequest, PushResponse, paths,
};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

use crate::badhttp::HttpFaults;
use crate::check::{self, RunCheck, StockKey};
use crate::driver::{DriverConfig, DriverSummary, Session};
use crate::outbound::{self, Stocker, Wave};
use crate::server::{self, ServerProcess};
use crate::serverdb::{PgEvents, ServerEvents};
use crate::webhooks::{Answered, Answers, Receiver};
use crate::{DemoFacts, Totals, WebhookTotals};

mod packing;
pub use packing::{PackTally, packing_server_kills, packing_under_faults};

/// Where the binaries are.
#[derive(Debug, Clone)]
pub struct Bins {
    pub driver: PathBuf,
    pub server: PathBuf,
}

/// The files of one run.
#[derive(Debug, Clone)]
pub struct RunFiles {
    pub name: String,
    pub db: PathBuf,
    pub oracle: PathBuf,
    pub log: PathBuf,
}

/// One server, its proxy, and the runs against them; on PostgreSQL, a second server process on
/// the same database with a proxy of its own.
pub struct Rig {
    pub dir: PathBuf,
    pub bins: Bins,
    pub server_db: PathBuf,
    /// The database, when the servers store in PostgreSQL (`server_db` is then unused).
    pub postgres: Option<PgEvents>,
    pub server: ServerProcess,
    pub proxy: FaultProxy,
    /// The second server process and its proxy (PostgreSQL only).
    pub second: Option<(ServerProcess, FaultProxy)>,
    pub facts: DemoFacts,
    baseline: BTreeMap<StockKey, i64>,
    pub totals: Totals,
    /// Events the terminals committed, and those of them the operator was told about: the
    /// difference is what a kill -9 cut between the commit and the beep.
    pub committed_events: u64,
    pub confirmed_events: u64,
    /// Confirmed `put_away` events, and those the server answered `Partial` (goods moved, task
    /// progress refused): delivered either way.
    pub confirmed_putaways: u64,
    /// Confirmed `stock_moved` events (part of a bin moved into another).
    pub confirmed_moves: u64,
    /// Confirmed `location_counted` events (a bin counted).
    pub confirmed_counts: u64,
    /// Confirmed `return_received` events (a customer's return taken in).
    pub confirmed_returns: u64,
    pub partial_events: u64,
    /// Terminals that went on under a new device id (their database was restored from a backup).
    pub continued_terminals: u64,
    /// Confirmed picking events by type (picked, pick_short, zero_checked, totes_dropped,
    /// pick_finished).
    pub picking_events: BTreeMap<String, u64>,
    /// Confirmed actions of the pick flow, whether they recorded an event or not.
    pub pick_actions: u64,
    /// Pick tasks made by releases, and what the last check of who worked the tasks found.
    pub pick_tasks_released: u64,
    pub workers: check::WorkerCheck,
    /// What the packing scenarios found.
    pub packing: PackTally,
    /// Bins and products the waves of stock for the pickers used: the next wave takes others.
    used: outbound::Used,
    /// What the webhook scenario delivered, and what it found.
    pub webhooks: WebhookTotals,
    pub problems: Vec<String>,
    runs: u64,
    /// Print one line per run.
    pub verbose: bool,
}

fn proxy_faults(s: Stats) -> u64 {
    s.resets + s.dropped_responses + s.blackholed + s.upstream_failures
}

impl Rig {
    /// Seeds a server database in `dir`, starts the server process and a proxy in front.
    pub fn new(bins: &Bins, dir: &Path) -> anyhow::Result<Rig> {
        std::fs::create_dir_all(dir)?;
        let server_db = dir.join("server.sqlite3");
        let guide = server::seed(&server_db)?;
        let facts = DemoFacts::from_guide(&guide)?;
        let server = ServerProcess::start(&bins.server, &server_db, &dir.join("server.log"))?;
        let proxy = FaultProxy::start(server.addr())?;
        let baseline = check::server_stock(&server.url())?;
        Ok(Rig {
            dir: dir.to_path_buf(),
            bins: bins.clone(),
            server_db,
            postgres: None,
            server,
            proxy,
            second: None,
            facts,
            baseline,
            totals: Totals::default(),
            committed_events: 0,
            confirmed_events: 0,
            confirmed_putaways: 0,
            confirmed_moves: 0,
            confirmed_counts: 0,
            confirmed_returns: 0,
            partial_events: 0,
            continued_terminals: 0,
            picking_events: BTreeMap::new(),
            pick_actions: 0,
            pick_tasks_released: 0,
            workers: check::WorkerCheck::default(),
            packing: PackTally::default(),
            used: outbound::Used::default(),
            webhooks: WebhookTotals::default(),
            problems: Vec::new(),
            runs: 0,
            verbose: true,
        })
    }

    /// Seeds the demo warehouse into the empty PostgreSQL database `url` and starts two server
    /// processes on it, each with a proxy in front.
    pub fn on_postgres(bins: &Bins, dir: &Path, url: &str) -> anyhow::Result<Rig> {
        std::fs::create_dir_all(dir)?;
        let guide = server::seed_postgres(url)?;
        let facts = DemoFacts::from_guide(&guide)?;
        let unused = dir.join("unused.sqlite3");
        let start = |name: &str| {
            let log = dir.join(format!("server-{name}.log"));
            ServerProcess::start_on(&bins.server, &unused, Some(url), &log)
        };
        let (server, other) = (start("a")?, start("b")?);
        let proxy = FaultProxy::start(server.addr())?;
        let other_proxy = FaultProxy::start(other.addr())?;
        let baseline = check::server_stock(&server.url())?;
        Ok(Rig {
            dir: dir.to_path_buf(),
            bins: bins.clone(),
            server_db: unused,
            postgres: Some(PgEvents {
                url: url.to_string(),
                warehouse_id: guide.warehouse_id.clone(),
            }),
            server,
            proxy,
            second: Some((other, other_proxy)),
            facts,
            baseline,
            totals: Totals::default(),
            committed_events: 0,
            confirmed_events: 0,
            confirmed_putaways: 0,
            confirmed_moves: 0,
            confirmed_counts: 0,
            confirmed_returns: 0,
            partial_events: 0,
            problems: Vec::new(),
            runs: 0,
            continued_terminals: 0,
            picking_events: BTreeMap::new(),
            pick_actions: 0,
            pick_tasks_released: 0,
            workers: check::WorkerCheck::default(),
            packing: PackTally::default(),
            used: outbound::Used::default(),
            webhooks: WebhookTotals::default(),
            verbose: true,
        })
    }

    /// Where the servers record events, for the checker.
    pub fn events(&self) -> &dyn ServerEvents {
        match &self.postgres {
            Some(pg) => pg,
            None => &self.server_db,
        }
    }

    pub fn new_run(&mut self, scenario: &str) -> RunFiles {
        self.runs += 1;
        let name = format!("{scenario}-{:03}", self.runs);
        let run_dir = self.dir.join(&name);
        let _ = std::fs::create_dir_all(&run_dir);
        RunFiles {
            db: run_dir.join("terminal.sqlite3"),
            oracle: run_dir.join("oracle.jsonl"),
            log: run_dir.join("driver.log"),
            name,
        }
    }

    /// A driver configuration for `run` through the proxy, varied by `rng`.
    pub fn driver_config(&self, run: &RunFiles, rng: &mut SmallRng) -> DriverConfig {
        let mut c = DriverConfig::new(
            run.db.clone(),
            self.proxy.url(),
            run.oracle.clone(),
            &self.facts,
        );
        c.items = rng.random_range(15..=30);
        c.pace_ms = rng.random_range(0..=8);
        c.jitter_ms = rng.random_range(0..=8);
        c.seed = rng.random();
        c.batch_size = rng.random_range(1..=12);
        c.pull_limit = rng.random_range(5..=50);
        c.receipt_items = rng.random_range(4..=12);
        c.tote_prefix = format!("T-{}-", run.name);
        c
    }

    /// Enrols and pulls a new terminal straight from the server, with no fault.
    pub fn prime(&self, run: &RunFiles) -> anyhow::Result<()> {
        check::heal(&run.db, &self.server.url()).map(|_| ())
    }

    pub fn spawn_driver(&self, config: &DriverConfig, log: &Path) -> anyhow::Result<Child> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)?;
        Command::new(&self.bins.driver)
            .args(config.to_args())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.bins.driver.display()))
    }

    /// Waits for a driver to end by itself; kills it and fails after `limit`.
    pub fn wait_driver(
        &self,
        mut child: Child,
        limit: Duration,
        run: &RunFiles,
    ) -> anyhow::Result<DriverSummary> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait()? {
                let mut out = String::new();
                if let Some(mut o) = child.stdout.take() {
                    let _ = o.read_to_string(&mut out);
                }
                anyhow::ensure!(
                    status.success(),
                    "driver of {} failed ({status}); see {}",
                    run.name,
                    run.log.display()
                );
                let line = out.lines().last().unwrap_or_default();
                return serde_json::from_str(line)
                    .with_context(|| format!("driver summary of {}: {out:?}", run.name));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                anyhow::bail!(
                    "driver of {} still running after {limit:?}; see {}",
                    run.name,
                    run.log.display()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Runs a driver for up to `after` and kills it with SIGKILL if it is still running.
    /// Returns whether it was killed (false: it had finished by itself).
    pub fn kill_driver_after(&mut self, mut child: Child, after: Duration) -> anyhow::Result<bool> {
        let deadline = Instant::now() + after;
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait()? {
                anyhow::ensure!(status.success(), "driver failed before its kill: {status}");
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        child.kill()?;
        child.wait()?;
        self.totals.kills += 1;
        Ok(true)
    }

    /// Heals everything, drains the outbox straight to the server and checks the run.
    pub fn finish_run(&mut self, run: &RunFiles) -> anyhow::Result<RunCheck> {
        self.proxy.set(Fault::None);
        if !self.server.is_running() {
            let addr = self.server.restart()?;
            self.proxy.set_upstream(addr);
        }
        check::heal(&run.db, &self.server.url())
            .with_context(|| format!("healing {}", run.name))?;
        let c = check::check_run(self.events(), &self.server.url(), &run.db, &run.oracle)?;
        self.totals.runs += 1;
        self.totals.actions += c.actions;
        self.totals.picks += c.picks;
        self.pick_actions += c.pick_actions;
        for (kind, n) in &c.picking_events {
            *self.picking_events.entry(kind.clone()).or_insert(0) += n;
        }
        self.totals.lost += c.lost;
        self.totals.duplicated += c.duplicated;
        self.committed_events += c.committed_events;
        self.confirmed_events += c.confirmed_events;
        self.confirmed_putaways += c.confirmed_putaways;
        self.confirmed_moves += c.confirmed_moves;
        self.confirmed_counts += c.confirmed_counts;
        self.confirmed_returns += c.confirmed_returns;
        self.partial_events += c.partial;
        for p in &c.problems {
            self.problems.push(format!("{}: {p}", run.name));
        }
        if self.verbose {
            println!(
                "{}: actions={} picks={} confirmed_events={} committed_events={} put_away={} \
                 partial={} lost={} duplicated={}{}",
                run.name,
                c.actions,
                c.picks,
                c.confirmed_events,
                c.committed_events,
                c.confirmed_putaways,
                c.partial,
                c.lost,
                c.duplicated,
                if c.problems.is_empty() {
                    String::new()
                } else {
                    format!(" PROBLEMS: {:?}", c.problems)
                }
            );
        }
        Ok(c)
    }

    /// The last check: server stock is the seeded stock plus the fold of the applied events'
    /// stock moves (receipts into totes, putaways from totes into bins, picks into totes in
    /// transit, drops at packing), and no task was worked by two devices.
    pub fn finish(&mut self) -> anyhow::Result<Totals> {
        self.proxy.set(Fault::None);
        if !self.server.is_running() {
            let addr = self.server.restart()?;
            self.proxy.set_upstream(addr);
        }
        let s = check::check_stock(self.events(), &self.server.url(), &self.baseline)?;
        self.totals.lost += s.short;
        self.totals.duplicated += s.excess;
        self.problems.extend(s.problems);
        let w = check::check_one_worker(self.events())?;
        self.totals.two_devices = w.two_devices;
        self.problems.extend(w.problems.iter().cloned());
        self.workers = w;
        self.totals.faults += proxy_faults(self.proxy.stats());
        if let Some((_, p)) = &self.second {
            self.totals.faults += proxy_faults(p.stats());
        }
        Ok(self.totals)
    }
}

fn sleep_ms(rng: &mut SmallRng, range: std::ops::RangeInclusive<u64>) -> Duration {
    Duration::from_millis(rng.random_range(range))
}

/// kill -9 of the terminal at random moments (mid-commit, mid-push, mid-pull, mid-enrolment),
/// then a restart on the same store and oracle, until the driver finishes by itself.
pub fn terminal_kills(rig: &mut Rig, seed: u64, runs: u32) -> anyhow::Result<()> {
    let mut rng = SmallRng::seed_from_u64(seed);
    for _ in 0..runs {
        let run = rig.new_run("terminal-kill");
        let mut config = rig.driver_config(&run, &mut rng);
        // Half the terminals are new: their first kills land in enrolment and the first pull.
        if rng.random_bool(0.5) {
            rig.prime(&run)?;
        }
        rig.proxy.set(match rng.random_range(0..3) {
            0 => Fault::None,
            1 => Fault::Delay {
                one_way_ms: rng.random_range(1..=20),
                jitter_ms: 10,
            },
            _ => Fault::Seeded {
                seed: rng.random(),
                p_reset: 0.1,
                p_drop_response: 0.1,
                p_blackhole: 0.0,
            },
        });
        config.items = rng.random_range(40..=80);
        config.pace_ms = rng.random_range(0..=4);
        let kills = rng.random_range(3..=8);
        for _ in 0..kills {
            let child = rig.spawn_driver(&config, &run.log)?;
            if !rig.kill_driver_after(child, sleep_ms(&mut rng, 10..=400))? {
                break;
            }
        }
        config.drain = Duration::from_secs(10);
        let child = rig.spawn_driver(&config, &run.log)?;
        rig.wait_driver(child, Duration::from_secs(120), &run)?;
        rig.finish_run(&run)?;
    }
    Ok(())
}

/// kill -9 of the server at random moments while terminals scan and push (before its commit,
/// between commit and answer: the proxy's delay widens that window), then a restart on the
/// same database.
pub fn server_kills(rig: &mut Rig, seed: u64, rounds: u32) -> anyhow::Result<()> {
    let mut rng = SmallRng::seed_from_u64(seed);
    for _ in 0..rounds {
        rig.proxy.set(if rng.random_bool(0.6) {
            Fault::Delay {
                one_way_ms: rng.random_range(5..=60),
                jitter_ms: 20,
            }
        } else {
            Fault::None
        });
        // One to three terminals at once, so the server dies with several pushes in flight.
        let mut drivers = Vec::new();
        for _ in 0..rng.random_range(1..=3) {
            let run = rig.new_run("server-kill");
            rig.prime(&run)?;
            let mut config = rig.driver_config(&run, &mut rng);
            config.pace_ms = rng.random_range(5..=15);
            config.drain = Duration::from_secs(20);
            let child = rig.spawn_driver(&config, &run.log)?;
            drivers.push((run, child));
        }
        for _ in 0..rng.random_range(2..=4) {
            std::thread::sleep(sleep_ms(&mut rng, 30..=500));
            rig.server.kill9();
            rig.totals.kills += 1;
            std::thread::sleep(sleep_ms(&mut rng, 0..=400));
            let addr = rig.server.restart()?;
            rig.proxy.set_upstream(addr);
        }
        rig.proxy.set(Fault::None);
        let mut ended = Vec::new();
        for (run, child) in drivers {
            rig.wait_driver(child, Duration::from_secs(120), &run)?;
            ended.push(run);
        }
        for run in &ended {
            rig.finish_run(run)?;
        }
    }
    Ok(())
}

/// Network faults through the proxy while terminals scan: lost requests and responses, resets,
/// blackholes longer than the request timeout, delay and jitter, a thin link, a flapping link.
pub fn network(rig: &mut Rig, seed: u64, runs: u32) -> anyhow::Result<()> {
    let mut rng = SmallRng::seed_from_u64(seed);
    for _ in 0..runs {
        let run = rig.new_run("network");
        rig.prime(&run)?;
        let mut config = rig.driver_config(&run, &mut rng);
        config.pace_ms = rng.random_range(5..=20);
        config.drain = Duration::from_secs(20);
        let child = rig.spawn_driver(&config, &run.log)?;
        let phases = rng.random_range(3..=5);
        for _ in 0..phases {
            let (fault, ms) = match rng.random_range(0..7) {
                0 => (
                    Fault::Seeded {
                        seed: rng.random(),
                        p_reset: 0.2,
                        p_drop_response: 0.25,
                        p_blackhole: 0.1,
                    },
                    rng.random_range(500..=1500),
                ),
                1 => (Fault::DropResponse, rng.random_range(200..=800)),
                2 => (Fault::Reset, rng.random_range(200..=800)),
                // Longer than the driver's request timeout (1 s).
                3 => (Fault::Blackhole, rng.random_range(1200..=2000)),
                4 => (
                    Fault::Delay {
                        one_way_ms: rng.random_range(50..=400),
                        jitter_ms: rng.random_range(0..=300),
                    },
                    rng.random_range(500..=1500),
                ),
                5 => (
                    Fault::Bandwidth {
                        bytes_per_sec: rng.random_range(2_000..=20_000),
                    },
                    rng.random_range(500..=1500),
                ),
                _ => (
                    Fault::Flap {
                        up_ms: rng.random_range(50..=300),
                        down_ms: rng.random_range(50..=300),
                    },
                    rng.random_range(500..=1500),
                ),
            };
            rig.proxy.set(fault);
            std::thread::sleep(Duration::from_millis(ms));
        }
        rig.proxy.set(Fault::None);
        rig.wait_driver(child, Duration::from_secs(120), &run)?;
        rig.finish_run(&run)?;
    }
    Ok(())
}

/// A server that answers 500, 503, 429 or garbage (HTML, truncated or foreign JSON, an empty
/// body, an answer that records nothing), before or after doing the work.
pub fn bad_server(rig: &mut Rig, seed: u64, runs: u32) -> anyhow::Result<()> {
    let mut rng = SmallRng::seed_from_u64(seed);
    for _ in 0..runs {
        let run = rig.new_run("bad-server");
        if rng.random_bool(0.5) {
            rig.prime(&run)?;
        }
        let front = HttpFaults::start(&rig.server.url(), rng.random(), 0.5)?;
        let mut config = rig.driver_config(&run, &mut rng);
        config.server_url = front.url();
        config.drain = Duration::from_secs(10);
        let child = rig.spawn_driver(&config, &run.log)?;
        rig.wait_driver(child, Duration::from_secs(120), &run)?;
        rig.totals.faults += front.faults();
        front.stop();
        rig.finish_run(&run)?;
    }
    Ok(())
}

/// Every event of a terminal's outbox, acknowledged or not, as it was pushed.
fn outbox_events(db: &Path) -> anyhow::Result<Vec<laituri_protocol::Event>> {
    Ok(Store::open(db)?.events_after(0, u32::MAX)?)
}

fn push_raw(
    server_url: &str,
    token: &str,
    body: &PushRequest,
) -> anyhow::Result<(u16, Option<PushResponse>)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let r = reqwest::Client::new()
            .post(format!("{server_url}{}", paths::PUSH))
            .bearer_auth(token)
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .json(body)
            .send()
            .await?;
        let status = r.status().as_u16();
        let bytes = r.bytes().await?;
        Ok((status, serde_json::from_slice(&bytes).ok()))
    })
}

/// Replays of old batches straight to the server after later events were applied: the whole
/// early batch, a slice of it, the whole outbox, and an early seq with a forged event id. None
/// may change anything.
pub fn replay(rig: &mut Rig, seed: u64, runs: u32) -> anyhow::Result<()> {
    let mut rng = SmallRng::seed_from_u64(seed);
    for _ in 0..runs {
        let run = rig.new_run("replay");
        rig.prime(&run)?;
        let mut config = rig.driver_config(&run, &mut rng);
        config.items = rng.random_range(5..=10);
        // Offline: everything stays in the outbox, where the batch is captured.
        rig.proxy.set(Fault::Reset);
        let child = rig.spawn_driver(&config, &run.log)?;
        rig.wait_driver(child, Duration::from_secs(60), &run)?;
        let (captured, device_id, token) = {
            let store = Store::open(&run.db)?;
            let device = store.device()?;
            (
                store.pending_batch(1000)?,
                device.device_id,
                device.token.context("a primed terminal has a token")?,
            )
        };
        anyhow::ensure!(!captured.is_empty(), "nothing captured to replay");
        // Back online; more scanning on top, then everything drains.
        rig.proxy.set(Fault::None);
        config.items += rng.random_range(5..=15);
        config.drain = Duration::from_secs(10);
        let child = rig.spawn_driver(&config, &run.log)?;
        rig.wait_driver(child, Duration::from_secs(60), &run)?;
        check::heal(&run.db, &rig.server.url())?;
        let before = check::server_stock(&rig.server.url())?;
        let whole = outbox_events(&run.db)?;
        let url = rig.server.url();
        let from = rng.random_range(0..captured.len());
        let to = rng.random_range(from + 1..=captured.len());
        let mut forged = captured[..1].to_vec();
        forged[0].event_id = uuid::Uuid::now_v7();
        for (what, events) in [
            ("the captured batch", captured.clone()),
            ("a slice of it", captured[from..to].to_vec()),
            ("the whole outbox", whole),
            ("a forged event id", forged),
        ] {
            let body = PushRequest { device_id, events };
            let (status, answer) = push_raw(&url, &token, &body)?;
            rig.totals.faults += 1;
            let Some(answer) = answer.filter(|_| status == 200) else {
                rig.problems
                    .push(format!("{}: replay of {what}: HTTP {status}", run.name));
                continue;
            };
            if answer.results.len() != body.events.len() {
                rig.problems.push(format!(
                    "{}: replay of {what}: {} results for {} events",
                    run.name,
                    answer.results.len(),
                    body.events.len()
                ));
            }
            for r in &answer.results {
                let fine = match &r.outcome {
                    EventOutcome::Duplicate { .. } => what != "a forged event id",
                    EventOutcome::Rejected { code, .. } => {
                        what == "a forged event id" && code == "seq_conflict"
                    }
                    EventOutcome::Applied | EventOutcome::Partial { .. } => false,
                };
                if !fine {
                    rig.problems.push(format!(
                        "{}: replay of {what}: seq {} answered {:?}",
                        run.name, r.seq, r.outcome
                    ));
                }
            }
        }
        let after = check::server_stock(&url)?;
        if before != after {
            rig.problems
                .push(format!("{}: stock changed by replays", run.name));
        }
        rig.finish_run(&run)?;
        // The check enrolled the device again: the old token is refused and changes nothing.
        let body = PushRequest {
            device_id,
            events: captured,
        };
        let (status, _) = push_raw(&url, &token, &body)?;
        rig.totals.faults += 1;
        if status != 401 && status != 403 {
            rig.problems.push(format!(
                "{}: a replay with a replaced token answered HTTP {status}",
                run.name
            ));
        }
        if check::server_stock(&url)? != after {
            rig.problems
                .push(format!("{}: stock changed by a stale replay", run.name));
        }
    }
    Ok(())
}

/// A full disk on the terminal: the store may not grow, so a write fails with SQLITE_FULL. The
/// action is refused with a message that says nothing was saved, nothing is half-written, the
/// flow stays where it was; with space again the same action goes through.
pub fn disk_full(rig: &mut Rig, seed: u64, runs: u32) -> anyhow::Result<()> {
    let mut rng = SmallRng::seed_from_u64(seed);
    for _ in 0..runs {
        let run = rig.new_run("disk-full");
        rig.prime(&run)?;
        let mut config = rig.driver_config(&run, &mut rng);
        config.items = rng.random_range(20..=40);
        let sync = SyncHandle::start(config.sync_config(), |_| {})?;
        let mut session = Session::open(&config)?;
        session.set_waker(sync.waker());
        session.log_in()?;
        let full_after = rng.random_range(1..=5);
        while session.items_total < full_after {
            session.step()?;
        }
        // No more room: the store keeps the pages it has.
        session.terminal.store().set_max_page_count(1)?;
        let mut refused = 0;
        for _ in 0..5000 {
            let before = session.snapshot()?;
            if session.step()? {
                continue;
            }
            refused += 1;
            let reply = session
                .last_reply
                .clone()
                .context("a refusal has a reply")?;
            let said = reply.text.render(session.terminal.lang());
            // Every storage refusal says "nothing was saved", in the operator's language.
            if reply.tone != Tone::Error || !matches!(reply.text, Text::Store(_)) {
                rig.problems.push(format!(
                    "{}: a full disk answered {:?}: {said}",
                    run.name, reply.tone
                ));
            }
            let after = session.snapshot()?;
            if before != after {
                rig.problems.push(format!(
                    "{}: a refused write changed the terminal: {before:?} -> {after:?}",
                    run.name
                ));
            }
            if refused >= 3 {
                break;
            }
        }
        if refused == 0 {
            rig.problems
                .push(format!("{}: the store never filled up", run.name));
        }
        rig.totals.faults += refused;
        // Space again: the same flow goes on from where it was.
        session.terminal.store().set_max_page_count(1 << 30)?;
        while session.items_total < config.items {
            anyhow::ensure!(session.step()?, "refused after the disk had room again");
        }
        drop(session);
        sync.stop();
        rig.finish_run(&run)?;
    }
    Ok(())
}

/// A thin link: a long offline queue pushed through a link so slow that a full batch cannot
/// arrive within the request timeout. The outbox must still drain.
pub fn thin_link(rig: &mut Rig, seed: u64, runs: u32) -> anyhow::Result<()> {
    let mut rng = SmallRng::seed_from_u64(seed);
    for _ in 0..runs {
        let run = rig.new_run("thin-link");
        rig.prime(&run)?;
        let mut config = rig.driver_config(&run, &mut rng);
        config.items = rng.random_range(40..=50);
        config.pace_ms = 0;
        config.jitter_ms = 0;
        config.receipt_items = 1000;
        // Offline while scanning: the whole receipt waits in the outbox.
        rig.proxy.set(Fault::Reset);
        let child = rig.spawn_driver(&config, &run.log)?;
        rig.wait_driver(child, Duration::from_secs(60), &run)?;
        // Back, but thin: 6 kB/s each way, a 1 s timeout, batches of up to 500 events (about
        // 500 bytes each): the whole queue in one push cannot make it in time.
        rig.proxy.set(Fault::Bandwidth {
            bytes_per_sec: 6_000,
        });
        config.batch_size = 500;
        config.drain = Duration::from_secs(60);
        let child = rig.spawn_driver(&config, &run.log)?;
        let summary = rig.wait_driver(child, Duration::from_secs(120), &run)?;
        if summary.pending > 0 {
            rig.problems.push(format!(
                "{}: {} events still pending after 60 s on a 6 kB/s link",
                run.name, summary.pending
            ));
        }
        rig.finish_run(&run)?;
    }
    Ok(())
}

/// Two server processes on one PostgreSQL database, terminals pushing through both (each
/// terminal's proxy is switched between the servers, as a load balancer would), and kill -9 of
/// one server at random moments, then its restart. Needs a rig made by [`Rig::on_postgres`].
pub fn two_servers(rig: &mut Rig, seed: u64, rounds: u32) -> anyhow::Result<()> {
    anyhow::ensure!(
        rig.second.is_some(),
        "two_servers needs a rig on PostgreSQL"
    );
    let mut rng = SmallRng::seed_from_u64(seed);
    for _ in 0..rounds {
        // Two to four terminals, half of them through each proxy.
        let mut drivers = Vec::new();
        for i in 0..rng.random_range(2..=4) {
            let run = rig.new_run("two-servers");
            rig.prime(&run)?;
            let mut config = rig.driver_config(&run, &mut rng);
            if i % 2 == 1 {
                config.server_url = rig
                    .second
                    .as_ref()
                    .map(|(_, p)| p.url())
                    .unwrap_or_default();
            }
            config.pace_ms = rng.random_range(5..=15);
            config.drain = Duration::from_secs(20);
            let child = rig.spawn_driver(&config, &run.log)?;
            drivers.push((run, child));
        }
        let mut crossed = false;
        for _ in 0..rng.random_range(2..=4) {
            std::thread::sleep(sleep_ms(&mut rng, 30..=400));
            let Some((other, other_proxy)) = rig.second.as_mut() else {
                break;
            };
            // The proxies cross over (or back): every terminal talks to both servers in turn.
            crossed = !crossed;
            let (a, b) = (rig.server.addr(), other.addr());
            let (to_a, to_b) = if crossed {
                (&*other_proxy, &rig.proxy)
            } else {
                (&rig.proxy, &*other_proxy)
            };
            to_a.set_upstream(a);
            to_b.set_upstream(b);
            std::thread::sleep(sleep_ms(&mut rng, 30..=400));
            // kill -9 of one of them while pushes are in flight on both, and its restart on a
            // new port, which the proxy that led to it follows.
            let kill_a = rng.random_bool(0.5);
            let victim = if kill_a { &mut rig.server } else { &mut *other };
            victim.kill9();
            rig.totals.kills += 1;
            std::thread::sleep(sleep_ms(&mut rng, 0..=400));
            let restarted = victim.restart()?;
            let follower = match (kill_a, crossed) {
                (true, true) | (false, false) => &*other_proxy,
                (true, false) | (false, true) => &rig.proxy,
            };
            follower.set_upstream(restarted);
        }
        let mut ended = Vec::new();
        for (run, child) in drivers {
            rig.wait_driver(child, Duration::from_secs(120), &run)?;
            ended.push(run);
        }
        for run in &ended {
            rig.finish_run(run)?;
        }
    }
    // Both proxies carried terminals' requests, and each led to both servers in turn.
    let carried = |p: &FaultProxy| p.stats().connections > 0;
    anyhow::ensure!(
        carried(&rig.proxy) && rig.second.as_ref().is_some_and(|(_, p)| carried(p)),
        "the terminals did not talk through both proxies"
    );
    Ok(())
}

/// A copy of a terminal's database (and of its oracle) taken while the driver runs, at a moment
/// when no job or receipt is open and no task is asked for: a backup of the device's disk as a backup tool
/// takes it (SQLite's `VACUUM INTO`, one consistent snapshot beside the running writer). The
/// oracle is copied first, so every action it holds is in the snapshot. Only a moment between
/// jobs is taken: a restored copy then starts no work the other history may have finished (a
/// person would see that the tote is empty; the driver would not).
fn take_backup(run: &RunFiles, dir: &Path, deadline: Instant) -> anyhow::Result<bool> {
    let db = dir.join("backup.sqlite3");
    let oracle = dir.join("backup-oracle.jsonl");
    let idle = |c: &rusqlite::Connection| -> rusqlite::Result<bool> {
        c.query_row(
            "SELECT (SELECT count(*) FROM open_job) + (SELECT count(*) FROM lease_wanted)
                 + (SELECT count(*) FROM receipts WHERE status = 'open')",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n == 0)
    };
    let source = rusqlite::Connection::open(&run.db)?;
    source.busy_timeout(Duration::from_secs(5))?;
    while Instant::now() < deadline {
        if !idle(&source).unwrap_or(false) {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        let _ = std::fs::remove_file(&db);
        if run.oracle.exists() {
            std::fs::copy(&run.oracle, &oracle)?;
        } else {
            std::fs::write(&oracle, b"")?;
        }
        source.execute("VACUUM INTO ?1", [db.display().to_string()])?;
        if idle(&rusqlite::Connection::open(&db)?)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Replaces the run's terminal database and oracle with the backup's, as restoring the device's
/// disk from the backup does.
fn put_backup_back(run: &RunFiles, dir: &Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", run.db.display()));
    }
    std::fs::copy(dir.join("backup.sqlite3"), &run.db)?;
    std::fs::copy(dir.join("backup-oracle.jsonl"), &run.oracle)?;
    Ok(())
}

/// A terminal database restored from a backup: a copy taken at a random moment while the driver
/// runs; the driver goes on, is killed -9, and its outbox drains (that history's actions are
/// all on the server); then the copy is put back and the driver runs on from it, with kills and
/// lost answers, so the copy's history and the server's differ from the seq where the backup was
/// taken. Every action either history confirmed must be on the server exactly once: the
/// restored terminal's by [`check::check_run`] over the device ids it went on under, the other
/// history's by [`check::check_delivered`] over its oracle.
pub fn restored_backups(rig: &mut Rig, seed: u64, runs: u32) -> anyhow::Result<()> {
    restored(rig, seed, runs, None)
}

/// [`restored_backups`] of terminals whose operator picks too: before each run a wave of stock
/// and orders is released into pick tasks. A task the lost history took goes on under the device
/// id the restored copy continues with (the server hands the leases over): no task may then be
/// worked by two devices, counting a device and the one that continues it as one.
pub fn restored_pickers(rig: &mut Rig, seed: u64, runs: u32) -> anyhow::Result<()> {
    restored(rig, seed, runs, Some(70))
}

/// Brings a wave of stock and orders for the pickers, straight to the server, and releases it.
fn bring_wave(
    rig: &mut Rig,
    stocker: &mut Stocker,
    seed: u64,
    name: &str,
    orders: usize,
) -> anyhow::Result<()> {
    let (goods, bins) = outbound::catalogue(&rig.facts.merchant, &rig.facts.product);
    anyhow::ensure!(
        goods.len() >= 4 && !bins.is_empty(),
        "the demo has too few plain products or bins for the pickers"
    );
    rig.proxy.set(Fault::None);
    if !rig.server.is_running() {
        let addr = rig.server.restart()?;
        rig.proxy.set_upstream(addr);
    }
    stocker.set_base(&rig.server.url());
    let wave = Wave::plan(seed, name, &goods, &bins, &mut rig.used, orders);
    let released = wave
        .bring_in(&rig.server.url(), stocker, &rig.facts.merchant)
        .with_context(|| format!("stock and orders of {name}"))?;
    rig.pick_tasks_released += u64::from(released.tasks);
    if rig.verbose {
        println!(
            "{name}: {orders} orders, {} units in {} bins, {released:?}",
            wave.stock.iter().map(|(_, n, _)| n).sum::<i64>(),
            wave.stock.len()
        );
    }
    Ok(())
}

fn restored(rig: &mut Rig, seed: u64, runs: u32, pick_pct: Option<u32>) -> anyhow::Result<()> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut stocker = match pick_pct {
        Some(_) => Some(Stocker::enrol(&rig.server.url())?),
        None => None,
    };
    for i in 0..runs {
        if let Some(stocker) = stocker.as_mut() {
            let orders = rng.random_range(3..=6);
            bring_wave(rig, stocker, rng.random(), &format!("R{seed}-{i}"), orders)?;
        }
        let run = rig.new_run("restore");
        let run_dir = run
            .db
            .parent()
            .context("a run has a directory")?
            .to_path_buf();
        if rng.random_bool(0.7) {
            rig.prime(&run)?;
        }
        rig.proxy.set(if rng.random_bool(0.5) {
            Fault::None
        } else {
            Fault::Delay {
                one_way_ms: rng.random_range(1..=10),
                jitter_ms: 5,
            }
        });
        let mut config = rig.driver_config(&run, &mut rng);
        config.items = rng.random_range(60..=90);
        config.pace_ms = rng.random_range(4..=10);
        if let Some(pct) = pick_pct {
            // Jobs come one after another: a slower pace leaves moments between them.
            config = config.picking(&rig.facts, pct);
            config.items = rng.random_range(35..=50);
            config.pace_ms = rng.random_range(6..=12);
        }

        // The history that is lost with the disk: a backup at a random moment, then more work
        // until a kill -9, then everything it confirmed reaches the server.
        let child = rig.spawn_driver(&config, &run.log)?;
        std::thread::sleep(sleep_ms(&mut rng, 100..=800));
        let took = take_backup(&run, &run_dir, Instant::now() + Duration::from_secs(20))?;
        anyhow::ensure!(
            took,
            "{}: no moment between jobs for a backup in 20 s",
            run.name
        );
        rig.kill_driver_after(child, sleep_ms(&mut rng, 50..=800))?;
        rig.proxy.set(Fault::None);
        check::heal(&run.db, &rig.server.url())
            .with_context(|| format!("draining the lost history of {}", run.name))?;
        let lost_oracle = run_dir.join("lost-history-oracle.jsonl");
        std::fs::copy(&run.oracle, &lost_oracle)?;

        // The disk is restored from the backup; work goes on from it under kills and lost
        // answers (a continuation under a new device id whose answer is lost is asked again).
        put_backup_back(&run, &run_dir)?;
        rig.totals.faults += 1;
        config.tote_prefix = format!("T-{}-R-", run.name);
        config.items += if pick_pct.is_some() {
            rng.random_range(5..=10)
        } else {
            rng.random_range(10..=20)
        };
        config.seed = rng.random();
        rig.proxy.set(if rng.random_bool(0.5) {
            Fault::None
        } else {
            Fault::Seeded {
                seed: rng.random(),
                p_reset: 0.05,
                p_drop_response: 0.2,
                p_blackhole: 0.0,
            }
        });
        for _ in 0..rng.random_range(0..=3) {
            let child = rig.spawn_driver(&config, &run.log)?;
            if !rig.kill_driver_after(child, sleep_ms(&mut rng, 20..=600))? {
                break;
            }
        }
        config.drain = Duration::from_secs(10);
        let child = rig.spawn_driver(&config, &run.log)?;
        rig.wait_driver(child, Duration::from_secs(120), &run)?;
        let c = rig.finish_run(&run)?;
        if c.earlier_ids > 0 {
            rig.continued_terminals += 1;
        } else if rig.verbose {
            println!("{}: the two histories did not differ", run.name);
        }

        let lost = check::check_delivered(rig.events(), &lost_oracle)?;
        rig.totals.lost += lost.lost;
        rig.totals.duplicated += lost.duplicated;
        for p in &lost.problems {
            rig.problems
                .push(format!("{} (the other history): {p}", run.name));
        }
        if rig.verbose {
            println!(
                "{} (the other history): actions={} confirmed_events={} lost={} duplicated={}",
                run.name, lost.actions, lost.confirmed_events, lost.lost, lost.duplicated
            );
        }
    }
    Ok(())
}

/// A picker's terminal in a picking round: its files, its configuration and its process (none
/// once it ended by itself).
struct Picker {
    run: RunFiles,
    config: DriverConfig,
    child: Option<Child>,
}

impl Picker {
    /// kill -9 of the driver, and its start again on the same store and oracle after `down`.
    /// A driver that ended by itself meanwhile stays ended.
    fn kill_and_restart(&mut self, rig: &mut Rig, down: Duration) -> anyhow::Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        if let Some(status) = child.try_wait()? {
            anyhow::ensure!(
                status.success(),
                "driver of {} failed ({status}); see {}",
                self.run.name,
                self.run.log.display()
            );
            return Ok(());
        }
        child.kill()?;
        child.wait()?;
        rig.totals.kills += 1;
        std::thread::sleep(down);
        self.child = Some(rig.spawn_driver(&self.config, &self.run.log)?);
        Ok(())
    }
}

/// Pickers under every fault at once. Each round a device of the warehouse's own puts goods in
/// bins and the merchant's orders come in and are released into pick tasks of one to three
/// orders (what short picks of earlier rounds left is reserved again, into follow-up tasks);
/// then two or three terminals whose operator receives, puts away and picks work side by side,
/// taking the next pick task from the same list (so they ask for the same task and all but one
/// are refused), while terminals are killed -9 and started again, the server is killed -9 and
/// started again, and the proxy loses requests and answers, resets connections and blackholes
/// them. Every pick, short pick, zero check and drop a terminal confirmed must be on the server
/// once; stock in bins, in the totes in transit and at packing must be the fold of the applied
/// events; and no pick task may have been worked by two devices. On a rig with two servers on
/// one PostgreSQL database, every other picker talks to the second server, and either server
/// may be the one killed.
pub fn picking_under_faults(rig: &mut Rig, seed: u64, rounds: u32) -> anyhow::Result<()> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut stocker = Stocker::enrol(&rig.server.url())?;
    for round in 0..rounds {
        let orders = rng.random_range(8..=14);
        bring_wave(
            rig,
            &mut stocker,
            rng.random(),
            &format!("F{seed}-{round}"),
            orders,
        )?;

        let count = rng.random_range(2..=3);
        let mut pickers = spawn_pickers(rig, &mut rng, "picking", count)?;

        for _ in 0..rng.random_range(4..=7) {
            std::thread::sleep(sleep_ms(&mut rng, 100..=600));
            match rng.random_range(0..6) {
                0 | 1 => {
                    let i = rng.random_range(0..pickers.len());
                    let down = sleep_ms(&mut rng, 0..=300);
                    pickers[i].kill_and_restart(rig, down)?;
                }
                2 => {
                    let second = rig.second.is_some() && rng.random_bool(0.5);
                    let down = sleep_ms(&mut rng, 0..=400);
                    rig.totals.kills += 1;
                    match rig.second.as_mut().filter(|_| second) {
                        Some((server, proxy)) => {
                            server.kill9();
                            std::thread::sleep(down);
                            proxy.set_upstream(server.restart()?);
                        }
                        None => {
                            rig.server.kill9();
                            std::thread::sleep(down);
                            let addr = rig.server.restart()?;
                            rig.proxy.set_upstream(addr);
                        }
                    }
                }
                3 => {
                    rig.proxy.set(Fault::Seeded {
                        seed: rng.random(),
                        p_reset: 0.15,
                        p_drop_response: 0.25,
                        p_blackhole: 0.05,
                    });
                    std::thread::sleep(sleep_ms(&mut rng, 400..=1500));
                    rig.proxy.set(Fault::None);
                }
                4 => {
                    rig.proxy.set(if rng.random_bool(0.5) {
                        Fault::DropResponse
                    } else {
                        Fault::Reset
                    });
                    std::thread::sleep(sleep_ms(&mut rng, 200..=800));
                    rig.proxy.set(Fault::None);
                }
                _ => {
                    // Longer than the request timeout (1 s).
                    rig.proxy.set(Fault::Blackhole);
                    std::thread::sleep(sleep_ms(&mut rng, 1200..=2000));
                    rig.proxy.set(Fault::None);
                }
            }
        }
        rig.proxy.set(Fault::None);
        finish_pickers(rig, pickers)?;
    }
    Ok(())
}

/// `count` pickers' terminals started side by side, each a new run named after `scenario`,
/// taking pick tasks from the same list. With two servers on one database, every other picker
/// talks to the second.
fn spawn_pickers(
    rig: &mut Rig,
    rng: &mut SmallRng,
    scenario: &str,
    count: usize,
) -> anyhow::Result<Vec<Picker>> {
    let mut pickers = Vec::new();
    for i in 0..count {
        let run = rig.new_run(scenario);
        if rng.random_bool(0.8) {
            rig.prime(&run)?;
        }
        let pick_pct = rng.random_range(70..=95);
        let mut config = rig.driver_config(&run, rng).picking(&rig.facts, pick_pct);
        config.items = rng.random_range(6..=15);
        config.pace_ms = rng.random_range(2..=10);
        config.drain = Duration::from_secs(20);
        // Now and then a picker's shift ends in the middle of a job: its goods stay in transit.
        config.finish_picking = rng.random_bool(0.7);
        if let Some((_, proxy)) = rig.second.as_ref().filter(|_| i % 2 == 1) {
            config.server_url = proxy.url();
        }
        let child = rig.spawn_driver(&config, &run.log)?;
        pickers.push(Picker {
            run,
            config,
            child: Some(child),
        });
    }
    Ok(pickers)
}

/// Waits for the pickers' drivers to end and checks their runs.
fn finish_pickers(rig: &mut Rig, pickers: Vec<Picker>) -> anyhow::Result<()> {
    let mut ended = Vec::new();
    for p in pickers {
        if let Some(child) = p.child {
            rig.wait_driver(child, Duration::from_secs(120), &p.run)?;
        }
        ended.push(p.run);
    }
    for run in &ended {
        rig.finish_run(run)?;
    }
    Ok(())
}

/// How long the webhook outbox may take to drain once the receiver and the servers are healthy.
const WEBHOOK_DRAIN: Duration = Duration::from_secs(30);

/// Every server up, on a healed link.
fn servers_up(rig: &mut Rig) -> anyhow::Result<()> {
    rig.proxy.set(Fault::None);
    if !rig.server.is_running() {
        let addr = rig.server.restart()?;
        rig.proxy.set_upstream(addr);
    }
    if let Some((server, proxy)) = rig.second.as_mut()
        && !server.is_running()
    {
        proxy.set_upstream(server.restart()?);
    }
    Ok(())
}

/// The ids of `merchant`'s webhook events once every one of them is fanned out (within 30 s).
fn fanned_out_events(
    rig: &Rig,
    merchant: &str,
) -> anyhow::Result<std::collections::BTreeSet<uuid::Uuid>> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let events = rig.events().webhook_events(merchant)?;
        if events.iter().all(|e| e.fanned_out) {
            return Ok(events.into_iter().map(|e| e.event_id).collect());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{} webhook events of {merchant} still not fanned out after 30 s",
            events.iter().filter(|e| !e.fanned_out).count()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits (up to `limit`) until every event owed to `webhook` (of `merchant`, the subscribed
/// types, not in `before`) is fanned out, acknowledged by the receiver and recorded delivered by
/// the server. Whether it came to that.
fn drain_webhooks(
    rig: &Rig,
    merchant: &str,
    before: &std::collections::BTreeSet<uuid::Uuid>,
    webhook: uuid::Uuid,
    receiver: &Receiver,
    path: &str,
    limit: Duration,
) -> anyhow::Result<bool> {
    let wanted: Vec<&str> = crate::webhooks::TYPES.iter().map(|t| t.as_str()).collect();
    let deadline = Instant::now() + limit;
    loop {
        let acked: std::collections::BTreeSet<String> = receiver
            .arrivals(path)
            .into_iter()
            .filter(|a| matches!(a.answered, Answered::Ack(_)))
            .map(|a| a.id)
            .collect();
        let delivered: std::collections::BTreeSet<uuid::Uuid> = rig
            .events()
            .webhook_deliveries(webhook)?
            .into_iter()
            .filter(|d| d.status != "pending")
            .map(|d| d.event_id)
            .collect();
        let done = rig
            .events()
            .webhook_events(merchant)?
            .iter()
            .filter(|e| wanted.contains(&e.kind.as_str()) && !before.contains(&e.event_id))
            .all(|e| {
                e.fanned_out
                    && acked.contains(&e.event_id.to_string())
                    && delivered.contains(&e.event_id)
            });
        if done {
            return Ok(true);
        }
        if Instant::now() > deadline {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Webhooks to a merchant, at least once and never lost, through kill -9 of the server and a
/// receiver that misbehaves. The merchant subscribes to order status changes, stock level
/// changes and shipments through the integration API, with a receiver on 127.0.0.1 that answers
/// at random (2xx, 500, 503, or a hang past the server's attempt timeout) and now and then stops
/// listening (refused). Real changes happen meanwhile: each round a device puts stock in bins,
/// orders come in and are released (order status and stock events), and two or three pickers
/// pick and drop them through the proxy (more of both), while the server is killed -9 and started
/// again on the same database, sometimes right after a stock change's commit was answered, before
/// its event can have been delivered, and the terminals go on offline while it is down. On a rig
/// with two servers on one PostgreSQL database, either may be the one killed, and both deliver.
/// At the end, with the receiver accepting and every server up, the outbox drains and
/// [`check::check_webhooks`] judges: every event the server has for the subscription came signed
/// with its stored body and was acknowledged at least once; duplicates are counted.
pub fn webhooks_under_kills(rig: &mut Rig, seed: u64, rounds: u32) -> anyhow::Result<()> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut t = WebhookTotals::default();
    servers_up(rig)?;
    let merchant = rig.facts.merchant.clone();
    // What earlier work left in the outbox is fanned out before the subscription: owed to none.
    let before = fanned_out_events(rig, &merchant)?;
    let mut receiver = Receiver::start(rng.random())?;
    let path = format!("/hooks/{}", uuid::Uuid::now_v7().simple());
    let hook = crate::webhooks::subscribe(&rig.server.url(), &merchant, &receiver.url(&path))?;
    let mut stocker = Stocker::enrol(&rig.server.url())?;
    // Stock brought in right before a kill goes into a bin of its own: the goods the receiving
    // clerks bring, which no order wants.
    let (_, bins) = outbound::catalogue(&merchant, &rig.facts.product);
    let extra_bin = bins
        .iter()
        .rev()
        .find(|b| !rig.used.bins.contains(b))
        .cloned()
        .context("the demo has no bin left for the stock brought before a kill")?;
    rig.used.bins.push(extra_bin.clone());
    let (product, gtin) = (rig.facts.product.clone(), rig.facts.gtin.clone());

    for round in 0..rounds {
        let orders = rng.random_range(6..=10);
        bring_wave(
            rig,
            &mut stocker,
            rng.random(),
            &format!("W{seed}-{round}"),
            orders,
        )?;
        let count = rng.random_range(2..=3);
        let pickers = spawn_pickers(rig, &mut rng, "webhooks", count)?;
        t.runs += pickers.len() as u64;
        for _ in 0..rng.random_range(5..=8) {
            std::thread::sleep(sleep_ms(&mut rng, 100..=500));
            match rng.random_range(0..6) {
                0 | 1 => {
                    // The terminals go on offline while it is down.
                    let down = sleep_ms(&mut rng, 100..=800);
                    let second = rig.second.is_some() && rng.random_bool(0.5);
                    match rig.second.as_mut().filter(|_| second) {
                        Some((server, proxy)) => {
                            server.kill9();
                            std::thread::sleep(down);
                            proxy.set_upstream(server.restart()?);
                        }
                        None => {
                            rig.server.kill9();
                            std::thread::sleep(down);
                            let addr = rig.server.restart()?;
                            rig.proxy.set_upstream(addr);
                        }
                    }
                    t.kills += 1;
                }
                2 => {
                    // A change committed and answered, and the server gone before it can have
                    // delivered its event.
                    stocker.set_base(&rig.server.url());
                    let units = rng.random_range(1..=3);
                    stocker.stock_up(&merchant, &product, &gtin, units, &extra_bin)?;
                    rig.server.kill9();
                    std::thread::sleep(sleep_ms(&mut rng, 50..=400));
                    let addr = rig.server.restart()?;
                    rig.proxy.set_upstream(addr);
                    t.kills += 1;
                    t.kills_after_commit += 1;
                }
                3 => {
                    receiver.stop_listening();
                    std::thread::sleep(sleep_ms(&mut rng, 300..=1500));
                    receiver.listen()?;
                }
                4 => receiver.set(Answers::Failing),
                _ => receiver.set(Answers::Mixed),
            }
        }
        receiver.set(Answers::Mixed);
        rig.proxy.set(Fault::None);
        finish_pickers(rig, pickers)?;
    }
    rig.totals.kills += t.kills;
    t.refusals = receiver.stops;

    // Healthy again: the receiver listens and acknowledges everything, every server is up.
    receiver.listen()?;
    receiver.set(Answers::Accepting);
    servers_up(rig)?;
    let id = hook.listed.id;
    let drained = drain_webhooks(rig, &merchant, &before, id, &receiver, &path, WEBHOOK_DRAIN)?;
    let c = check::check_webhooks(
        rig.events(),
        &merchant,
        &before,
        id,
        crate::webhooks::SECRET,
        &receiver.arrivals(&path),
    )?;
    if !drained {
        rig.problems.push(format!(
            "webhooks: the outbox did not drain within {WEBHOOK_DRAIN:?} of the receiver and the \
             servers being healthy"
        ));
    }
    for p in &c.problems {
        rig.problems.push(format!("webhooks: {p}"));
    }
    t.events = c.events;
    t.deliveries = c.arrivals;
    t.acknowledged = c.acknowledged;
    t.duplicates = c.duplicates;
    t.lost = c.lost;
    t.forged = c.forged;
    if rig.verbose {
        println!(
            "webhooks (seed {seed}): {t}; events by type {:?}",
            c.by_type
        );
    }
    rig.webhooks += t;
    // The next round of a soak subscribes afresh.
    crate::webhooks::unsubscribe(&rig.server.url(), id)?;
    Ok(())
}

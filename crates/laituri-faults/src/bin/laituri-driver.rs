//! `laituri-driver`: the scanning driver of the fault-injection suite.
//!
//! - `laituri-driver scan --db FILE --server URL --oracle FILE ...` scans against the real terminal
//!   core with its sync worker, writing every confirmed action to the oracle before the next one,
//!   and prints a one-line JSON summary when it ends by itself. The suite kills it with SIGKILL.
//! - `laituri-driver soak --minutes N` runs every fault scenario over and over for N minutes
//!   against a server process of its own, then checks and prints the totals. It needs
//!   `laituri-faults-server` next to it (both are built by `cargo build -p laituri-faults`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand};
use laituri_faults::driver::{self, DriverConfig};
use laituri_faults::scenario::{self, Bins, Rig};
use laituri_faults::{DemoFacts, Totals};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(about = "Scanning driver and soak of Laituri's fault-injection suite")]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Scan items into blind receipts and put the totes away (and pick, with `--pick-pct`) until
    /// the oracle holds `--items` item scans.
    Scan(Box<ScanArgs>),
    /// Run every fault scenario repeatedly for a while, then check and print the totals.
    Soak(SoakArgs),
}

#[derive(Debug, clap::Args)]
struct ScanArgs {
    /// The terminal's store (created when missing).
    #[arg(long)]
    db: PathBuf,
    /// The central server's base URL (usually the fault proxy's).
    #[arg(long)]
    server: String,
    /// The oracle file: confirmed actions are appended, one JSON line each.
    #[arg(long)]
    oracle: PathBuf,
    #[arg(long, default_value_t = 30)]
    items: u64,
    #[arg(long, default_value_t = 5)]
    pace_ms: u64,
    #[arg(long, default_value_t = 5)]
    jitter_ms: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The sync worker's request timeout.
    #[arg(long, default_value_t = 1000)]
    request_timeout_ms: u64,
    #[arg(long, default_value_t = 8)]
    batch_size: u32,
    #[arg(long, default_value_t = 20)]
    pull_limit: u32,
    /// Close a receipt after this many item scans.
    #[arg(long, default_value_t = 12)]
    receipt_items: u64,
    #[arg(long)]
    badge: String,
    #[arg(long)]
    merchant: String,
    #[arg(long)]
    gtin: String,
    #[arg(long, default_value = "T-F")]
    tote_prefix: String,
    /// After the last scan, wait this long at most for the outbox to drain.
    #[arg(long, default_value_t = 0)]
    drain_ms: u64,
    #[arg(long, default_value_t = 200)]
    max_refusals: u32,
    /// Percent of the menu's choices that put a tote with goods away instead of receiving.
    #[arg(long, default_value_t = 80)]
    putaway_pct: u32,
    /// Percent of putaways started by taking the tote's task (a lease) instead of scanning it.
    #[arg(long, default_value_t = 50)]
    lease_pct: u32,
    /// The PIN the badge asks for, if it asks for one.
    #[arg(long)]
    pin: Option<String>,
    /// Percent of the menu's choices that take a pick task when the task list has one.
    #[arg(long, default_value_t = 0)]
    pick_pct: u32,
    /// Pick totes are labelled with this prefix, the task and the order's slot on the cart.
    #[arg(long, default_value = "T-P")]
    pick_tote_prefix: String,
    /// Where the totes of a pick task are dropped.
    #[arg(long, default_value = laituri_faults::outbound::PACKING)]
    packing: String,
    /// End in the middle of a pick job once the items are done (a job that holds goods in its
    /// totes, which stay in transit) instead of finishing the open job first.
    #[arg(long)]
    leave_picking_open: bool,
    /// A packer at a packing station: pack the orders waiting at packing and confirm their
    /// labels, nothing else.
    #[arg(long)]
    packer: bool,
    /// A packer's shift ends once this file exists and nothing waits to pack.
    #[arg(long)]
    stop_file: Option<PathBuf>,
    /// Percent of the menu's choices that move part of a bin into another bin.
    #[arg(long, default_value_t = 10)]
    move_pct: u32,
    /// Percent of the menu's choices that count a bin (an operator who counts).
    #[arg(long, default_value_t = 10)]
    count_pct: u32,
}

#[derive(Debug, clap::Args)]
struct SoakArgs {
    #[arg(long, default_value_t = 5.0)]
    minutes: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Keep the runs' files here (default: a temporary directory, removed at the end).
    #[arg(long)]
    dir: Option<PathBuf>,
}

fn scan(a: ScanArgs) -> anyhow::Result<()> {
    let facts = DemoFacts {
        badge: a.badge,
        merchant: a.merchant,
        gtin: a.gtin,
        product: String::new(),
        picker_badge: String::new(),
        picker_pin: None,
    };
    let mut c = DriverConfig::new(a.db, a.server, a.oracle, &facts);
    c.items = a.items;
    c.pace_ms = a.pace_ms;
    c.jitter_ms = a.jitter_ms;
    c.seed = a.seed;
    c.request_timeout = Duration::from_millis(a.request_timeout_ms.max(1));
    c.batch_size = a.batch_size;
    c.pull_limit = a.pull_limit;
    c.receipt_items = a.receipt_items.max(1);
    c.tote_prefix = a.tote_prefix;
    c.drain = Duration::from_millis(a.drain_ms);
    c.max_refusals = a.max_refusals.max(1);
    c.putaway_pct = a.putaway_pct.min(100);
    c.lease_pct = a.lease_pct.min(100);
    c.pin = a.pin;
    c.pick_pct = a.pick_pct.min(100);
    c.pick_tote_prefix = a.pick_tote_prefix;
    c.packing = a.packing;
    c.finish_picking = !a.leave_picking_open;
    c.packer = a.packer;
    c.stop_file = a.stop_file;
    c.move_pct = a.move_pct.min(100);
    c.count_pct = a.count_pct.min(100);
    let summary = driver::run(&c)?;
    println!("{}", serde_json::to_string(&summary)?);
    Ok(())
}

fn soak(a: SoakArgs) -> anyhow::Result<()> {
    let me = std::env::current_exe()?;
    let bins = Bins {
        server: me.with_file_name(format!(
            "laituri-faults-server{}",
            std::env::consts::EXE_SUFFIX
        )),
        driver: me,
    };
    anyhow::ensure!(
        bins.server.exists(),
        "{} is missing: build it with `cargo build -p laituri-faults`",
        bins.server.display()
    );
    let tmp;
    let dir = match a.dir {
        Some(d) => d,
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(a.minutes * 60.0);
    let mut rig = Rig::new(&bins, &dir).context("starting the soak's server")?;
    rig.verbose = false;
    let mut round = 0u64;
    while Instant::now() < until {
        round += 1;
        let seed = a.seed.wrapping_mul(1_000_003).wrapping_add(round);
        type Scenario = fn(&mut Rig, u64, u32) -> anyhow::Result<()>;
        let scenarios: [(&str, Scenario, u32); 13] = [
            ("terminal kills", scenario::terminal_kills, 4),
            ("server kills", scenario::server_kills, 2),
            ("network", scenario::network, 2),
            ("bad server", scenario::bad_server, 2),
            ("replay", scenario::replay, 1),
            ("disk full", scenario::disk_full, 1),
            ("thin link", scenario::thin_link, 1),
            ("restored backup", scenario::restored_backups, 1),
            ("picking", scenario::picking_under_faults, 1),
            ("restored picker", scenario::restored_pickers, 1),
            ("webhooks", scenario::webhooks_under_kills, 1),
            ("packing", scenario::packing_under_faults, 1),
            ("packing, server kills", scenario::packing_server_kills, 1),
        ];
        for (name, run, runs) in scenarios {
            if Instant::now() >= until {
                break;
            }
            run(&mut rig, seed, runs).with_context(|| format!("{name}, round {round}"))?;
        }
        println!(
            "round {round} at {:.0} s: {} problems={}",
            started.elapsed().as_secs_f64(),
            rig.totals,
            rig.problems.len()
        );
    }
    let totals: Totals = rig.finish()?;
    println!(
        "soak: {} minutes={:.1} rounds={round} problems={}",
        totals,
        started.elapsed().as_secs_f64() / 60.0,
        rig.problems.len()
    );
    println!(
        "soak: events committed={} confirmed={} committed-but-killed-before-the-beep={}",
        rig.committed_events,
        rig.confirmed_events,
        rig.committed_events - rig.confirmed_events
    );
    println!(
        "soak: actions of the pick flow={}, picking events confirmed {:?}; pick tasks \
         released={} worked={} (by a restored terminal under two device ids={})",
        rig.pick_actions,
        rig.picking_events,
        rig.pick_tasks_released,
        rig.workers.pick_tasks,
        rig.workers.continued
    );
    println!("soak: webhooks {}", rig.webhooks);
    println!(
        "soak: packing stations={} kills in a packing job={} orders finished={} parcels={} \
         in two or more parcels={} shipped={}",
        rig.packing.packers,
        rig.packing.kills_in_job,
        rig.packing.check.finished,
        rig.packing.check.parcels,
        rig.packing.check.multi_parcel,
        rig.packing.check.shipped
    );
    for p in &rig.problems {
        println!("problem: {p}");
    }
    anyhow::ensure!(
        rig.problems.is_empty()
            && totals.lost == 0
            && totals.duplicated == 0
            && totals.two_devices == 0
            && rig.webhooks.lost == 0
            && rig.webhooks.forged == 0,
        "the offline promise was broken"
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // The soak fills disks on purpose: the terminal's "not saved" errors are expected there.
    let quiet = match args.command {
        Cmd::Soak(_) => "warn,laituri::terminal::receiving=off,laituri::terminal::seam=off",
        Cmd::Scan(_) => "warn",
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(quiet)),
        )
        .init();
    match args.command {
        Cmd::Scan(a) => scan(*a),
        Cmd::Soak(a) => soak(a),
    }
}

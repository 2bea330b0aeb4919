//! A receiving scan while the sync worker works: scans every 20 ms through `laituri::ui::on_scan`
//! on a headless `AppWindow` (as in scan_to_feedback), on the store with 1,000,000 products and
//! 100,000 pending events, while the real sync worker (`SyncHandle`, its own thread and
//! connection to the same file) runs against the real server in this process on 127.0.0.1:0.
//!
//! The worker's first round pushes the 100,000 pending events, then pulls the whole
//! 1,000,000-product catalogue again into the same store file (the copy's pull cursor is set back
//! to 0). Scans are counted by what the worker was doing when they started: idle (before the
//! worker starts), pushing, pulling, and idle again after its first round (it still pushes each
//! new scan's event). The UI thread wakes the worker after each commit, as the app does.
//!
//! Run: `cargo bench --bench scan_while_syncing`. Under `cargo test` it runs a few scans per phase
//! against the demo server with a small catalogue, so that it cannot rot. Prints figures; asserts
//! no timings.

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use i_slint_backend_testing::init_no_event_loop;
use laituri::store::Store;
use laituri::sync::{SyncHandle, sync_once};
use laituri::terminal::Screen;
use laituri::ui::{self, AppAdapter, Tone};
use laituri_server::{ServerConfig, ServerHandle, demo};
use rand::{RngExt, SeedableRng};
use slint::ComponentHandle;

const PERIOD: Duration = Duration::from_millis(20);

#[derive(Clone, Copy)]
struct Size {
    products: usize,
    idle_scans: usize,
    /// Longest the worker's first round may take before the run gives up.
    limit: Duration,
}

const FULL: Size = Size {
    products: support::PRODUCTS,
    idle_scans: 300,
    limit: Duration::from_secs(600),
};

const BRIEF: Size = Size {
    products: 400,
    idle_scans: 5,
    limit: Duration::from_secs(120),
};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Idle,
    Pushing,
    Pulling,
    IdleAfter,
}

const PHASES: [(Phase, &str); 4] = [
    (Phase::Idle, "worker idle (not started)"),
    (Phase::Pushing, "while pushing the pending events"),
    (Phase::Pulling, "while pulling the catalogue"),
    (Phase::IdleAfter, "worker idle after its round"),
];

fn main() {
    let full = support::run_by_cargo_bench();
    let size = if full { FULL } else { BRIEF };
    let tmp = tempfile::tempdir().expect("temporary folder");
    let (server_db, terminal_db) = if full {
        let terminal = support::ensure_terminal();
        let dir = support::data_dir();
        let (s, t) = (
            dir.join("sws-server.sqlite3"),
            dir.join("sws-terminal.sqlite3"),
        );
        support::copy_db(&support::server_db(), &s);
        support::copy_db(&terminal, &t);
        (s, t)
    } else {
        brief_stores(tmp.path(), size)
    };
    // The catalogue was pulled when the store was made: pull it again from the start.
    let pull_end = {
        let c = rusqlite::Connection::open(&terminal_db).unwrap();
        let end: i64 = c
            .query_row("SELECT pull_cursor FROM device WHERE id = 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        c.execute("UPDATE device SET pull_cursor = 0 WHERE id = 1", [])
            .unwrap();
        end as u64
    };
    let server = ServerHandle::start(ServerConfig::local(&server_db)).expect("server starts");
    run(size, &server.url(), &terminal_db, pull_end, full);
    server.stop();
    if full {
        for db in [&server_db, &terminal_db] {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
        }
    }
}

/// For `cargo test`: the demo server with a small generated catalogue, a terminal that pulled
/// it, and a few hundred pending events.
fn brief_stores(dir: &Path, size: Size) -> (std::path::PathBuf, std::path::PathBuf) {
    let server_db = dir.join("server.sqlite3");
    let config = ServerConfig::local(&server_db);
    demo::seed(&config, support::today()).expect("demo seed");
    {
        let store = config.open_store().expect("server store");
        let items = (0..size.products).map(support::product).collect();
        let items = laituri_server::master::prepare_products(items).expect("valid products");
        store.upsert_products(&items).expect("products stored");
    }
    let terminal_db = dir.join("terminal.sqlite3");
    let server = ServerHandle::start(ServerConfig::local(&server_db)).expect("server starts");
    let status = sync_once(&support::sync_config(terminal_db.clone(), &server.url()));
    assert!(status.online, "first pull failed: {:?}", status.problem);
    server.stop();
    let mut store = Store::open(&terminal_db).expect("terminal store");
    support::append_pending(&mut store, 300);
    (server_db, terminal_db)
}

fn run(size: Size, url: &str, db: &Path, pull_end: u64, full: bool) {
    init_no_event_loop();
    let store = Store::open(db).expect("store");
    let (ctx, window) = support::window_over(store);
    ui::on_scan(&window, &ctx, support::OPERATOR);
    assert_eq!(*ctx.terminal.borrow().screen(), Screen::Home);
    ctx.terminal
        .borrow_mut()
        .open(Screen::ReceivingStart)
        .expect("receiving allowed");
    let reply = ctx.terminal.borrow_mut().start_blind(demo::KETTU);
    ui::answer(&window, &ctx, Some(reply));
    ui::on_scan(&window, &ctx, "T-0002");
    assert_eq!(*ctx.terminal.borrow().screen(), Screen::Receiving);
    let pending_at_start = ctx.terminal.borrow().store().counts().unwrap().last_seq;

    let mut rng = rand::rngs::StdRng::seed_from_u64(0x1a17_0004);
    let products = size.products;
    let mut next_code = move || support::unit_gtin(rng.random_range(0..products / 2) * 2);
    let scan = |raw: &str| -> Duration {
        let start = Instant::now();
        ui::on_scan(&window, &ctx, raw);
        let took = start.elapsed();
        let app = window.global::<AppAdapter>();
        assert!(
            app.get_tone() == Tone::Ok,
            "scan {raw} was not received: {}",
            app.get_feedback()
        );
        took
    };

    let mut samples: Vec<(Phase, Duration)> = Vec::new();
    let mut next_at = Instant::now();
    let mut paced = |samples: &mut Vec<(Phase, Duration)>, phase: Phase| {
        let now = Instant::now();
        if next_at > now {
            std::thread::sleep(next_at - now);
        }
        next_at = Instant::now() + PERIOD;
        samples.push((phase, scan(&next_code())));
    };
    for _ in 0..size.idle_scans {
        paced(&mut samples, Phase::Idle);
    }

    // The worker, as the app starts it.
    let rounds = Arc::new(AtomicU32::new(0));
    let problems = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut config = support::sync_config(db.to_path_buf(), url);
    config.request_timeout = Duration::from_secs(60);
    let (r, p) = (rounds.clone(), problems.clone());
    let started = Instant::now();
    let worker = SyncHandle::start(config, move |status| {
        if let Some(why) = status.problem {
            p.lock().unwrap().push(why.to_string());
        }
        r.fetch_add(1, Ordering::SeqCst);
    })
    .expect("worker starts");
    ctx.terminal.borrow_mut().set_waker(worker.waker());
    let mut pushed_at = None;
    let mut pulled_at = None;
    let mut after = 0;
    while after < size.idle_scans && started.elapsed() < size.limit {
        let (acked, cursor) = {
            let t = ctx.terminal.borrow();
            (
                t.store().counts().unwrap().acked_through,
                t.store().pull_cursor().unwrap(),
            )
        };
        let phase = if acked < pending_at_start {
            Phase::Pushing
        } else if rounds.load(Ordering::SeqCst) == 0 || cursor < pull_end {
            pushed_at.get_or_insert_with(|| started.elapsed());
            Phase::Pulling
        } else {
            pushed_at.get_or_insert_with(|| started.elapsed());
            pulled_at.get_or_insert_with(|| started.elapsed());
            after += 1;
            Phase::IdleAfter
        };
        paced(&mut samples, phase);
    }
    worker.stop();

    println!(
        "Receiving scan every 20 ms through ui::on_scan (headless AppWindow) while the sync worker works, {} build",
        if full { "release" } else { "brief test" }
    );
    let secs = |d: Option<Duration>| d.map_or("-".into(), |d| format!("{:.1} s", d.as_secs_f64()));
    println!(
        "worker: {pending_at_start} events pushed by {}, catalogue (cursor {pull_end}) pulled by {}; rounds {}; problems {:?}",
        secs(pushed_at),
        secs(pulled_at),
        rounds.load(Ordering::SeqCst),
        problems.lock().unwrap(),
    );
    println!("| worker | scans | p50 | p99 | max | over 20 ms |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (phase, name) in PHASES {
        let mut s: Vec<Duration> = samples
            .iter()
            .filter(|(p, _)| *p == phase)
            .map(|(_, d)| *d)
            .collect();
        s.sort();
        let slow = s.iter().filter(|d| **d > PERIOD).count();
        println!(
            "| {name} | {} | {} | {} | {} | {slow} |",
            s.len(),
            support::ms(support::quantile(&s, 0.5)),
            support::ms(support::quantile(&s, 0.99)),
            support::ms(*s.last().unwrap_or(&Duration::ZERO)),
        );
    }
}

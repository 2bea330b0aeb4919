//! Scan to feedback: one raw scan string in, through parse, product look-up, the receiving state
//! machine, the durable commit (view + outbox, one transaction) and the UI model update, on a store
//! with 1,000,000 products and 100,000 pending events.
//!
//! It drives the real path the scan field takes, `laituri::ui::on_scan(&window, &ctx, raw)`, on an
//! `AppWindow` under Slint's testing backend: everything but the pixels (the testing backend
//! renders nothing) and the sound (a silent speaker; playing is a clone handed to the mixer).
//! Scans are of random products of the receipt's merchant out of the 500,000 it has, as a wedge
//! scanner types them: 70 % plain EAN-13, 20 % EAN-13 with its AIM symbology identifier, 10 % a
//! case label (GS1-128, AI 01 with the case GTIN-14, six units).
//!
//! `synchronous=FULL` (what the terminal runs with) and `synchronous=NORMAL` are measured in
//! alternating blocks of 250 scans on the same store, so noise from other work on the machine
//! falls on both alike.
//!
//! Run: `cargo bench --bench scan_to_feedback`. The populated store is cached under
//! `target/bench-data` (see benches/support); `-- --prepare-only` only builds it. Prints figures;
//! asserts no timings.

mod support;

use std::time::{Duration, Instant};

use i_slint_backend_testing::init_no_event_loop;
use laituri::store::Store;
use laituri::terminal::Screen;
use laituri::ui::{self, AppAdapter, Tone};
use laituri_server::demo;
use rand::{RngExt, SeedableRng};
use slint::ComponentHandle;

const WARM_UP: usize = 200;
const BLOCK: usize = 250;
const BLOCKS_PER_MODE: usize = 8;

fn main() {
    if !support::run_by_cargo_bench() {
        println!("scan_to_feedback: run with `cargo bench --bench scan_to_feedback`");
        return;
    }
    let prepared = Instant::now();
    let master = support::ensure_terminal();
    if std::env::args().any(|a| a == "--prepare-only") {
        println!("{}", master.display());
        return;
    }
    eprintln!("store ready in {:.1} s", prepared.elapsed().as_secs_f64());
    let work = support::data_dir().join("scan-work.sqlite3");
    support::copy_db(&master, &work);

    init_no_event_loop();
    let store = Store::open(&work).expect("store");
    let (products, barcodes, pending) = facts(&store);
    let size_mb = std::fs::metadata(&work).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
    let (ctx, window) = support::window_over(store);

    // Log in by badge, open a blind receipt of the Kettu merchant, scan a tote.
    ui::on_scan(&window, &ctx, support::OPERATOR);
    assert_eq!(*ctx.terminal.borrow().screen(), Screen::Home);
    ctx.terminal
        .borrow_mut()
        .open(Screen::ReceivingStart)
        .expect("receiving allowed");
    let reply = ctx.terminal.borrow_mut().start_blind(demo::KETTU);
    ui::answer(&window, &ctx, Some(reply));
    ui::on_scan(&window, &ctx, "T-0001");
    assert_eq!(*ctx.terminal.borrow().screen(), Screen::Receiving);

    let mut rng = rand::rngs::StdRng::seed_from_u64(0x1a17_0001);
    let mut next_scan = move || {
        let n = rng.random_range(0..support::PRODUCTS / 2) * 2; // a Kettu product
        match rng.random_range(0..10) {
            0..=6 => support::unit_gtin(n),
            7 | 8 => format!("]E0{}", support::unit_gtin(n)),
            // Every fifth product has a case code; these are the Kettu ones among them.
            _ => format!("]C101{}", support::case_gtin(n / 10 * 10)),
        }
    };
    let scan = |raw: &str| -> Duration {
        let before = ctx.terminal.borrow().store().counts().unwrap().last_seq;
        let start = Instant::now();
        ui::on_scan(&window, &ctx, raw);
        let took = start.elapsed();
        let app = window.global::<AppAdapter>();
        let after = ctx.terminal.borrow().store().counts().unwrap().last_seq;
        assert!(
            app.get_tone() == Tone::Ok && after == before + 1,
            "scan {raw} was not received: {}",
            app.get_feedback()
        );
        took
    };

    for _ in 0..WARM_UP {
        scan(&next_scan());
    }
    let mut full = Vec::new();
    let mut normal = Vec::new();
    for block in 0..2 * BLOCKS_PER_MODE {
        let (mode, samples) = if block % 2 == 0 {
            ("FULL", &mut full)
        } else {
            ("NORMAL", &mut normal)
        };
        ctx.terminal
            .borrow()
            .store()
            .set_synchronous(mode)
            .expect("pragma");
        for _ in 0..BLOCK {
            samples.push(scan(&next_scan()));
        }
    }

    println!("Scan to feedback through ui::on_scan (headless AppWindow), release build");
    println!(
        "store: {products} products, {barcodes} barcodes, {pending} pending events, {size_mb:.0} MB file"
    );
    println!("| synchronous | scans | median | p99 | p99.9 | max | over 20 ms |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (mode, samples) in [("FULL (shipped)", &full), ("NORMAL", &normal)] {
        let (median, p99, max) = support::summary(samples);
        let mut sorted = samples.clone();
        sorted.sort();
        let slow = samples
            .iter()
            .filter(|d| **d > Duration::from_millis(20))
            .count();
        println!(
            "| {mode} | {} | {} | {} | {} | {} | {slow} |",
            samples.len(),
            support::ms(median),
            support::ms(p99),
            support::ms(support::quantile(&sorted, 0.999)),
            support::ms(max)
        );
    }
    drop(window);
    drop(ctx);
    let _ = std::fs::remove_file(&work);
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", work.display()));
    }
}

fn facts(store: &Store) -> (i64, i64, u64) {
    let pending = store.counts().unwrap().pending();
    // Counted once outside the measurement, through a second connection.
    let path = support::data_dir().join("scan-work.sqlite3");
    let c = rusqlite::Connection::open(path).unwrap();
    let count = |t: &str| -> i64 {
        c.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
            .unwrap()
    };
    (count("products"), count("barcodes"), pending)
}

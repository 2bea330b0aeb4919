//! Putaway scan to feedback: a tote from the dock into bins, suggestion included, through the
//! real path the scan field takes (`laituri::ui::on_scan` on an `AppWindow` under Slint's testing
//! backend, as in scan_to_feedback), on a store with 1,000,000 products, 100,000 locations, stock
//! spread over the bins and 100,000 pending events.
//!
//! The store is the cached terminal store of benches/support (the catalogue pulled over HTTP and
//! 100,000 pending events) with the warehouse's places added the way a pull brings them, through
//! `Store::apply_changes`: 100,000 bins (`Change::Location`, in zones with walk orders and
//! capacities), both merchants with their zones set (`Change::Merchant`) and stock levels in about
//! 70 % of the bins (`Change::Stock`). It is kept as `target/bench-data/putaway-1m-v1.sqlite3`.
//!
//! One measured cycle: two kinds of goods of one merchant (two cycles of Kettu Outdoor, then two
//! of Nordic Pantry) are received into a new tote at the dock (local `goods_received` events, as
//! the receiving flow writes them), then from the home screen:
//! 1. the tote is scanned: putaway starts (the tote's contents from the local stock view);
//! 2. an item is scanned: the suggestion is computed (on even cycles for goods that already lie
//!    alone in a bin, a same-goods suggestion; on odd cycles for goods in no bin, which looks for
//!    an empty bin in the merchant's zones);
//! 3. the suggested bin is scanned: the put is committed, and the one line left in the tote is
//!    selected at once, so its suggestion (the other kind) is computed in the same answer;
//! 4. that bin is scanned: the put and the end of the tote are committed.
//!
//! Every cycle fills one empty bin. The suggestion looks for an empty bin only among the first
//! 60 bins of each zone in walking order (about 170 empty ones per merchant here), so the run
//! stays below 150 cycles of each merchant; past that it would get no suggestion at all.
//!
//! Run: `cargo bench --bench putaway`. Under `cargo test` it runs a few cycles on a small store
//! built in a temporary folder, so that it cannot rot. Prints figures; asserts no timings.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use i_slint_backend_testing::init_no_event_loop;
use laituri::store::Store;
use laituri::terminal::Screen;
use laituri::ui::{self, AppAdapter, Ctx, Tone};
use laituri_domain::putaway::{Message, Why};
use laituri_server::demo;
use rand::{RngExt, SeedableRng};
use slint::ComponentHandle;
use support::places::{
    BRIEF, FULL, Size, build_brief_store, ensure_putaway_store, received, stocked_products,
};

fn main() {
    let full = support::run_by_cargo_bench();
    let size = if full { FULL } else { BRIEF };
    let keep = tempfile::tempdir().expect("temporary folder");
    let (master, work) = if full {
        let prepared = Instant::now();
        let master = ensure_putaway_store(size);
        eprintln!("store ready in {:.1} s", prepared.elapsed().as_secs_f64());
        (master, support::data_dir().join("putaway-work.sqlite3"))
    } else {
        let master = keep.path().join("putaway-brief.sqlite3");
        build_brief_store(&master, size);
        (master, keep.path().join("putaway-work.sqlite3"))
    };
    if std::env::args().any(|a| a == "--prepare-only") {
        println!("{}", master.display());
        return;
    }
    support::copy_db(&master, &work);
    let stocked = [
        stocked_products(&work, demo::KETTU),
        stocked_products(&work, demo::NORDIC),
    ];
    run(size, &work, &stocked, full);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", work.display()));
    }
}

#[derive(Default)]
struct Samples {
    tote: Vec<Duration>,
    item_same: Vec<Duration>,
    item_empty: Vec<Duration>,
    bin_then_empty: Vec<Duration>,
    bin_then_same: Vec<Duration>,
    bin_last: Vec<Duration>,
    same_goods_suggested: usize,
}

fn run(size: Size, work: &Path, stocked: &[Vec<usize>; 2], full: bool) {
    init_no_event_loop();
    let store = Store::open(work).expect("store");
    let pending = store.counts().unwrap().pending();
    let (ctx, window) = support::window_over(store);
    ui::on_scan(&window, &ctx, support::OPERATOR);
    assert_eq!(*ctx.terminal.borrow().screen(), Screen::Home);

    let mut rng = rand::rngs::StdRng::seed_from_u64(0x1a17_0003);
    let receipt_id = uuid::Uuid::now_v7();
    let last_seq = |ctx: &Ctx| ctx.terminal.borrow().store().counts().unwrap().last_seq;
    let timed = |raw: &str| -> Duration {
        let start = Instant::now();
        ui::on_scan(&window, &ctx, raw);
        let took = start.elapsed();
        let app = window.global::<AppAdapter>();
        assert!(
            matches!(app.get_tone(), Tone::Ok | Tone::Done),
            "scan {raw}: {}",
            app.get_feedback()
        );
        took
    };
    // The suggested bin, and whether it was suggested for the same goods already in it.
    let suggested = |ctx: &Ctx| -> (String, bool) {
        let t = ctx.terminal.borrow();
        let view = t.putaway().expect("putaway open").view();
        let same = matches!(
            view.prompt,
            Message::Suggest {
                why: Why::SameGoods,
                ..
            }
        );
        let bin = view
            .suggested
            .unwrap_or_else(|| panic!("no suggestion: {:?}", view.prompt));
        (bin, same)
    };

    let mut s = Samples::default();
    for cycle in 0..size.warm_up + size.cycles {
        let measured = cycle >= size.warm_up;
        let tote = format!("T-P{cycle:05}");
        // Two cycles of one merchant's goods, then two of the other's.
        let merchant = (cycle / 2) % 2;
        let stocked = &stocked[merchant];
        let same = stocked[rng.random_range(0..stocked.len())];
        let new = rng.random_range(0..size.products / 2) * 2 + merchant;
        ctx.terminal
            .borrow_mut()
            .store_mut()
            .append_events(
                support::OPERATOR,
                &[
                    received(receipt_id, same, 6, &tote),
                    received(receipt_id, new, 4, &tote),
                ],
            )
            .expect("goods into the tote");

        // Even cycles scan the goods already in a bin first, odd cycles the new goods.
        let same_first = cycle % 2 == 0;
        let first = if same_first { same } else { new };
        let t_tote = timed(&tote);
        assert_eq!(*ctx.terminal.borrow().screen(), Screen::Putaway);
        let t_item = timed(&support::unit_gtin(first));
        let (bin, same_goods) = suggested(&ctx);
        if measured && same_first && same_goods {
            s.same_goods_suggested += 1;
        }
        let before = last_seq(&ctx);
        // The one line left is selected at once: its suggestion comes with this answer.
        let t_bin = timed(&bin);
        assert_eq!(last_seq(&ctx), before + 1, "the put was not recorded");
        let (bin, same_goods) = suggested(&ctx);
        if measured && !same_first && same_goods {
            s.same_goods_suggested += 1;
        }
        let before = last_seq(&ctx);
        let t_bin_last = timed(&bin);
        assert_eq!(
            last_seq(&ctx),
            before + 2,
            "the put and the end were not recorded"
        );
        assert!(ctx.terminal.borrow().putaway().unwrap().is_finished());
        ctx.terminal.borrow_mut().home();
        ui::answer(&window, &ctx, None);
        if measured {
            s.tote.push(t_tote);
            if same_first {
                s.item_same.push(t_item);
                s.bin_then_empty.push(t_bin);
            } else {
                s.item_empty.push(t_item);
                s.bin_then_same.push(t_bin);
            }
            s.bin_last.push(t_bin_last);
        }
    }

    let facts = |t: &str| -> i64 {
        let c = rusqlite::Connection::open(work).unwrap();
        c.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
            .unwrap()
    };
    println!(
        "Putaway scan to feedback through ui::on_scan (headless AppWindow), {} build",
        if full { "release" } else { "brief test" }
    );
    println!(
        "store: {} products, {} locations, {} pulled stock levels, {pending} pending events at the start; {} merchant zones of {} bins",
        facts("products"),
        facts("locations"),
        facts("stock_pulled"),
        size.zones,
        size.locations / 2 / size.zones,
    );
    println!(
        "same-goods bin suggested for {} of {} items already in a bin",
        s.same_goods_suggested,
        s.item_same.len() + s.bin_then_same.len()
    );
    let rows: [(&str, &Vec<Duration>); 6] = [
        ("tote from home: putaway starts", &s.tote),
        ("item -> suggestion (same goods in a bin)", &s.item_same),
        ("item -> suggestion (empty bin in zones)", &s.item_empty),
        (
            "bin -> put committed, next suggestion (empty bin)",
            &s.bin_then_empty,
        ),
        (
            "bin -> put committed, next suggestion (same goods)",
            &s.bin_then_same,
        ),
        ("last bin -> put and tote end committed", &s.bin_last),
    ];
    support::print_scan_table(&rows);
}

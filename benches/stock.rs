//! Stock look-up and move scan to feedback: what a bin holds, where an item is, and part of a
//! bin moved into another, through the real path the scan field takes (`laituri::ui::on_scan` on
//! an `AppWindow` under Slint's testing backend), on the store of the putaway, picking and
//! packing benchmarks: 1,000,000 products, 100,000 bins with stock levels in about 70 % of
//! them, 100,000 pending events.
//!
//! One measured cycle, with goods of one merchant that lie alone in a bin (in turns Kettu
//! Outdoor's and Nordic Pantry's):
//! 1. on the stock screen, the bin is scanned: its contents from the local view (pulled levels
//!    plus the device's own moves), with product and merchant names, shown;
//! 2. the item's unit barcode is scanned: every place that holds it, shown;
//! 3. on the move screen, the bin is scanned (its rows read), then the item (one in hand);
//! 4. another bin of the merchant is scanned: the move is committed (`stock_moved`, the local
//!    view's moves with it), the place's rows left shown.
//!
//! Every cycle's move adds a row of own moves to the local view that the next look-ups of
//! those places and products read too. Run: `cargo bench --bench stock`. Under `cargo test` it
//! runs a few cycles on a small store built in a temporary folder, so that it cannot rot. Prints
//! figures; asserts no timings.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use i_slint_backend_testing::init_no_event_loop;
use laituri::store::Store;
use laituri::terminal::Screen;
use laituri::ui::{self, AppAdapter, Ctx, Tone};
use laituri_server::demo;
use slint::ComponentHandle;
use support::places::{BRIEF, FULL, Size, stocked_products, work_copy};

fn main() {
    let full = support::run_by_cargo_bench();
    let size = if full {
        Size {
            warm_up: 20,
            cycles: 400,
            ..FULL
        }
    } else {
        BRIEF
    };
    let keep = tempfile::tempdir().expect("temporary folder");
    let work = work_copy(full, if full { FULL } else { size }, "stock", keep.path());
    run(size, &work, full);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", work.display()));
    }
}

#[derive(Default)]
struct Samples {
    bin: Vec<Duration>,
    item: Vec<Duration>,
    from: Vec<Duration>,
    in_hand: Vec<Duration>,
    moved: Vec<Duration>,
    rows_shown: usize,
}

/// The bin a product lies in alone, from the local view.
fn bin_of(ctx: &Ctx, product: usize) -> String {
    let t = ctx.terminal.borrow();
    let p = support::product(product);
    t.store()
        .product_places(&p.merchant_id, &p.id)
        .unwrap()
        .into_iter()
        .find(|r| r.quantity > 0 && r.container.is_none())
        .map(|r| r.location)
        .expect("the product lies in a bin")
}

fn run(size: Size, work: &Path, full: bool) {
    init_no_event_loop();
    let stocked = [
        stocked_products(work, demo::KETTU),
        stocked_products(work, demo::NORDIC),
    ];
    let store = Store::open(work).expect("store");
    let pending = store.counts().unwrap().pending();
    let (ctx, window) = support::window_over(store);
    ui::on_scan(&window, &ctx, support::OPERATOR);
    assert_eq!(*ctx.terminal.borrow().screen(), Screen::Home);
    let app = window.global::<AppAdapter>();
    let timed = |raw: &str| -> Duration {
        let start = Instant::now();
        ui::on_scan(&window, &ctx, raw);
        let took = start.elapsed();
        assert!(
            matches!(app.get_tone(), Tone::Ok | Tone::Done | Tone::Warning),
            "scan {raw}: {}",
            app.get_feedback()
        );
        took
    };
    let open = |screen: Screen| {
        ctx.terminal.borrow_mut().home();
        ctx.terminal
            .borrow_mut()
            .open(screen)
            .expect("the screen opens");
        ui::answer(&window, &ctx, None);
    };

    let mut s = Samples::default();
    for cycle in 0..size.warm_up + size.cycles {
        let measured = cycle >= size.warm_up;
        let merchant = cycle % 2;
        let list = &stocked[merchant];
        let product = list[(cycle * 7919) % list.len()];
        let bin = bin_of(&ctx, product);
        // Another bin of the merchant (a product may lie alone in several bins).
        let to = (1..)
            .map(|j| bin_of(&ctx, list[(cycle * 7919 + j) % list.len()]))
            .find(|b| *b != bin)
            .expect("another bin");

        open(Screen::Stock);
        let t_bin = timed(&bin);
        let shown = ctx
            .terminal
            .borrow()
            .stock_lookup()
            .map_or(0, |l| l.rows.len());
        assert!(shown > 0, "{bin} holds nothing on the view");
        let t_item = timed(&support::unit_gtin(product));

        open(Screen::Move);
        let t_from = timed(&bin);
        let t_in_hand = timed(&support::unit_gtin(product));
        let before = ctx.terminal.borrow().store().counts().unwrap().last_seq;
        let t_moved = timed(&to);
        assert_eq!(
            ctx.terminal.borrow().store().counts().unwrap().last_seq,
            before + 1,
            "the move was not recorded: {}",
            app.get_feedback()
        );
        if measured {
            s.bin.push(t_bin);
            s.item.push(t_item);
            s.from.push(t_from);
            s.in_hand.push(t_in_hand);
            s.moved.push(t_moved);
            s.rows_shown += shown;
        }
    }

    let facts = |t: &str| -> i64 {
        let c = rusqlite::Connection::open(work).unwrap();
        c.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
            .unwrap()
    };
    println!(
        "Stock look-up and moves, scan to feedback through ui::on_scan (headless AppWindow), {} build",
        if full { "release" } else { "brief test" }
    );
    println!(
        "store: {} products, {} locations, {} pulled stock levels, {pending} pending events at the start, {} own moves on the view at the end; {:.1} rows per bin look-up",
        facts("products"),
        facts("locations"),
        facts("stock_pulled"),
        facts("local_moves"),
        s.rows_shown as f64 / s.bin.len().max(1) as f64,
    );
    let rows: [(&str, &Vec<Duration>); 5] = [
        ("stock: bin -> its contents shown", &s.bin),
        ("stock: item -> its places shown", &s.item),
        ("move: bin -> its rows read", &s.from),
        ("move: item -> one in hand", &s.in_hand),
        ("move: bin -> move committed", &s.moved),
    ];
    support::print_scan_table(&rows);
}

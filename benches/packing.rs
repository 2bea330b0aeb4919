//! Packing scan to feedback: an order of 50 lines packed into two parcels at a station, through
//! the real path the scan field takes (`laituri::ui::on_scan` on an `AppWindow` under Slint's
//! testing backend) and the packing screen's buttons (`Terminal::packing_action`, answered as
//! the screen answers a tap), on the store of the putaway and picking benchmarks: 1,000,000
//! products, 100,000 bins with stock levels in about 70 % of them, 100,000 pending events.
//!
//! One measured cycle: an order ready to pack arrives through the pull, as the server publishes
//! it once its tote was dropped (`Change::PackOrder`, the tote's stock at the packing location as
//! `Change::Stock`): 50 lines of one merchant's products, every fifth line two units (60 units),
//! every product with its size and weight (`Change::Product`), so the carton suggestion and the
//! estimated weights have what they need. Then, from the packing start screen:
//! 1. the tote: the order is found, its lines read and the carton suggestion computed, the job
//!    opened;
//! 2. the box label of parcel 1 (the one suggested), then the first 30 units one scan each (each
//!    written to the job's journal);
//! 3. "Close parcel": `parcel_packed` is committed with the estimated weight;
//! 4. the box label of parcel 2 and the other 30 units;
//! 5. "Finish": parcel 2 closes and `packing_finished` is committed with the 50 moves that ship
//!    the goods out of the tote, and the shipment waits for its labels.
//!
//! Run: `cargo bench --bench packing`. Under `cargo test` it runs a few cycles on a small store
//! built in a temporary folder, so that it cannot rot. Prints figures; asserts no timings.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use i_slint_backend_testing::init_no_event_loop;
use laituri::store::Store;
use laituri::terminal::Screen;
use laituri::terminal::packing::Action;
use laituri::ui::{self, AppAdapter, Ctx, Tone};
use laituri_protocol::{
    Change, EventBody, GoodsCondition, Location, LocationKind, Operator, PackGoods, PackOrder,
    Role, StockLevel,
};
use laituri_server::demo;
use slint::ComponentHandle;
use support::places::{BRIEF, FULL, Size, apply, work_copy};

const PACKING: &str = "PACK-1";
/// Lines of an order; every fifth takes two units.
const LINES: usize = 50;
/// Units packed into the first parcel before it is closed.
const FIRST_PARCEL: usize = 30;

fn main() {
    let full = support::run_by_cargo_bench();
    let size = if full {
        Size {
            warm_up: 10,
            cycles: 200,
            ..FULL
        }
    } else {
        BRIEF
    };
    let keep = tempfile::tempdir().expect("temporary folder");
    let work = work_copy(full, if full { FULL } else { size }, "packing", keep.path());
    {
        // The packing station's location with its boxes, and a packer, as a pull brings them.
        let mut store = Store::open(&work).expect("store");
        apply(
            &mut store,
            vec![
                Change::Location(Location {
                    box_types: demo::box_types(),
                    code: PACKING.into(),
                    kind: LocationKind::Packing,
                    zone: "PACK".into(),
                    walk_order: 1,
                    capacity: None,
                    aisle: None,
                    bay: None,
                }),
                Change::Operator(Operator {
                    id: support::OPERATOR.into(),
                    name: "Aino".into(),
                    badge: support::OPERATOR.into(),
                    pin_hash: None,
                    roles: vec![Role::Receiving, Role::Putaway, Role::Picking, Role::Packing],
                    language: "fi".into(),
                    pin: None,
                    count_limits: None,
                }),
            ],
        );
        // The pull reached the end of the change log, as a station's does before it packs.
        store
            .set_caught_up(laituri::store::now_ms())
            .expect("caught up");
    }
    run(size, &work, full);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", work.display()));
    }
}

/// The products of a cycle's order, by number: one merchant's (even: Kettu, odd: Nordic), in
/// turns, spread over the catalogue.
fn products_of(cycle: usize, catalogue: usize) -> Vec<usize> {
    let merchant = cycle % 2;
    (0..LINES)
        .map(|i| ((cycle * LINES + i) * 7919 % (catalogue / 2)) * 2 + merchant)
        .collect()
}

fn units_of(line: usize) -> i64 {
    if line % 5 == 4 { 2 } else { 1 }
}

/// What the pull brings for a cycle's order: its products with measures, the tote's stock at
/// the packing location, and the order ready to pack.
fn order_changes(cycle: usize, products: &[usize], tote: &str) -> (PackOrder, Vec<Change>) {
    let merchant = support::product(products[0]).merchant_id;
    let mut changes = Vec::new();
    let measured = products
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mut p = support::product(*n);
            p.dims_mm = Some([120 + (i as u32 % 4) * 20, 100, 60]);
            p.volume_ml = None;
            p.weight_g = Some(150 + (i as u32 % 7) * 40);
            p
        })
        .collect();
    let measured = laituri_server::master::prepare_products(measured).expect("valid products");
    changes.extend(measured.into_iter().map(Change::Product));
    let goods: Vec<PackGoods> = products
        .iter()
        .enumerate()
        .map(|(i, n)| PackGoods {
            location: PACKING.into(),
            tote: tote.into(),
            product_id: support::product_id(*n),
            lot: None,
            expiry: None,
            quantity: units_of(i),
        })
        .collect();
    changes.extend(goods.iter().map(|g| {
        Change::Stock(StockLevel {
            merchant_id: merchant.clone(),
            product_id: g.product_id.clone(),
            location: PACKING.into(),
            container: Some(tote.into()),
            lot: None,
            expiry: None,
            condition: GoodsCondition::Good,
            quantity: g.quantity,
            by_device: None,
            by_seq: None,
        })
    }));
    let order = PackOrder {
        order_id: uuid::Uuid::now_v7(),
        reference: format!("#P{cycle:05}"),
        merchant_id: merchant,
        shipping_method: "posti-parcel".into(),
        pickup_point: None,
        goods,
        inserts: Vec::new(),
        documents: Vec::new(),
    };
    changes.push(Change::PackOrder(order.clone()));
    (order, changes)
}

#[derive(Default)]
struct Samples {
    tote: Vec<Duration>,
    boxes: Vec<Duration>,
    item: Vec<Duration>,
    close: Vec<Duration>,
    finish: Vec<Duration>,
    /// Parcel 1's box as the carton suggestion had it (or "none": the largest was taken).
    suggested: std::collections::BTreeMap<String, usize>,
}

fn run(size: Size, work: &Path, full: bool) {
    init_no_event_loop();
    let store = Store::open(work).expect("store");
    let pending = store.counts().unwrap().pending();
    let catalogue = {
        let c = rusqlite::Connection::open(work).unwrap();
        c.query_row(
            "SELECT count(*) FROM products WHERE id LIKE 'BP-%'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap() as usize
    };
    let (ctx, window) = support::window_over(store);
    ui::on_scan(&window, &ctx, support::OPERATOR);
    assert_eq!(*ctx.terminal.borrow().screen(), Screen::Home);
    let app = window.global::<AppAdapter>();
    let ok = |what: &str| {
        assert!(
            matches!(app.get_tone(), Tone::Ok | Tone::Done | Tone::Warning),
            "{what}: {}",
            app.get_feedback()
        );
    };
    let timed = |raw: &str| -> Duration {
        let start = Instant::now();
        ui::on_scan(&window, &ctx, raw);
        let took = start.elapsed();
        ok(raw);
        took
    };
    let tapped = |action: Action| -> Duration {
        let start = Instant::now();
        let reply = ctx.terminal.borrow_mut().packing_action(action.clone());
        ui::answer(&window, &ctx, Some(reply));
        let took = start.elapsed();
        ok(&format!("{action:?}"));
        took
    };
    // The box of the open parcel: the one suggested, else the largest.
    let suggested_box = |ctx: &Ctx| {
        let t = ctx.terminal.borrow();
        t.packing().unwrap().view().suggested_box
    };
    let box_code = |ctx: &Ctx| -> String {
        let suggested = suggested_box(ctx);
        let boxes = demo::box_types();
        suggested
            .and_then(|name| boxes.iter().find(|b| b.name == name))
            .unwrap_or(boxes.last().unwrap())
            .code()
            .to_string()
    };

    let mut s = Samples::default();
    for cycle in 0..size.warm_up + size.cycles {
        let measured = cycle >= size.warm_up;
        let tote = format!("T-P{cycle:05}");
        let products = products_of(cycle, catalogue);
        let (order, changes) = order_changes(cycle, &products, &tote);
        apply(ctx.terminal.borrow_mut().store_mut(), changes);
        ctx.terminal
            .borrow_mut()
            .open(Screen::PackingStart)
            .expect("the packer may pack");
        ui::answer(&window, &ctx, None);
        let before = ctx.terminal.borrow().store().counts().unwrap().last_seq;

        let t_tote = timed(&tote);
        assert_eq!(*ctx.terminal.borrow().screen(), Screen::Packing);
        let mut boxes = Vec::new();
        let mut items = Vec::new();
        let plan = suggested_box(&ctx).unwrap_or_else(|| "none".into());
        let code = box_code(&ctx);
        boxes.push(timed(&code));
        let units: Vec<usize> = products
            .iter()
            .enumerate()
            .flat_map(|(i, n)| std::iter::repeat_n(*n, units_of(i) as usize))
            .collect();
        for n in &units[..FIRST_PARCEL] {
            items.push(timed(&support::unit_gtin(*n)));
        }
        let t_close = tapped(Action::CloseParcel);
        let code = box_code(&ctx);
        boxes.push(timed(&code));
        for n in &units[FIRST_PARCEL..] {
            items.push(timed(&support::unit_gtin(*n)));
        }
        let t_finish = tapped(Action::Finish);
        assert!(ctx.terminal.borrow().packing().unwrap().is_finished());

        // What the finish committed: two parcels, then the finish with a move per line.
        let store_events = ctx
            .terminal
            .borrow()
            .store()
            .events_of_type("packing_finished", before + 1, 1, true)
            .unwrap();
        match &store_events[..] {
            [
                (
                    _,
                    EventBody::PackingFinished {
                        order_id,
                        parcels,
                        moves,
                        ..
                    },
                    _,
                ),
            ] => {
                assert_eq!(*order_id, order.order_id);
                assert_eq!((*parcels, moves.len()), (2, LINES));
            }
            other => panic!("no packing_finished: {other:?}"),
        }
        let recorded = ctx.terminal.borrow().store().counts().unwrap().last_seq - before;
        assert_eq!(recorded, 3, "two parcels and the finish");
        ctx.terminal.borrow_mut().home();
        ui::answer(&window, &ctx, None);
        if measured {
            s.tote.push(t_tote);
            s.boxes.extend(boxes);
            s.item.extend(items);
            s.close.push(t_close);
            s.finish.push(t_finish);
            *s.suggested.entry(plan).or_default() += 1;
        }
    }

    let facts = |t: &str| -> i64 {
        let c = rusqlite::Connection::open(work).unwrap();
        c.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
            .unwrap()
    };
    println!(
        "Packing scan to feedback through ui::on_scan (headless AppWindow), {} build",
        if full { "release" } else { "brief test" }
    );
    println!(
        "store: {} products, {} locations, {} pulled stock levels, {pending} pending events at the start; {} orders of {LINES} lines ({} units) packed into 2 parcels each",
        facts("products"),
        facts("locations"),
        facts("stock_pulled"),
        s.finish.len(),
        products_of(0, catalogue)
            .iter()
            .enumerate()
            .map(|(i, _)| units_of(i))
            .sum::<i64>(),
    );
    println!("parcel 1's suggested box: {:?}", s.suggested);
    support::print_scan_table(&[
        ("tote: the order opens, carton suggestion", &s.tote),
        ("box label", &s.boxes),
        ("item: into the open parcel (journal)", &s.item),
        ("close parcel: parcel_packed committed (a tap)", &s.close),
        (
            "finish: parcel 2 and packing_finished with 50 moves committed (a tap)",
            &s.finish,
        ),
    ]);
}

//! Picking scan to feedback: a cluster of three orders picked into three totes and dropped at
//! packing, through the real path the scan field takes (`laituri::ui::on_scan` on an `AppWindow`
//! under Slint's testing backend), on the store of the putaway benchmark: 1,000,000 products,
//! 100,000 bins with stock levels in about 70 % of them, 100,000 pending events.
//!
//! One measured cycle: a pick task of three orders of one merchant, each one line of two units
//! of a product that lies alone in a bin, arrives through the pull (`Change::Task`); then from
//! the pick start screen:
//! 1. the batch label is scanned: the lease is asked for (the sync worker's job);
//! 2. the lease's answer comes (as the sync worker records it): the job starts from the packet,
//!    with what stays in each bin read from the local stock view;
//! 3. per line: the bin, the item twice, the order's tote (the pick is committed);
//!    when the view expects the bin empty afterwards, the zero check is answered with a tap;
//! 4. the packing location: the drop and the end of the task are committed.
//!
//! Run: `cargo bench --bench picking`. Under `cargo test` it runs a few cycles on a small store
//! built in a temporary folder, so that it cannot rot. Prints figures; asserts no timings.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use i_slint_backend_testing::init_no_event_loop;
use laituri::store::Store;
use laituri::terminal::Screen;
use laituri::terminal::picking::Action;
use laituri::ui::{self, AppAdapter, Ctx, Tone};
use laituri_domain::picking::Expect;
use laituri_protocol::{
    Change, GoodsCondition, IN_TRANSIT, Lease, Location, LocationKind, Operator, Place, Role,
    StockMove, Task, TaskKind, TaskLine, TaskOrder, TaskStatus, WorkPacket,
};
use laituri_server::demo;
use slint::ComponentHandle;
use support::places::{BRIEF, FULL, Size, apply, work_copy};

const PACKING: &str = "PACK-1";

fn main() {
    let full = support::run_by_cargo_bench();
    let size = if full { FULL } else { BRIEF };
    let keep = tempfile::tempdir().expect("temporary folder");
    let work = work_copy(full, size, "picking", keep.path());
    {
        // A packing location and a picker, as a pull brings them.
        let mut store = Store::open(&work).expect("store");
        apply(
            &mut store,
            vec![
                Change::Location(Location {
                    box_types: Vec::new(),
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
                    roles: vec![Role::Receiving, Role::Putaway, Role::Picking],
                    language: "fi".into(),
                    pin: None,
                    count_limits: None,
                }),
            ],
        );
    }
    let lines = lone_products(&work, (size.warm_up + size.cycles) * 3);
    run(size, &work, &lines, full);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", work.display()));
    }
}

/// Products that lie alone in a bin with at least two units, with the bin, one merchant's
/// after the other's in turns of three (a cart takes one merchant's orders).
fn lone_products(db: &Path, wanted: usize) -> Vec<(usize, String)> {
    let c = rusqlite::Connection::open(db).unwrap();
    let of = |merchant: &str| -> Vec<(usize, String)> {
        let mut stmt = c
            .prepare(
                "SELECT s.product_id, s.location FROM stock_pulled s
                 JOIN locations l ON l.code = s.location
                 WHERE s.merchant_id = ?1 AND l.kind = 'bin' AND s.quantity >= 2
                   AND (SELECT count(*) FROM stock_pulled o WHERE o.location = s.location) = 1
                 ORDER BY s.location LIMIT ?2",
            )
            .unwrap();
        stmt.query_map(rusqlite::params![merchant, wanted as i64], |r| {
            let id: String = r.get(0)?;
            Ok((id["BP-".len()..].parse().unwrap(), r.get::<_, String>(1)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    let (kettu, nordic) = (of(demo::KETTU), of(demo::NORDIC));
    let mut out = Vec::new();
    for (k, n) in kettu.chunks(3).zip(nordic.chunks(3)) {
        out.extend_from_slice(k);
        out.extend_from_slice(n);
    }
    assert!(out.len() >= wanted, "only {} lone products", out.len());
    out.truncate(wanted);
    out
}

/// The pick task of one cycle and its packet: three orders, one line each.
fn task_of(cycle: usize, lines: &[(usize, String)]) -> (Task, WorkPacket) {
    let merchant = support::product(lines[0].0).merchant_id;
    let orders: Vec<TaskOrder> = (0..lines.len())
        .map(|i| TaskOrder {
            order_id: uuid::Uuid::now_v7(),
            reference: format!("#{cycle}-{i}"),
            slot: i as u32 + 1,
            tote: None,
        })
        .collect();
    let task = Task {
        task_id: format!("pick-b{cycle:05}"),
        kind: TaskKind::Pick,
        merchant_id: merchant.clone(),
        priority: 0,
        status: TaskStatus::Open,
        container: None,
        lines: lines
            .iter()
            .zip(&orders)
            .map(|((n, bin), o)| TaskLine {
                goods: StockMove {
                    merchant_id: merchant.clone(),
                    product_id: support::product_id(*n),
                    quantity: 2,
                    lot: None,
                    expiry: None,
                    serial: None,
                    condition: GoodsCondition::Good,
                    from: Some(Place::at(bin.clone())),
                    to: Some(Place::at(IN_TRANSIT)),
                    reason: None,
                },
                order_id: Some(o.order_id),
                line_id: Some("1".into()),
            })
            .collect(),
        leased_to: None,
        reason: None,
        orders,
    };
    let mut leased = task.clone();
    leased.status = TaskStatus::Leased;
    let products = laituri_server::master::prepare_products(
        lines.iter().map(|(n, _)| support::product(*n)).collect(),
    )
    .expect("valid products");
    let packet = WorkPacket {
        lease: Lease {
            task_id: task.task_id.clone(),
            token: 1,
            expires_at_ms: i64::MAX,
        },
        merchant: demo::data()
            .merchants
            .into_iter()
            .find(|m| m.id == merchant)
            .unwrap(),
        products,
        locations: Vec::new(),
        task: leased,
    };
    (task, packet)
}

#[derive(Default)]
struct Samples {
    label: Vec<Duration>,
    start: Vec<Duration>,
    bin: Vec<Duration>,
    item: Vec<Duration>,
    tote: Vec<Duration>,
    drop: Vec<Duration>,
    zero_checks: usize,
}

fn run(size: Size, work: &Path, lines: &[(usize, String)], full: bool) {
    init_no_event_loop();
    let store = Store::open(work).expect("store");
    let pending = store.counts().unwrap().pending();
    let (ctx, window) = support::window_over(store);
    ui::on_scan(&window, &ctx, support::OPERATOR);
    assert_eq!(*ctx.terminal.borrow().screen(), Screen::Home);
    let timed = |raw: &str| -> Duration {
        let start = Instant::now();
        ui::on_scan(&window, &ctx, raw);
        let took = start.elapsed();
        let app = window.global::<AppAdapter>();
        assert!(
            matches!(app.get_tone(), Tone::Ok | Tone::Done | Tone::Warning),
            "scan {raw}: {}",
            app.get_feedback()
        );
        took
    };
    let expects = |ctx: &Ctx| ctx.terminal.borrow().picking().map(|p| p.view().expects);

    let mut s = Samples::default();
    for (cycle, three) in lines.chunks(3).enumerate() {
        let measured = cycle >= size.warm_up;
        let (task, packet) = task_of(cycle, three);
        apply(
            ctx.terminal.borrow_mut().store_mut(),
            vec![Change::Task(task.clone())],
        );
        ctx.terminal
            .borrow_mut()
            .open(Screen::PickingStart)
            .expect("the picker may pick");
        let t_label = timed(&task.task_id);
        ctx.terminal
            .borrow_mut()
            .store_mut()
            .answer_wanted(&task.task_id, Some(&packet), None)
            .expect("the lease answered");
        let start = Instant::now();
        let reply = ctx.terminal.borrow_mut().lease_answered();
        ui::answer(&window, &ctx, reply);
        let t_start = start.elapsed();
        assert_eq!(*ctx.terminal.borrow().screen(), Screen::Picking);
        let before = ctx.terminal.borrow().store().counts().unwrap().last_seq;
        let mut cycle_samples = (Vec::new(), Vec::new(), Vec::new());
        for (i, (n, bin)) in three.iter().enumerate() {
            cycle_samples.0.push(timed(bin));
            for _ in 0..2 {
                cycle_samples.1.push(timed(&support::unit_gtin(*n)));
            }
            cycle_samples.2.push(timed(&format!("T-B{cycle:05}-{i}")));
            if expects(&ctx) == Some(Expect::ZeroCheck) {
                let reply = ctx
                    .terminal
                    .borrow_mut()
                    .picking_action(Action::ZeroCheck(true));
                ui::answer(&window, &ctx, Some(reply));
                s.zero_checks += usize::from(measured);
            }
        }
        assert_eq!(expects(&ctx), Some(Expect::Drop));
        let t_drop = timed(PACKING);
        let recorded = ctx.terminal.borrow().store().counts().unwrap().last_seq - before;
        assert!(
            recorded >= 5,
            "three picks, the drop and the end: {recorded}"
        );
        assert!(ctx.terminal.borrow().picking().unwrap().is_finished());
        ctx.terminal.borrow_mut().home();
        ui::answer(&window, &ctx, None);
        if measured {
            s.label.push(t_label);
            s.start.push(t_start);
            s.bin.extend(cycle_samples.0);
            s.item.extend(cycle_samples.1);
            s.tote.extend(cycle_samples.2);
            s.drop.push(t_drop);
        }
    }

    let facts = |t: &str| -> i64 {
        let c = rusqlite::Connection::open(work).unwrap();
        c.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
            .unwrap()
    };
    println!(
        "Picking scan to feedback through ui::on_scan (headless AppWindow), {} build",
        if full { "release" } else { "brief test" }
    );
    println!(
        "store: {} products, {} locations, {} pulled stock levels, {pending} pending events at the start; {} tasks of 3 orders, {} zero checks answered",
        facts("products"),
        facts("locations"),
        facts("stock_pulled"),
        s.drop.len(),
        s.zero_checks,
    );
    support::print_scan_table(&[
        ("batch label: lease asked for", &s.label),
        (
            "packet arrives: the job starts (a tap, not a scan)",
            &s.start,
        ),
        ("bin", &s.bin),
        ("item", &s.item),
        ("tote: the pick committed", &s.tote),
        ("packing location: drop and end committed", &s.drop),
    ]);
}

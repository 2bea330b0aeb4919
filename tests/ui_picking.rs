//! Headless UI test of picking through the real Slint components, the real SQLite file and the
//! real server on 127.0.0.1:0: the outdoor shop's stock is put in bins by a device of its own,
//! three orders come in through the integration API and are released into one cluster task of
//! three totes; the shift lead takes the task by its batch label and picks it, with one line
//! skipped and picked at the end, one found short, a zero check, and a wrong location, a wrong
//! item and two wrong totes answered with errors that record nothing; after the sync the server
//! shows the two full orders picked, the short one picking again in a follow-up task (or on
//! hold) and a count task for the short bin. A job parked and taken up after a log-out and a
//! log-in keeps its bound totes; a lease lost while offline is shown on the pick screen, and
//! what was picked under it still reaches the server.

mod support;

use std::time::Duration;

use i_slint_backend_testing::ElementHandle;
use laituri::terminal::Screen;
use laituri::ui::{self, AppWindow, Ctx};
use laituri_protocol::{EventBody, IN_TRANSIT, OrderStatus, Role, TaskKind, TaskStatus};
use laituri_server::clock::Clock;
use support::orders::{self as shop, Stocker};
use support::ui::{has, last_seq, log_in_lead, scan, screen, sv, tap, value};

/// Plain products of the outdoor shop, and the bins they are stocked in (in walking order).
const SOCKS: &str = "KO-006";
const LAYER: &str = "KO-007";
const BIN_1: &str = "B-01-01-1";
const BIN_2: &str = "B-01-02-1";
const PACKING: &str = "PACK-1";

/// A scan that must be refused with an error and record nothing; the error is acknowledged.
fn refused(ctx: &Ctx, window: &AppWindow, code: &str) -> String {
    let before = last_seq(ctx);
    scan(window, code);
    let said = value(window, "Feedback");
    assert!(has(window, sv("Acknowledge")), "{code} was taken: {said}");
    assert_eq!(last_seq(ctx), before, "{code} recorded something: {said}");
    tap(window, sv("Acknowledge"));
    said
}

/// A scan that must be taken.
fn taken(window: &AppWindow, code: &str) {
    scan(window, code);
    assert!(
        !has(window, sv("Acknowledge")),
        "{code} was refused: {}",
        value(window, "Feedback")
    );
}

/// The marks of the recent lines on screen ("saved", "confirmed", "rejected").
fn marks(window: &AppWindow) -> Vec<String> {
    // Laying the window out makes the list's rows exist.
    let _ = support::ui::element(window, "Prompt").size();
    ElementHandle::find_by_accessible_label(window, "State")
        .filter_map(|e| e.accessible_value().map(|v| v.to_string()))
        .collect()
}

/// The event types this device recorded, oldest first.
fn recorded(ctx: &Ctx) -> Vec<String> {
    ctx.terminal
        .borrow()
        .store()
        .events_after(0, 1000)
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}

/// One sync round, reported to the window as the sync worker reports it.
fn synced(window: &AppWindow, sync: &laituri::sync::SyncConfig) {
    let status = support::sync_ok(sync);
    ui::apply_status(window, &status);
    ui::on_sync_progress(window, &status);
}

#[test]
fn a_cluster_of_three_orders_is_picked_into_three_totes_with_a_skip_and_a_short_pick() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::start_demo_server(dir.path());
    let url = server.handle.url();
    let mut stocker = Stocker::enrol(&url);
    stocker.stock_up(SOCKS, 3, BIN_1);
    stocker.stock_up(LAYER, 3, BIN_2);
    let first = shop::post_order(&url, "K-1001", &[(SOCKS, 2)]);
    let second = shop::post_order(&url, "K-1002", &[(SOCKS, 1), (LAYER, 1)]);
    let third = shop::post_order(&url, "K-1003", &[(LAYER, 2)]);
    let run = shop::release(&url, Some(3));
    assert_eq!((run.reserved, run.on_hold, run.tasks), (3, 0, 1), "{run:?}");

    let db = dir.path().join("terminal.sqlite3");
    let sync = support::sync_config(db.clone(), &url);
    support::sync_ok(&sync);
    let (ctx, window) = support::ui::open_window(&db);
    log_in_lead(&ctx, &window, &server.guide, Role::Picking);

    // The task is listed by its orders; a label that is no batch's is refused.
    tap(&window, sv("Picking"));
    assert_eq!(screen(&ctx), Screen::PickingStart);
    assert!(has(&window, "K-1001, K-1002, K-1003"));
    refused(&ctx, &window, "pick-no-such-batch");
    let task = ctx
        .terminal
        .borrow()
        .store()
        .open_tasks(TaskKind::Pick, 10)
        .unwrap()
        .remove(0);
    assert_eq!(task.orders.len(), 3);
    let slot = |order: uuid::Uuid| {
        task.orders
            .iter()
            .find(|o| o.order_id == order)
            .unwrap()
            .slot
    };
    let tote = |order: uuid::Uuid| format!("T-PICK-{}", slot(order));

    // The batch label asks the server for the task; its packet starts the picking.
    scan(&window, &task.task_id);
    assert!(
        value(&window, "Waiting").contains("K-1001"),
        "{}",
        value(&window, "Feedback")
    );
    synced(&window, &sync);
    assert_eq!(
        screen(&ctx),
        Screen::Picking,
        "{}",
        value(&window, "Feedback")
    );
    assert_eq!(value(&window, "Batch"), "K-1001, K-1002, K-1003");

    // First line: the first order's socks in the first bin. A wrong bin and a wrong item are
    // refused; the quantity is typed after one scan.
    assert_eq!(value(&window, "Location"), BIN_1);
    assert!(value(&window, "Item").contains(&shop::name(SOCKS)));
    assert!(value(&window, "Item").starts_with("2 ×"));
    assert!(value(&window, "Order").contains(&slot(first.id).to_string()));
    let wrong_bin = refused(&ctx, &window, BIN_2);
    assert!(wrong_bin.contains(BIN_1), "{wrong_bin}");
    taken(&window, BIN_1);
    refused(&ctx, &window, &shop::barcode(LAYER));
    taken(&window, &shop::barcode(SOCKS));
    tap(&window, sv("Quantity"));
    tap(&window, "2");
    tap(&window, sv("Enter"));
    assert!(
        value(&window, "Prompt").contains(&slot(first.id).to_string()),
        "{}",
        value(&window, "Prompt")
    );
    taken(&window, &tote(first.id));

    // Second line, the same bin: the second order's socks. The first order's tote is refused.
    assert_eq!(value(&window, "Location"), BIN_1);
    taken(&window, &shop::barcode(SOCKS));
    let wrong_tote = refused(&ctx, &window, &tote(first.id));
    assert!(wrong_tote.contains("K-1001"), "{wrong_tote}");
    taken(&window, &tote(second.id));
    // The bin is empty on the device's view now: is it?
    assert!(
        has(&window, sv("Yes, empty")),
        "{}",
        value(&window, "Prompt")
    );
    tap(&window, sv("Yes, empty"));

    // Third line, the second order's base layer, is skipped: it comes again at the end.
    assert_eq!(value(&window, "Location"), BIN_2);
    assert!(value(&window, "Order").contains(&slot(second.id).to_string()));
    tap(&window, sv("Skip"));
    assert!(value(&window, "Order").contains(&slot(third.id).to_string()));

    // The third order wants two; one is found: short, and the one goes into its tote.
    taken(&window, BIN_2);
    taken(&window, &shop::barcode(LAYER));
    tap(&window, sv("Found less"));
    taken(&window, &tote(third.id));
    assert!(
        value(&window, "Feedback").contains(BIN_2),
        "{}",
        value(&window, "Feedback")
    );

    // The skipped line, at the bin where the picker stands: the order's own tote only.
    assert!(value(&window, "Order").contains(&tote(second.id)));
    taken(&window, &shop::barcode(LAYER));
    refused(&ctx, &window, "T-PICK-9");
    taken(&window, &tote(second.id));

    // Every line done: the totes go to packing, not to a bin.
    let view = ctx.terminal.borrow().picking().unwrap().view();
    assert_eq!((view.lines_done, view.lines_left), (4, 0));
    refused(&ctx, &window, BIN_1);
    let before = marks(&window);
    assert!(
        !before.is_empty() && before.iter().all(|m| m == "saved"),
        "{before:?}"
    );
    scan(&window, PACKING);
    assert!(has(&window, sv("Done")), "{}", value(&window, "Feedback"));
    assert!(ctx.terminal.borrow().picking().unwrap().is_finished());
    assert_eq!(
        recorded(&ctx),
        [
            "picked",
            "picked",
            "zero_checked",
            "picked",
            "pick_short",
            "picked",
            "totes_dropped",
            "pick_finished"
        ]
    );
    let goods_dropped: i64 = ctx
        .terminal
        .borrow()
        .store()
        .recent_events("totes_dropped", 1)
        .unwrap()
        .iter()
        .flat_map(|(b, _)| b.moves())
        .map(|m| m.quantity)
        .sum();
    assert_eq!(goods_dropped, 5, "every unit picked goes to packing");

    // The sync pushes it all; the lines on screen are confirmed.
    synced(&window, &sync);
    let after = marks(&window);
    assert!(after.iter().all(|m| m == "confirmed"), "{after:?}");
    let counts = ctx.terminal.borrow().store().counts().unwrap();
    assert_eq!(counts.pending(), 0);
    assert_eq!(counts.open_exceptions, 0, "no event was rejected");
    tap(&window, sv("Done"));
    assert_eq!(screen(&ctx), Screen::Home);

    // The server: the two full orders are picked, their totes at packing.
    for (order, units) in [(&first, 2), (&second, 2)] {
        let o = shop::order(&url, order.id);
        assert_eq!(
            o.status,
            OrderStatus::Picked,
            "{}: {:?}",
            o.reference,
            o.history
        );
        assert_eq!(o.totes, vec![tote(order.id)]);
        let at_packing: i64 = [SOCKS, LAYER]
            .iter()
            .map(|p| shop::stock_at(&url, p, PACKING, Some(&tote(order.id))))
            .sum();
        assert_eq!(at_packing, units, "{}", o.reference);
    }
    for p in [SOCKS, LAYER] {
        for o in [&first, &second, &third] {
            assert_eq!(shop::stock_at(&url, p, IN_TRANSIT, Some(&tote(o.id))), 0);
        }
    }
    assert_eq!(shop::stock_at(&url, SOCKS, BIN_1, None), 0);
    assert_eq!(shop::stock_at(&url, LAYER, BIN_2, None), 1);
    // The short bin gets a count; the short order is reserved again for what is missing (one
    // is left in the bin on the server's books) or waits on hold.
    let tasks = shop::tasks(&url);
    assert!(
        tasks.iter().any(|t| t.kind == TaskKind::Count
            && t.reason.as_deref() == Some(format!("short pick at {BIN_2}").as_str())),
        "{tasks:#?}"
    );
    assert!(
        tasks
            .iter()
            .any(|t| t.task_id == task.task_id && t.status == TaskStatus::Done)
    );
    shop::release(&url, None);
    let short = shop::order(&url, third.id);
    let follow_up = shop::tasks(&url).into_iter().any(|t| {
        t.kind == TaskKind::Pick
            && t.task_id != task.task_id
            && t.orders.iter().any(|o| o.order_id == third.id)
    });
    assert!(
        (short.status == OrderStatus::Picking && follow_up) || short.status == OrderStatus::OnHold,
        "{:?}, a follow-up task: {follow_up}",
        short.history
    );
}

#[test]
fn a_parked_pick_resumes_after_log_out_and_log_in_with_its_bound_totes() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::start_demo_server(dir.path());
    let url = server.handle.url();
    let mut stocker = Stocker::enrol(&url);
    stocker.stock_up(SOCKS, 5, BIN_1);
    stocker.stock_up(LAYER, 5, BIN_2);
    let first = shop::post_order(&url, "K-2001", &[(SOCKS, 1), (LAYER, 1)]);
    let second = shop::post_order(&url, "K-2002", &[(SOCKS, 1)]);
    let run = shop::release(&url, Some(2));
    assert_eq!(run.tasks, 1, "{run:?}");

    let db = dir.path().join("terminal.sqlite3");
    let sync = support::sync_config(db.clone(), &url);
    support::sync_ok(&sync);
    let (ctx, window) = support::ui::open_window(&db);
    log_in_lead(&ctx, &window, &server.guide, Role::Picking);
    tap(&window, sv("Picking"));
    // The batch chosen from the list by its orders.
    tap(&window, "K-2001, K-2002");
    synced(&window, &sync);
    assert_eq!(
        screen(&ctx),
        Screen::Picking,
        "{}",
        value(&window, "Feedback")
    );

    // The first order's socks into its tote, which binds the tote to it; then park.
    assert!(value(&window, "Order").contains('1'));
    taken(&window, BIN_1);
    taken(&window, &shop::barcode(SOCKS));
    taken(&window, "T-KEEP-1");
    tap(&window, sv("Stop picking"));
    assert_eq!(screen(&ctx), Screen::Home);
    assert!(value(&window, "Feedback").contains("K-2001"));

    // Another log-in: the job comes back with what it did.
    tap(&window, sv("Log out"));
    assert_eq!(screen(&ctx), Screen::Login);
    assert!(ctx.terminal.borrow().picking().is_none());
    log_in_lead(&ctx, &window, &server.guide, Role::Picking);
    assert!(ctx.terminal.borrow().picking().is_some(), "the job resumed");
    tap(&window, sv("Picking"));
    assert_eq!(screen(&ctx), Screen::Picking);
    let view = ctx.terminal.borrow().picking().unwrap().view();
    assert_eq!((view.lines_done, view.lines_left), (1, 2));

    // The second order's socks: the first order's tote is still the first order's.
    taken(&window, BIN_1);
    taken(&window, &shop::barcode(SOCKS));
    let said = refused(&ctx, &window, "T-KEEP-1");
    assert!(said.contains("K-2001"), "{said}");
    taken(&window, "T-KEEP-2");
    // The first order's base layer goes into the tote bound before the log-out.
    assert_eq!(value(&window, "Location"), BIN_2);
    assert!(
        value(&window, "Order").contains("T-KEEP-1"),
        "{}",
        value(&window, "Order")
    );
    taken(&window, BIN_2);
    taken(&window, &shop::barcode(LAYER));
    refused(&ctx, &window, "T-KEEP-2");
    taken(&window, "T-KEEP-1");
    taken(&window, PACKING);
    assert!(ctx.terminal.borrow().picking().unwrap().is_finished());

    // The drop moves every unit of both totes, those picked before the log-out too.
    let dropped = ctx
        .terminal
        .borrow()
        .store()
        .recent_events("totes_dropped", 1)
        .unwrap();
    let Some((EventBody::TotesDropped { moves, totes, .. }, _)) = dropped.first() else {
        panic!("no drop recorded");
    };
    assert_eq!(totes.len(), 2);
    let in_first: i64 = moves
        .iter()
        .filter(|m| m.from.as_ref().and_then(|p| p.container.as_deref()) == Some("T-KEEP-1"))
        .map(|m| m.quantity)
        .sum();
    assert_eq!(in_first, 2);

    synced(&window, &sync);
    for o in [&first, &second] {
        let o = shop::order(&url, o.id);
        assert_eq!(
            o.status,
            OrderStatus::Picked,
            "{}: {:?}",
            o.reference,
            o.history
        );
    }
    assert_eq!(shop::stock_at(&url, SOCKS, PACKING, Some("T-KEEP-1")), 1);
    assert_eq!(shop::stock_at(&url, LAYER, PACKING, Some("T-KEEP-1")), 1);
    assert_eq!(shop::stock_at(&url, SOCKS, PACKING, Some("T-KEEP-2")), 1);
    assert_eq!(
        ctx.terminal
            .borrow()
            .store()
            .counts()
            .unwrap()
            .open_exceptions,
        0
    );
}

#[test]
fn a_lease_lost_while_offline_is_shown_on_the_pick_screen_and_nothing_picked_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(laituri::store::now_ms());
    let server = support::start_demo_server_with_clock(dir.path(), clock.clone());
    let url = server.handle.url();
    let mut stocker = Stocker::enrol(&url);
    stocker.stock_up(SOCKS, 4, BIN_1);
    stocker.stock_up(LAYER, 4, BIN_2);
    shop::post_order(&url, "K-3001", &[(SOCKS, 1), (LAYER, 1)]);
    shop::release(&url, Some(1));

    let db = dir.path().join("terminal.sqlite3");
    let sync = support::sync_config(db.clone(), &url);
    support::sync_ok(&sync);
    let (ctx, window) = support::ui::open_window(&db);
    log_in_lead(&ctx, &window, &server.guide, Role::Picking);
    tap(&window, sv("Picking"));
    tap(&window, sv("Take the next"));
    synced(&window, &sync);
    assert_eq!(screen(&ctx), Screen::Picking);
    // Nothing on screen says the lease is lost while it is held.
    assert!(!has(&window, "Lease lost"));

    // The first line is picked offline; meanwhile the lease runs out and another device takes
    // the task over.
    taken(&window, BIN_1);
    taken(&window, &shop::barcode(SOCKS));
    taken(&window, "T-LOST-1");
    clock.advance(Duration::from_secs(11 * 60));
    let task_id = ctx
        .terminal
        .borrow()
        .picking()
        .unwrap()
        .claim()
        .task_id
        .clone();
    let other = stocker.take_task(&task_id);
    assert_eq!(
        other.task.lines.len(),
        2,
        "nothing of it reached the server yet"
    );
    synced(&window, &sync);
    let said = value(&window, "Feedback");
    let banner = value(&window, "Lease lost");
    assert!(!banner.is_empty(), "the pick screen shows the lost lease");
    assert!(banner.contains("K-3001"), "{banner}");
    assert!(
        banner.contains(sv("Stop picking")),
        "it says what to do: {banner}"
    );
    assert_eq!(
        said, banner,
        "the notice is given as an answer once, and stays on screen"
    );
    // The pick made before reached the server: the goods are in the tote on its books (its
    // progress went to nobody: the task is the other device's now).
    assert_eq!(ctx.terminal.borrow().store().counts().unwrap().pending(), 0);
    assert_eq!(shop::stock_at(&url, SOCKS, IN_TRANSIT, Some("T-LOST-1")), 1);
    assert_eq!(shop::stock_at(&url, SOCKS, BIN_1, None), 3);

    // Stopping ends the job on this device; nothing recorded is lost.
    tap(&window, sv("Stop picking"));
    assert_eq!(screen(&ctx), Screen::Home);
    assert!(ctx.terminal.borrow().picking().is_none());
    assert!(ctx.terminal.borrow().store().open_job().unwrap().is_none());
    assert!(recorded(&ctx).contains(&"picked".to_string()));
}

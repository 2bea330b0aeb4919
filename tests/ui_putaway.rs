//! Headless UI test of putaway, the first flow on the platform, through the real Slint
//! components, the real SQLite file and the real server on 127.0.0.1:0: receive a notice into a
//! tote and close it, then put the tote away from the menu by scanning it: one suggestion
//! accepted, one bin marked full, one override with a reason, wrong scans answered and recording
//! nothing; then the server's stock per location equals what was scanned.

mod support;

use std::collections::BTreeMap;

use laituri::i18n::{Lang, translate};
use laituri::terminal::Screen;
use laituri::ui::{self, Ctx};
use laituri_protocol::Role;
use support::ui::{has, scan, tap, value};

/// A label as the demo's Swedish-speaking lead, who receives and puts away, sees it.
fn sv(label: &'static str) -> &'static str {
    translate(Lang::Sv, label)
}

fn screen(ctx: &Ctx) -> Screen {
    ctx.terminal.borrow().screen().clone()
}

/// Units of each product in a location on the device's local stock view.
fn local(ctx: &Ctx, location: &str) -> BTreeMap<String, i64> {
    let t = ctx.terminal.borrow();
    let mut out = BTreeMap::new();
    for r in t.store().location_contents(location).unwrap() {
        *out.entry(r.product_id).or_insert(0) += r.quantity;
    }
    out
}

#[test]
fn receive_close_and_put_a_tote_away_with_a_full_bin_and_an_override() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::start_demo_server(dir.path());
    let db = dir.path().join("terminal.sqlite3");
    let sync = support::sync_config(db.clone(), &server.handle.url());
    support::sync_ok(&sync);

    let (ctx, window) = support::ui::open_window(&db);

    // An operator who receives and puts away.
    let op = server
        .guide
        .operators
        .iter()
        .find(|o| {
            o.roles.contains(&Role::Receiving)
                && o.roles.contains(&Role::Putaway)
                && o.language == "sv"
        })
        .expect("the demo has an operator who receives and puts away");
    scan(&window, &op.badge);
    if let Some(pin) = &op.pin {
        for digit in pin.chars() {
            tap(&window, &digit.to_string());
        }
        tap(&window, sv("Enter"));
    }
    assert_eq!(screen(&ctx), Screen::Home, "{}", value(&window, "Feedback"));

    // Receive the clean notice into a tote and close it.
    let notice = server
        .guide
        .notices
        .iter()
        .find(|n| {
            n.scans
                .iter()
                .all(|s| !s.to_quarantine && !s.code.contains("(10)"))
        })
        .expect("the demo has a notice without lots or quarantine");
    let tote = server.guide.totes[0].clone();
    scan(&window, &notice.reference);
    assert_eq!(screen(&ctx), Screen::Receiving);
    scan(&window, &tote);
    let mut in_tote: BTreeMap<String, i64> = BTreeMap::new();
    for s in &notice.scans {
        for _ in 0..s.times {
            scan(&window, &s.code);
            assert!(
                !has(&window, sv("Acknowledge")),
                "{}",
                value(&window, "Feedback")
            );
        }
        *in_tote.entry(s.product_id.clone()).or_insert(0) += s.units;
    }
    while has(&window, sv("Confirm")) {
        tap(&window, sv("Confirm"));
    }
    tap(&window, sv("Close receipt"));
    tap(&window, sv("Confirm"));
    tap(&window, sv("Done"));
    assert_eq!(screen(&ctx), Screen::Home);

    // A wrong scan from the menu starts nothing; the tote starts putaway, offline-capable.
    scan(&window, &tote);
    assert_eq!(
        screen(&ctx),
        Screen::Putaway,
        "{}",
        value(&window, "Feedback")
    );
    assert_eq!(value(&window, "Container"), tote);

    let mut put: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut round = 0;
    let mut overridden = false;
    let mut marked_full = false;
    while screen(&ctx) == Screen::Putaway
        && ctx
            .terminal
            .borrow()
            .putaway()
            .is_some_and(|p| !p.is_finished())
    {
        round += 1;
        assert!(
            round < 40,
            "putaway does not finish: {}",
            value(&window, "Prompt")
        );
        let view = ctx.terminal.borrow().putaway().unwrap().view();
        if view.suggested.is_none() {
            // Several kinds of goods: scan one of the tote's items.
            let product = view.left[0].0.clone();
            let s = notice
                .scans
                .iter()
                .find(|s| s.product_name == product)
                .expect("a scan of the product");
            scan(&window, &s.code);
            assert!(
                !value(&window, "Suggested bin").is_empty(),
                "{}",
                value(&window, "Feedback")
            );
            continue;
        }
        let suggested = view.suggested.clone().unwrap();
        let product_id = ctx
            .terminal
            .borrow()
            .putaway()
            .unwrap()
            .selected_product()
            .unwrap();
        let quantity = view.quantity.unwrap();
        if !marked_full {
            // The operator finds the suggested bin full: the next suggestion comes at once.
            marked_full = true;
            tap(&window, sv("Bin full"));
            let next = value(&window, "Suggested bin");
            assert_ne!(next, suggested, "a full bin is not suggested again");
            continue;
        }
        if !overridden {
            // A dock is no bin: refused, nothing recorded.
            scan(&window, "DOCK-2");
            assert!(
                has(&window, sv("Acknowledge")),
                "{}",
                value(&window, "Feedback")
            );
            tap(&window, sv("Acknowledge"));
            // Another bin of the merchant's zone than the one suggested: asks why.
            let other = ctx
                .terminal
                .borrow()
                .store()
                .bins_of_zone(&notice.merchant_id, 50)
                .unwrap()
                .into_iter()
                .map(|b| b.code)
                .rev()
                .find(|c| *c != suggested)
                .expect("another bin in the zone");
            scan(&window, &other);
            assert!(
                has(&window, sv("Closer bin")),
                "{}",
                value(&window, "Feedback")
            );
            tap(&window, sv("Closer bin"));
            overridden = true;
            *put.entry((product_id, other)).or_insert(0) += quantity;
            continue;
        }
        scan(&window, &suggested);
        assert!(
            !has(&window, sv("Acknowledge")),
            "{}",
            value(&window, "Feedback")
        );
        *put.entry((product_id, suggested)).or_insert(0) += quantity;
    }
    assert!(overridden && marked_full);
    // "The tote is empty" or the last unit's "… på A-01-02." in Swedish.
    let last = value(&window, "Feedback");
    assert!(last.contains("tom") || last.contains(" på "), "{last}");

    // The device's own view: the tote is empty, the bins hold what was put.
    assert!(
        ctx.terminal
            .borrow()
            .store()
            .container_contents(&tote)
            .unwrap()
            .iter()
            .all(|r| r.quantity == 0)
    );
    let total_put: i64 = put.values().sum();
    assert_eq!(total_put, in_tote.values().sum::<i64>());
    for ((product, bin), q) in &put {
        assert_eq!(local(&ctx, bin).get(product), Some(q), "{product} in {bin}");
    }

    // After a sync, the server's stock per location equals what was scanned.
    support::sync_ok(&sync);
    let rows = support::server_stock(&server.handle.url(), &notice.merchant_id);
    for ((product, bin), q) in &put {
        let on_server: i64 = rows
            .iter()
            .filter(|r| &r.product_id == product && &r.location == bin)
            .map(|r| r.quantity)
            .sum();
        assert_eq!(on_server, *q, "server: {product} in {bin}");
    }
    let left_in_tote: i64 = rows
        .iter()
        .filter(|r| r.container.as_deref() == Some(tote.as_str()))
        .map(|r| r.quantity)
        .sum();
    assert_eq!(left_in_tote, 0, "the tote is empty on the server too");
    let counts = ctx.terminal.borrow().store().counts().unwrap();
    assert_eq!(counts.pending(), 0);
    assert_eq!(counts.open_exceptions, 0, "no event was rejected");
}

#[test]
fn a_putaway_task_taken_from_the_list_starts_under_its_lease() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::start_demo_server(dir.path());
    let db = dir.path().join("terminal.sqlite3");
    let sync = support::sync_config(db.clone(), &server.handle.url());
    support::sync_ok(&sync);
    let (ctx, window) = support::ui::open_window(&db);
    let op = server
        .guide
        .operators
        .iter()
        .find(|o| {
            o.roles.contains(&Role::Receiving)
                && o.roles.contains(&Role::Putaway)
                && o.language == "sv"
        })
        .unwrap();
    scan(&window, &op.badge);
    if let Some(pin) = &op.pin {
        scan(&window, pin);
    }
    // A tote received and closed: the server makes a putaway task of it.
    let notice = &server.guide.notices[0];
    let tote = server.guide.totes[5].clone();
    scan(&window, &notice.reference);
    scan(&window, &tote);
    for s in &notice.scans {
        for _ in 0..s.times {
            scan(&window, &s.code);
            if has(&window, sv("Confirm")) {
                tap(&window, sv("Confirm"));
            }
        }
    }
    tap(&window, sv("Close receipt"));
    tap(&window, sv("Confirm"));
    tap(&window, sv("Done"));
    let status = support::sync_ok(&sync);
    ui::on_sync_progress(&window, &status);

    // The task is listed on the putaway start screen; tapping it asks the server for it.
    tap(&window, sv("Putaway"));
    assert_eq!(screen(&ctx), Screen::PutawayStart);
    tap(&window, &tote);
    assert!(
        value(&window, "Waiting").contains(&tote),
        "{}",
        value(&window, "Feedback")
    );
    // The sync worker leases it; its answer starts the putaway under the lease.
    let status = support::sync_ok(&sync);
    ui::on_sync_progress(&window, &status);
    assert_eq!(
        screen(&ctx),
        Screen::Putaway,
        "{}",
        value(&window, "Feedback")
    );
    assert_eq!(value(&window, "Container"), tote);
    let claim = ctx.terminal.borrow().putaway().unwrap().claim().cloned();
    assert!(
        claim.is_some_and(|c| c.token >= 1),
        "the putaway carries the lease"
    );
}

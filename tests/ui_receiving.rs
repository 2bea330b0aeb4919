//! Headless UI test of receiving, through the real Slint components (Slint's testing backend),
//! the real SQLite file and the real server on 127.0.0.1:0: log in by badge and PIN, receive a
//! whole inbound notice with lot and expiry dates by typed scans, scan an unknown barcode, close
//! the receipt, then check the outbox and, after a sync, the server's stock.

mod support;

use std::collections::BTreeMap;
use std::rc::Rc;

use i_slint_backend_testing::ElementHandle;
use laituri::i18n::{Lang, translate};
use laituri::terminal::Screen;
use laituri::ui::{self, AppWindow, Ctx};
use laituri_protocol::Role;

use support::ui::{element, scan, tap, value};

/// A terminal window over a store synced with a fresh demo server.
struct Rig {
    _dir: tempfile::TempDir,
    server: support::DemoServer,
    sync: laituri::sync::SyncConfig,
    ctx: Rc<Ctx>,
    window: AppWindow,
}

fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let server = support::start_demo_server(dir.path());
    let db = dir.path().join("terminal.sqlite3");
    let sync = support::sync_config(db.clone(), &server.handle.url());
    support::sync_ok(&sync); // enrol and pull the demo warehouse

    let (ctx, window) = support::ui::open_window(&db);
    Rig {
        _dir: dir,
        server,
        sync,
        ctx,
        window,
    }
}

/// Logs in a receiving operator who speaks `lang`, with the PIN on the keypad if they have one.
fn log_in(r: &Rig, lang: &str) {
    let op = r
        .server
        .guide
        .operators
        .iter()
        .find(|o| o.roles.contains(&Role::Receiving) && o.language == lang)
        .expect("a receiving operator speaking the language");
    scan(&r.window, &op.badge);
    if let Some(pin) = &op.pin {
        for digit in pin.chars() {
            tap(&r.window, &digit.to_string());
        }
        tap(&r.window, "Enter");
    }
    assert_eq!(*r.ctx.terminal.borrow().screen(), Screen::Home);
}

fn screen(r: &Rig) -> Screen {
    r.ctx.terminal.borrow().screen().clone()
}

fn needs_ack(window: &AppWindow) -> bool {
    ElementHandle::find_by_accessible_label(window, "Acknowledge")
        .next()
        .is_some()
}

#[test]
fn short_and_over_by_keypad_with_damaged_goods_and_confirmation() {
    let r = rig();
    log_in(&r, "en");
    let notice = r
        .server
        .guide
        .notices
        .iter()
        .find(|n| n.story.contains("comes in short"))
        .expect("the demo has a notice that comes short and over");
    // Chosen from the list this time, by tapping it.
    tap(&r.window, "Receiving");
    assert_eq!(screen(&r), Screen::ReceivingStart);
    tap(&r.window, &notice.reference);
    assert_eq!(screen(&r), Screen::Receiving);
    scan(&r.window, "LP-000042");
    assert_eq!(value(&r.window, "Container"), "LP-000042");

    let short = &notice.scans[0];
    let over = notice
        .scans
        .iter()
        .find(|s| s.note.contains("over"))
        .expect("an over line");
    // The short line: one scan, then the rest on the keypad.
    scan(&r.window, &short.code);
    tap(&r.window, "Add quantity");
    for d in (short.units - 1).to_string().chars() {
        tap(&r.window, &d.to_string());
    }
    tap(&r.window, "Enter");
    assert!(!needs_ack(&r.window), "{}", value(&r.window, "Feedback"));
    // Two more of those arrived damaged: quarantine, not dock.
    tap(&r.window, "Damaged");
    tap(&r.window, "2");
    tap(&r.window, "Enter");
    assert!(!needs_ack(&r.window), "{}", value(&r.window, "Feedback"));
    let quarantined = {
        let t = r.ctx.terminal.borrow();
        let view = t.receiving().unwrap().view(t.store());
        view.lines
            .iter()
            .find(|l| l.product_id == short.product_id)
            .map(|l| l.quarantined)
    };
    assert_eq!(quarantined, Some(2));

    // The over line: scanning past the tolerance asks to confirm; the answer is on screen.
    let expected = notice
        .expected
        .iter()
        .find(|l| l.product_id == over.product_id)
        .unwrap()
        .expected_qty;
    let mut asked = false;
    for _ in 0..over.times {
        scan(&r.window, &over.code);
        if ElementHandle::find_by_accessible_label(&r.window, "Confirm")
            .next()
            .is_some()
        {
            asked = true;
            tap(&r.window, "Confirm");
        }
    }
    assert!(
        asked,
        "receiving {} of {expected} asked to confirm",
        over.times
    );
    let line = element(&r.window, &format!("Line {}", over.product_name))
        .accessible_value()
        .unwrap()
        .to_string();
    assert_eq!(line, format!("{} / {expected}", over.times));

    // Close: the summary counts the short lines, the list marks the short line, and the
    // receipt closes when confirmed.
    tap(&r.window, "Close receipt");
    let summary = value(&r.window, "Feedback");
    assert!(summary.contains("short"), "{summary}");
    let difference = value(&r.window, &format!("Difference {}", short.product_name));
    assert!(difference.ends_with("missing"), "{difference}");
    tap(&r.window, "Confirm");
    assert!(r.ctx.terminal.borrow().receiving().unwrap().is_closed());

    let status = support::sync_ok(&r.sync);
    assert_eq!(status.counts.pending(), 0);
    let stock = support::totals(&support::server_stock(
        &r.server.handle.url(),
        &notice.merchant_id,
    ));
    let quarantine = r.server.guide.quarantine.clone();
    assert_eq!(stock.get(&(short.product_id.clone(), quarantine)), Some(&2));
    assert_eq!(
        stock.get(&(short.product_id.clone(), "DOCK-1".to_string())),
        Some(&short.units)
    );
    assert_eq!(
        stock.get(&(over.product_id.clone(), "DOCK-1".to_string())),
        Some(&i64::from(over.times))
    );
}

#[test]
fn a_finnish_operator_gets_finnish_screens_and_the_next_one_english() {
    let r = rig();
    assert_eq!(value(&r.window, "Prompt"), "Scan your badge");
    log_in(&r, "fi");
    // The menu and the fixed labels are Finnish; so is what the terminal says.
    tap(&r.window, "Vastaanotto");
    assert_eq!(screen(&r), Screen::ReceivingStart);
    assert!(value(&r.window, "Prompt").starts_with("Lue saapumisilmoituksen viite"));
    scan(&r.window, "NO-SUCH-NOTICE");
    assert!(value(&r.window, "Feedback").contains("ei löydy"));
    tap(&r.window, "Kuittaa");
    tap(&r.window, "Takaisin");
    tap(&r.window, "Kirjaudu ulos");
    // Nobody logged in: English again.
    assert_eq!(value(&r.window, "Prompt"), "Scan your badge");
}

#[test]
fn blind_receipt_exceptions_done_and_about() {
    let r = rig();
    log_in(&r, "en");
    tap(&r.window, "Receiving");
    let merchant = &r.server.guide.notices[0].merchant_name;
    tap(&r.window, &format!("Blind receipt {merchant}"));
    assert_eq!(screen(&r), Screen::Receiving);
    assert!(
        r.ctx
            .terminal
            .borrow()
            .receiving()
            .unwrap()
            .view(r.ctx.terminal.borrow().store())
            .title
            .is_empty()
    );
    scan(&r.window, "T-0009");
    scan(&r.window, &r.server.guide.unknown_barcode);
    tap(&r.window, "Acknowledge");
    assert_eq!(value(&r.window, "Exceptions"), "1");

    // The unknown barcode is in the scan log too, marked like every line.
    let logged = r
        .ctx
        .terminal
        .borrow()
        .receiving()
        .unwrap()
        .view(r.ctx.terminal.borrow().store())
        .recent;
    assert!(
        logged
            .iter()
            .any(|l| l.product_name.contains(&r.server.guide.unknown_barcode)),
        "{logged:?}"
    );

    // The header's exception count opens the list. A clerk cannot resolve one: only a lead.
    tap(&r.window, "Exceptions");
    assert_eq!(screen(&r), Screen::Exceptions);
    let id = r.ctx.terminal.borrow().store().open_exceptions(10).unwrap()[0].id;
    assert!(
        ElementHandle::find_by_accessible_label(&r.window, &format!("Resolve {id}"))
            .next()
            .is_none(),
        "a clerk sees no Resolve"
    );
    // The lead takes the terminal (badge and PIN), resolves it and confirms.
    let lead = r
        .server
        .guide
        .operators
        .iter()
        .find(|o| o.roles.contains(&Role::Lead))
        .expect("the demo has a shift lead");
    scan(&r.window, &lead.badge);
    if let Some(pin) = &lead.pin {
        scan(&r.window, pin);
    }
    tap(&r.window, "Exceptions");
    tap(&r.window, &format!("Resolve {id}"));
    tap(&r.window, &format!("Confirm {id}"));
    assert_eq!(value(&r.window, "Exceptions"), "0");
    // The resolution reaches the server: who resolved it, and when.
    support::sync_ok(&r.sync);
    let on_server = support::server_exceptions(&r.server.handle.url());
    let resolved = on_server
        .iter()
        .find(|e| e.kind == "unknown_barcode")
        .expect("the unknown barcode is an exception on the server");
    assert_eq!(resolved.resolved_by.as_deref(), Some(lead.badge.as_str()));
    assert!(resolved.resolved_at.is_some());
    assert!(
        r.ctx
            .terminal
            .borrow()
            .store()
            .open_exceptions(10)
            .unwrap()
            .is_empty()
    );
    // The lead reads the screens in their own language.
    let tr = |label: &'static str| translate(Lang::from_tag(&lead.language), label);
    tap(&r.window, tr("Menu"));
    assert_eq!(screen(&r), Screen::Home);

    // The About screen (licence, AboutSlint) opens from the menu and returns to it.
    tap(&r.window, tr("About"));
    assert_eq!(screen(&r), Screen::About);
    tap(&r.window, tr("Menu"));
    assert_eq!(screen(&r), Screen::Home);
}

#[test]
fn the_scanner_check_shows_what_the_scanner_sent() {
    let r = rig();
    // The check works before anyone logs in: it is the first thing done with a new scanner.
    r.ctx
        .terminal
        .borrow_mut()
        .open(Screen::ScannerCheck)
        .unwrap();
    ui::refresh(&r.window, &r.ctx);
    assert_eq!(value(&r.window, "Raw scan"), "", "nothing scanned yet");
    assert_eq!(
        value(&r.window, "Connection"),
        "offline",
        "no sync report yet"
    );
    scan(&r.window, "]C10106412345000166\u{1d}10A2417\u{1d}17270322");
    assert_eq!(
        value(&r.window, "Raw scan"),
        "]C10106412345000166<GS>10A2417<GS>17270322"
    );
    assert!(value(&r.window, "Bytes").starts_with("5d 43 31 30 31"));
    assert!(value(&r.window, "Bytes").contains(" 1d "));
    assert_eq!(value(&r.window, "Kind"), "GS1 valid");
    assert_eq!(value(&r.window, "Element 10"), "A2417");
    assert_eq!(value(&r.window, "Element 17"), "270322");
    // Nothing was recorded: the check only shows.
    assert_eq!(
        r.ctx.terminal.borrow().store().counts().unwrap().last_seq,
        0
    );

    scan(&r.window, "]C10106412345000167");
    assert_eq!(value(&r.window, "Kind"), "GS1 invalid");
}

#[test]
fn receive_a_notice_with_lots_by_scans_and_see_it_on_the_server() {
    let Rig {
        _dir,
        server,
        sync,
        ctx,
        window,
    } = rig();

    // Log in: a receiving operator whose badge asks for a PIN, typed on the on-screen keypad.
    let op = server
        .guide
        .operators
        .iter()
        .find(|o| o.roles.contains(&Role::Receiving) && o.pin.is_some())
        .expect("the demo has a receiving operator with a PIN");
    assert_eq!(value(&window, "Prompt"), "Scan your badge");
    scan(&window, &op.badge);
    assert_eq!(*ctx.terminal.borrow().screen(), Screen::Pin);
    for digit in op.pin.as_deref().unwrap().chars() {
        tap(&window, &digit.to_string());
    }
    tap(&window, "Enter");
    assert_eq!(
        *ctx.terminal.borrow().screen(),
        Screen::Home,
        "{}",
        value(&window, "Feedback")
    );

    // Receiving: the notice with lots and expiry dates, chosen by scanning its reference.
    tap(&window, "Receiving");
    let notice = server
        .guide
        .notices
        .iter()
        .find(|n| n.scans.iter().any(|s| s.code.contains("(10)")))
        .expect("the demo has a notice with lots");
    scan(&window, &notice.reference);
    assert_eq!(*ctx.terminal.borrow().screen(), Screen::Receiving);
    scan(&window, &server.guide.totes[0]);
    assert_eq!(value(&window, "Container"), server.guide.totes[0]);

    let mut expected: BTreeMap<(String, String), i64> = BTreeMap::new();
    for s in &notice.scans {
        for _ in 0..s.times {
            scan(&window, &s.code);
            let feedback = value(&window, "Feedback");
            let ack = ElementHandle::find_by_accessible_label(&window, "Acknowledge")
                .next()
                .is_some();
            assert!(!ack, "{} gave an error: {feedback}", s.code);
        }
        let location = if s.to_quarantine {
            server.guide.quarantine.clone()
        } else {
            "DOCK-1".to_string()
        };
        *expected
            .entry((s.product_id.clone(), location))
            .or_insert(0) += s.units;
    }
    // Over-receipt questions (if the guide's scans go over) are answered on screen.
    while ElementHandle::find_by_accessible_label(&window, "Confirm")
        .next()
        .is_some()
    {
        tap(&window, "Confirm");
    }

    // An unknown barcode: an error that must be acknowledged, recorded as an exception.
    scan(&window, &server.guide.unknown_barcode);
    assert!(value(&window, "Feedback").contains(&server.guide.unknown_barcode));
    scan(&window, "T-0002");
    assert_ne!(
        value(&window, "Container"),
        "T-0002",
        "no scan is taken before the error is acknowledged"
    );
    tap(&window, "Acknowledge");

    // The header counts what waits for the server, right after the scans.
    let pending: u64 = value(&window, "Pending events").parse().unwrap();
    let in_outbox = ctx.terminal.borrow().store().counts().unwrap().pending();
    assert!(in_outbox > 3);
    assert_eq!(
        pending, in_outbox,
        "the header shows the outbox before any sync"
    );

    // Every recent line shows its state: saved on the device, not yet confirmed.
    let states: Vec<String> = ElementHandle::find_by_accessible_label(&window, "State")
        .filter_map(|e| e.accessible_value().map(|v| v.to_string()))
        .collect();
    assert!(!states.is_empty());
    assert!(states.iter().all(|s| s == "saved"), "{states:?}");

    // Close: expected against received, confirmed.
    tap(&window, "Close receipt");
    tap(&window, "Confirm");
    assert!(ctx.terminal.borrow().receiving().unwrap().is_closed());

    // The outbox holds every action, in order, nothing sent yet.
    let events = ctx.terminal.borrow().store().pending_batch(10_000).unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types.first(), Some(&"receipt_opened"));
    assert_eq!(types.last(), Some(&"receipt_closed"));
    assert_eq!(types.iter().filter(|t| **t == "unknown_barcode").count(), 1);
    let scans: u32 = notice.scans.iter().map(|s| s.times).sum();
    assert_eq!(
        types.iter().filter(|t| **t == "goods_received").count() as u32,
        scans
    );
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1, "gapless seqs");
    }

    // Sync, then the server's stock is exactly what was scanned.
    let status = support::sync_ok(&sync);
    assert_eq!(status.counts.pending(), 0);
    let stock = support::server_stock(&server.handle.url(), &notice.merchant_id);
    assert_eq!(support::totals(&stock), expected);
    let exceptions = support::server_exceptions(&server.handle.url());
    assert!(
        exceptions
            .iter()
            .any(|e| e.message.contains(&server.guide.unknown_barcode)),
        "{exceptions:?}"
    );

    // The screen now shows the lines as confirmed by the server.
    ui::apply_status(&window, &status);
    ui::on_sync_progress(&window, &status);
    let states: Vec<String> = ElementHandle::find_by_accessible_label(&window, "State")
        .filter_map(|e| e.accessible_value().map(|v| v.to_string()))
        .collect();
    assert!(states.iter().all(|s| s == "confirmed"), "{states:?}");
    assert_eq!(value(&window, "Pending events"), "0");
}

//! Headless UI test of receiving, through the real Slint components (Slint's testing backend),
//! the real SQLite file and the real server on 127.0.0.1:0: log in by badge and PIN, receive a
//! whole inbound notice with lot and expiry dates by typed scans, scan an unknown barcode, close
//! the receipt, then check the outbox and, after a sync, the server's stock.

mod support;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use i_slint_backend_testing::{ElementHandle, init_no_event_loop};
use laituri::feedback::Speaker;
use laituri::store::Store;
use laituri::terminal::{CoreConfig, Screen, Terminal};
use laituri::ui::{self, AppWindow, Ctx};
use laituri_protocol::Role;
use slint::ComponentHandle;
use slint::platform::{Key, WindowEvent};

fn key(ui: &AppWindow, text: slint::SharedString) {
    ui.window()
        .dispatch_event(WindowEvent::KeyPressed { text: text.clone() });
    ui.window()
        .dispatch_event(WindowEvent::KeyReleased { text });
}

/// Types a scan the way a keyboard-wedge scanner does: Shift held around each capital letter
/// (the scanner is a keyboard), every character, then Enter.
fn scan(ui: &AppWindow, code: &str) {
    let shift: slint::SharedString = Key::Shift.into();
    for ch in code.chars() {
        if ch.is_uppercase() {
            ui.window().dispatch_event(WindowEvent::KeyPressed {
                text: shift.clone(),
            });
        }
        key(ui, ch.to_string().into());
        if ch.is_uppercase() {
            ui.window().dispatch_event(WindowEvent::KeyReleased {
                text: shift.clone(),
            });
        }
    }
    key(ui, Key::Return.into());
}

fn element(ui: &AppWindow, label: &str) -> ElementHandle {
    ElementHandle::find_by_accessible_label(ui, label)
        .next()
        .unwrap_or_else(|| panic!("no element labelled {label:?} on screen"))
}

fn tap(ui: &AppWindow, label: &str) {
    element(ui, label).invoke_accessible_default_action();
}

fn value(ui: &AppWindow, label: &str) -> String {
    element(ui, label)
        .accessible_value()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn receive_a_notice_with_lots_by_scans_and_see_it_on_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::start_demo_server(dir.path());
    let db = dir.path().join("terminal.sqlite3");
    let sync = support::sync_config(db.clone(), &server.handle.url());
    support::sync_ok(&sync); // enrol and pull the demo warehouse

    init_no_event_loop();
    let store = Store::open(&db).unwrap();
    let terminal = Terminal::new(store, CoreConfig::default(), Box::new(support::today));
    let ctx = Rc::new(Ctx {
        terminal: RefCell::new(terminal),
        speaker: Speaker::silent(),
    });
    let window = AppWindow::new().unwrap();
    ui::connect(&window, ctx.clone());
    window.show().unwrap();

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

//! Nothing is cut off: on a 480x800 handheld and a 1280x800 station, every button a step needs
//! (keypads, Cancel, Menu, the override reasons) lies wholly inside the window, from the element
//! geometry of the real components (Slint's testing backend) through receiving and putaway with
//! a demo server on 127.0.0.1:0.

mod support;

use i_slint_backend_testing::ElementHandle;
use laituri::i18n::{Lang, translate};
use laituri::terminal::Screen;
use laituri::ui::AppWindow;
use laituri_protocol::Role;
use slint::ComponentHandle;
use support::ui::{scan, tap, value};

/// Every element labelled `label` (in English, shown in `lang`) that is on screen lies inside
/// the window.
fn inside(window: &AppWindow, lang: Lang, size: (f32, f32), step: &str, labels: &[&'static str]) {
    for label in labels {
        let label = &translate(lang, label);
        let found: Vec<ElementHandle> =
            ElementHandle::find_by_accessible_label(window, label).collect();
        assert!(!found.is_empty(), "{step}: no {label:?} on screen");
        for e in found {
            let (p, s) = (e.absolute_position(), e.size());
            let fits = p.x >= 0.0
                && p.y >= 0.0
                && p.x + s.width <= size.0 + 0.5
                && p.y + s.height <= size.1 + 0.5
                && s.width > 0.0
                && s.height > 0.0;
            assert!(
                fits,
                "{step} at {}x{}: {label:?} at ({}, {}) size {}x{} is not wholly inside",
                size.0, size.1, p.x, p.y, s.width, s.height
            );
        }
    }
}

const KEYPAD: [&str; 12] = [
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "9",
    "0",
    "Enter",
    "Cancel keypad",
];

fn walk_every_step_at(width: f32, height: f32) {
    let dir = tempfile::tempdir().unwrap();
    let server = support::start_demo_server(dir.path());
    let db = dir.path().join("terminal.sqlite3");
    support::sync_ok(&support::sync_config(db.clone(), &server.handle.url()));
    let (ctx, window) = support::ui::open_window(&db);
    window
        .window()
        .set_size(slint::LogicalSize::new(width, height));
    let real = window.window().size();
    assert_eq!((real.width, real.height), (width as u32, height as u32));
    let size = (width, height);
    let screen = || ctx.terminal.borrow().screen().clone();

    // The badge, then the PIN keypad.
    let op = server
        .guide
        .operators
        .iter()
        .find(|o| o.pin.is_some() && o.roles.contains(&Role::Putaway) && o.language == "sv")
        .expect("an operator with a PIN who receives and puts away");
    // Swedish: its texts run longest of the three languages.
    let lang = Lang::from_tag(&op.language);
    let tr = |label: &'static str| translate(lang, label);
    scan(&window, &op.badge);
    inside(&window, lang, size, "PIN", &KEYPAD);
    for d in op.pin.as_deref().unwrap().chars() {
        tap(&window, &d.to_string());
    }
    tap(&window, tr("Enter"));
    assert_eq!(screen(), Screen::Home);
    inside(
        &window,
        lang,
        size,
        "menu",
        &["Receiving", "Putaway", "About", "Log out"],
    );

    // Receiving: the scanning step, its keypad, an error, an over-receipt confirmation, a
    // date prompt.
    let notice = server
        .guide
        .notices
        .iter()
        .find(|n| n.scans.iter().any(|s| s.note.starts_with("over")))
        .unwrap();
    scan(&window, &notice.reference);
    scan(&window, &server.guide.totes[0]);
    let over = notice
        .scans
        .iter()
        .find(|s| s.note.starts_with("over"))
        .unwrap();
    scan(&window, &over.code);
    let scanning = ["Add quantity", "Damaged", "Close receipt", "Menu"];
    inside(&window, lang, size, "receiving", &scanning);
    tap(&window, tr("Add quantity"));
    inside(&window, lang, size, "receiving keypad", &KEYPAD);
    tap(&window, tr("Cancel keypad"));
    scan(&window, &server.guide.unknown_barcode);
    inside(&window, lang, size, "an error", &["Acknowledge"]);
    tap(&window, tr("Acknowledge"));
    for _ in 1..over.times {
        scan(&window, &over.code);
        if ElementHandle::find_by_accessible_label(&window, tr("Confirm"))
            .next()
            .is_some()
        {
            break;
        }
    }
    inside(
        &window,
        lang,
        size,
        "confirmation",
        &["Confirm", "Cancel", "Menu"],
    );
    tap(&window, tr("Confirm"));
    for s in notice.scans.iter().filter(|s| s.code != over.code) {
        for _ in 0..s.times {
            scan(&window, &s.code);
        }
    }
    tap(&window, tr("Close receipt"));
    inside(
        &window,
        lang,
        size,
        "closing",
        &["Confirm", "Cancel", "Menu"],
    );
    tap(&window, tr("Confirm"));
    tap(&window, tr("Done"));

    // Putaway: the bin step, its keypad, the override reasons.
    scan(&window, &server.guide.totes[0]);
    assert_eq!(screen(), Screen::Putaway, "{}", value(&window, "Feedback"));
    if ctx
        .terminal
        .borrow()
        .putaway()
        .unwrap()
        .view()
        .suggested
        .is_none()
    {
        let first = ctx.terminal.borrow().putaway().unwrap().view().left[0]
            .0
            .clone();
        let code = notice
            .scans
            .iter()
            .find(|s| s.product_name == first)
            .unwrap()
            .code
            .clone();
        scan(&window, &code);
    }
    let bin_step = ["Quantity", "Bin full", "Cancel", "Stop tote", "Menu"];
    inside(&window, lang, size, "putaway bin", &bin_step);
    inside(&window, lang, size, "putaway bin", &["Suggested bin"]);
    tap(&window, tr("Quantity"));
    inside(&window, lang, size, "putaway keypad", &KEYPAD);
    tap(&window, tr("Cancel keypad"));
    let suggested = value(&window, "Suggested bin");
    let other = ctx
        .terminal
        .borrow()
        .store()
        .bins_of_zone(&notice.merchant_id, 50)
        .unwrap()
        .into_iter()
        .map(|b| b.code)
        .find(|c| *c != suggested)
        .unwrap();
    scan(&window, &other);
    inside(
        &window,
        lang,
        size,
        "override reasons",
        &[
            "Bin blocked or damaged",
            "Goods do not fit",
            "Closer bin",
            "Shift lead said so",
            "Cancel",
            "Menu",
        ],
    );
}

#[test]
fn every_button_of_every_step_fits_a_480x800_handheld() {
    walk_every_step_at(480.0, 800.0);
}

#[test]
fn every_button_of_every_step_fits_a_1280x800_station() {
    walk_every_step_at(1280.0, 800.0);
}

//! Driving the real Slint window (headless, or in a real X window): keys as a wedge scanner
//! types them, elements by accessible label.
#![allow(dead_code)]

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

use i_slint_backend_testing::{ElementHandle, init_no_event_loop};
use laituri::feedback::Speaker;
use laituri::store::Store;
use laituri::terminal::{CoreConfig, Terminal};
use laituri::ui::{self, AppWindow, Ctx};
use slint::ComponentHandle;
use slint::platform::{Key, WindowEvent};

/// The real window over the store at `db` on Slint's testing backend (set up on first use in
/// this thread), with a silent speaker and the tests' fixed day, connected and shown.
pub fn open_window(db: &Path) -> (Rc<Ctx>, AppWindow) {
    open_window_with(db, CoreConfig::default())
}

/// [`open_window`] with the core's settings of a test's own (a station's printer).
pub fn open_window_with(db: &Path, config: CoreConfig) -> (Rc<Ctx>, AppWindow) {
    thread_local! {
        static TESTING_BACKEND: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if !TESTING_BACKEND.replace(true) {
        init_no_event_loop();
    }
    window_with(db, config)
}

/// The real window over the store at `db` on whichever Slint backend this thread has (the
/// default one, winit, unless a test set up another), connected and shown.
pub fn window_over(db: &Path) -> (Rc<Ctx>, AppWindow) {
    window_with(db, CoreConfig::default())
}

fn window_with(db: &Path, config: CoreConfig) -> (Rc<Ctx>, AppWindow) {
    let terminal = Terminal::new(Store::open(db).unwrap(), config, Box::new(super::today));
    let ctx = Rc::new(Ctx {
        terminal: RefCell::new(terminal),
        speaker: Speaker::silent(),
    });
    let window = AppWindow::new().unwrap();
    ui::connect(&window, ctx.clone());
    window.show().unwrap();
    (ctx, window)
}

/// Whether an element with this label is on screen.
pub fn has(window: &AppWindow, label: &str) -> bool {
    ElementHandle::find_by_accessible_label(window, label)
        .next()
        .is_some()
}

pub fn key(ui: &AppWindow, text: slint::SharedString) {
    ui.window()
        .dispatch_event(WindowEvent::KeyPressed { text: text.clone() });
    ui.window()
        .dispatch_event(WindowEvent::KeyReleased { text });
}

/// Types a scan the way a keyboard-wedge scanner does: Shift held around each capital letter
/// (the scanner is a keyboard), every character, then Enter.
pub fn scan(ui: &AppWindow, code: &str) {
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

pub fn element(ui: &AppWindow, label: &str) -> ElementHandle {
    // A ListView creates its rows from its geometry: asking for the layout first makes the rows
    // a person would see exist in the element tree too.
    if let Some(feedback) = ElementHandle::find_by_accessible_label(ui, "Feedback").next() {
        let _ = feedback.size();
    }
    ElementHandle::find_by_accessible_label(ui, label)
        .next()
        .unwrap_or_else(|| panic!("no element labelled {label:?} on screen"))
}

pub fn tap(ui: &AppWindow, label: &str) {
    element(ui, label).invoke_accessible_default_action();
}

pub fn value(ui: &AppWindow, label: &str) -> String {
    element(ui, label)
        .accessible_value()
        .unwrap_or_default()
        .to_string()
}

/// A label as the demo's Swedish-speaking shift lead sees it.
pub fn sv(label: &'static str) -> &'static str {
    laituri::i18n::translate(laituri::i18n::Lang::Sv, label)
}

/// The screen the terminal core is on.
pub fn screen(ctx: &Ctx) -> laituri::terminal::Screen {
    ctx.terminal.borrow().screen().clone()
}

/// The last seq recorded on the device: nothing recorded means it did not move.
pub fn last_seq(ctx: &Ctx) -> u64 {
    ctx.terminal.borrow().store().counts().unwrap().last_seq
}

/// Logs in the demo's Swedish-speaking shift lead who has `role` (badge, then the PIN on the
/// keypad) and checks the menu opened.
pub fn log_in_lead(
    ctx: &Ctx,
    window: &AppWindow,
    guide: &laituri_server::demo::DemoGuide,
    role: laituri_protocol::Role,
) {
    let lead = guide
        .operators
        .iter()
        .find(|o| o.roles.contains(&role) && o.language == "sv")
        .expect("the demo has a Swedish-speaking lead with the role");
    scan(window, &lead.badge);
    if let Some(pin) = &lead.pin {
        for digit in pin.chars() {
            tap(window, &digit.to_string());
        }
        tap(window, sv("Enter"));
    }
    assert_eq!(
        screen(ctx),
        laituri::terminal::Screen::Home,
        "{}",
        value(window, "Feedback")
    );
}

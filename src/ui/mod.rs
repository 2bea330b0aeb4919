//! The UI adapter layer: the only code that touches generated Slint types.
//!
//! One module per view, each with `connect` (sets the view's callbacks) and `refresh` (maps the
//! core's state to the view's adapter global). Controllers never see Slint; `.slint` files hold
//! no business rules. Closures capture weak window handles only. Every list pushed here is
//! bounded (a notice's lines, the recent scans, a LIMIT), so a refresh never grows with the data.

mod about;
mod approvals;
mod counting;
mod exceptions;
mod header;
mod held_tasks;
mod home;
mod login;
pub mod packing;
mod packing_start;
mod picking;
mod picking_start;
mod putaway;
mod putaway_start;
mod receiving;
mod receiving_start;
mod returns;
mod scanner_check;
mod stock;

use std::cell::RefCell;
use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use crate::feedback::{Sound, Speaker};
use crate::terminal::messages::Text;
use crate::terminal::{Reply, Screen as CoreScreen, Terminal, Tone as CoreTone};

slint::include_modules!();

pub use header::{apply_status, format_age};

/// What every adapter shares: the core and the speaker, on the UI thread.
pub struct Ctx {
    pub terminal: RefCell<Terminal>,
    pub speaker: Speaker,
}

pub type Shared = Rc<Ctx>;

/// Wires every view's callbacks and shows the current screen.
pub fn connect(ui: &AppWindow, ctx: Shared) {
    CURRENT.with(|c| *c.borrow_mut() = Some(ctx.clone()));
    let app = ui.global::<AppAdapter>();
    {
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        app.on_scan_submitted(move |raw| {
            if let Some(ui) = weak.upgrade() {
                on_scan(&ui, &ctx, raw.as_str());
            }
        });
    }
    {
        let weak = ui.as_weak();
        app.on_acknowledge(move || {
            if let Some(ui) = weak.upgrade() {
                let app = ui.global::<AppAdapter>();
                app.set_needs_ack(false);
                app.set_tone(Tone::None);
            }
        });
    }
    header::connect(ui, ctx.clone());
    login::connect(ui, ctx.clone());
    home::connect(ui, ctx.clone());
    receiving_start::connect(ui, ctx.clone());
    receiving::connect(ui, ctx.clone());
    putaway::connect(ui, ctx.clone());
    putaway_start::connect(ui, ctx.clone());
    picking_start::connect(ui, ctx.clone());
    picking::connect(ui, ctx.clone());
    packing_start::connect(ui, ctx.clone());
    packing::connect(ui, ctx.clone());
    scanner_check::connect(ui, ctx.clone());
    exceptions::connect(ui, ctx.clone());
    stock::connect(ui, ctx.clone());
    held_tasks::connect(ui, ctx.clone());
    about::connect(ui, ctx.clone());
    counting::connect(ui, ctx.clone());
    approvals::connect(ui, ctx.clone());
    returns::connect(ui, ctx.clone());
    refresh(ui, &ctx);
}

thread_local! {
    /// The context of the window on this (the UI) thread, for reports from the sync worker,
    /// which can only carry `Send` values into the event loop.
    static CURRENT: RefCell<Option<Shared>> = const { RefCell::new(None) };
}

/// Runs `f` with the context of the window on this thread, if there is one.
fn with_current(f: impl FnOnce(&Ctx)) {
    CURRENT.with(|c| {
        if let Some(ctx) = c.borrow().as_ref() {
            f(ctx);
        }
    });
}

/// The sync worker finished a round: line states, lists and counts may have changed.
pub fn on_sync_progress(ui: &AppWindow, status: &crate::sync::SyncStatus) {
    CURRENT.with(|c| {
        if let Some(ctx) = c.borrow().as_ref() {
            if status.labels_changed {
                // Labels that arrived print themselves.
                ctx.terminal.borrow().poke_printer();
            }
            // A task the operator asked for was answered: start it, or say why not.
            let answered = ctx.terminal.borrow_mut().lease_answered();
            let answered = answered.or_else(|| ctx.terminal.borrow_mut().lease_lost());
            if answered.is_some() {
                answer(ui, ctx, answered);
                return;
            }
            let screen = ctx.terminal.borrow().screen().clone();
            let affected = match screen {
                CoreScreen::Receiving
                | CoreScreen::Putaway
                | CoreScreen::Picking
                | CoreScreen::Packing
                | CoreScreen::Counting
                | CoreScreen::Approvals
                | CoreScreen::PackingStart
                | CoreScreen::Exceptions
                | CoreScreen::Stock
                | CoreScreen::Move
                | CoreScreen::HeldTasks
                | CoreScreen::Login => true,
                CoreScreen::ReceivingStart
                | CoreScreen::PutawayStart
                | CoreScreen::PickingStart
                | CoreScreen::Home => status.master_data_changed,
                _ => false,
            };
            if affected {
                refresh(ui, ctx);
            }
        }
    });
}

/// One scan from the wedge, as the scan field delivered it.
pub fn on_scan(ui: &AppWindow, ctx: &Ctx, raw: &str) {
    let app = ui.global::<AppAdapter>();
    if app.get_needs_ack() {
        // The scan is refused loudly and visibly, never taken silently: a muted terminal or a
        // loud dock still shows that the error waits for its acknowledgement.
        ctx.speaker.play(Sound::Error);
        let lang = ctx.terminal.borrow().lang();
        let first = Text::AcknowledgeFirst.render(lang);
        let shown = app.get_feedback().to_string();
        if !shown.ends_with(&first) {
            app.set_feedback(format!("{shown}\n{first}").into());
        }
        return;
    }
    if *ctx.terminal.borrow().screen() == CoreScreen::ScannerCheck {
        // The check screen shows what arrived, before any cleaning.
        scanner_check::show(ui, ctx, raw);
        return;
    }
    let cleaned = strip_key_codes(raw);
    let is_pin = {
        let t = ctx.terminal.borrow();
        *t.screen() == CoreScreen::Pin && !t.is_badge(&cleaned)
    };
    if is_pin {
        // Typed on the hardware keys: a PIN, checked off this thread.
        login::check_pin(ui, ctx, cleaned.trim());
        return;
    }
    let reply = ctx.terminal.borrow_mut().scan(&cleaned);
    answer(ui, ctx, reply);
}

/// Removes the characters the windowing layer uses for keys that type nothing (modifiers,
/// arrows, function keys), should any reach the scan field. GS (ASCII 29) stays: it is FNC1.
pub fn strip_key_codes(raw: &str) -> String {
    raw.chars()
        .filter(|c| !matches!(*c as u32, 0x10..=0x18 | 0xF700..=0xF8FF))
        .collect()
}

/// The printer thread recorded a print (or its failure): the lists show it.
pub fn on_printed(ui: &AppWindow) {
    with_current(|ctx| {
        let screen = ctx.terminal.borrow().screen().clone();
        if matches!(screen, CoreScreen::PackingStart | CoreScreen::Packing) {
            refresh(ui, ctx);
        }
    });
}

/// Plays and shows a reply, then refreshes the screen it left the terminal on.
pub fn answer(ui: &AppWindow, ctx: &Ctx, reply: Option<Reply>) {
    if let Some(reply) = reply {
        let app = ui.global::<AppAdapter>();
        let (sound, tone) = match reply.tone {
            CoreTone::Ok => (Sound::Ok, Tone::Ok),
            CoreTone::Warning => (Sound::Warning, Tone::Warning),
            CoreTone::Error => (Sound::Error, Tone::Error),
            CoreTone::Done => (Sound::Done, Tone::Done),
        };
        ctx.speaker.play(sound);
        let lang = ctx.terminal.borrow().lang();
        app.set_feedback(reply.text.render(lang).into());
        app.set_tone(tone);
        app.set_needs_ack(reply.needs_ack());
    }
    refresh(ui, ctx);
}

/// Shows a reply-less screen change: clears the feedback line.
pub fn clear_feedback(ui: &AppWindow) {
    let app = ui.global::<AppAdapter>();
    app.set_feedback(SharedString::new());
    app.set_tone(Tone::None);
    app.set_needs_ack(false);
}

/// Pushes the current screen and its data.
pub fn refresh(ui: &AppWindow, ctx: &Ctx) {
    let t = ctx.terminal.borrow();
    let screen = match t.screen() {
        CoreScreen::Login | CoreScreen::Pin => Screen::Login,
        CoreScreen::Home => Screen::Home,
        CoreScreen::ReceivingStart => Screen::ReceivingStart,
        CoreScreen::Receiving => Screen::Receiving,
        CoreScreen::PutawayStart => Screen::PutawayStart,
        CoreScreen::Putaway => Screen::Putaway,
        CoreScreen::PickingStart => Screen::PickingStart,
        CoreScreen::Picking => Screen::Picking,
        CoreScreen::PackingStart => Screen::PackingStart,
        CoreScreen::Packing => Screen::Packing,
        CoreScreen::ScannerCheck => Screen::ScannerCheck,
        CoreScreen::Exceptions => Screen::Exceptions,
        CoreScreen::About => Screen::About,
        CoreScreen::Stock => Screen::Stock,
        CoreScreen::Move => Screen::Move,
        CoreScreen::HeldTasks => Screen::HeldTasks,
        CoreScreen::Counting => Screen::Counting,
        CoreScreen::Approvals => Screen::Approvals,
        CoreScreen::Returns => Screen::Returns,
    };
    ui.global::<AppAdapter>().set_screen(screen);
    ui.global::<AppAdapter>()
        .set_secret(*t.screen() == CoreScreen::Pin);
    // The screens speak the operator's language (English before anyone logs in).
    if let Err(e) = slint::select_bundled_translation(t.lang().tag()) {
        tracing::debug!("no translation for {}: {e}", t.lang().tag());
    }
    header::refresh_operator(ui, &t);
    header::refresh_counts(ui, &t);
    match t.screen() {
        CoreScreen::Login | CoreScreen::Pin => login::refresh(ui, &t),
        CoreScreen::Home => home::refresh(ui, &t),
        CoreScreen::ReceivingStart => receiving_start::refresh(ui, &t),
        CoreScreen::Receiving => receiving::refresh(ui, &t),
        CoreScreen::PutawayStart => putaway_start::refresh(ui, &t),
        CoreScreen::Putaway => putaway::refresh(ui, &t),
        CoreScreen::PickingStart => picking_start::refresh(ui, &t),
        CoreScreen::Picking => picking::refresh(ui, &t),
        CoreScreen::PackingStart => packing_start::refresh(ui, &t),
        CoreScreen::Packing => packing::refresh(ui, &t),
        CoreScreen::Exceptions => exceptions::refresh(ui, &t),
        CoreScreen::About => about::refresh(ui, &t),
        CoreScreen::Stock => stock::refresh_lookup(ui, &t),
        CoreScreen::Move => stock::refresh_move(ui, &t),
        CoreScreen::HeldTasks => held_tasks::refresh(ui, &t),
        CoreScreen::ScannerCheck => {}
        CoreScreen::Counting => counting::refresh(ui, &t),
        CoreScreen::Approvals => approvals::refresh(ui, &t),
        CoreScreen::Returns => returns::refresh(ui, &t),
    }
}

/// The mark of a line on screen, from where its event stands.
pub(crate) fn mark(state: crate::store::LineState) -> LineMark {
    use crate::store::LineState;
    match state {
        LineState::Saved => LineMark::Saved,
        LineState::Confirmed => LineMark::Confirmed,
        LineState::Rejected => LineMark::Rejected,
    }
}

/// A Slint model from a vector.
pub(crate) fn model<T: Clone + 'static>(items: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(items))
}

/// Opens a screen from a button, showing the refusal if the operator may not.
pub(crate) fn open(ui: &AppWindow, ctx: &Ctx, screen: CoreScreen) {
    let result = ctx.terminal.borrow_mut().open(screen);
    match result {
        Ok(()) => {
            clear_feedback(ui);
            refresh(ui, ctx);
        }
        Err(reply) => answer(ui, ctx, Some(reply)),
    }
}

/// Back to the menu.
pub(crate) fn home(ui: &AppWindow, ctx: &Ctx) {
    ctx.terminal.borrow_mut().home();
    clear_feedback(ui);
    refresh(ui, ctx);
}

/// Connects a view's `back` callback to [`home`].
pub(crate) fn on_back<F: Fn(Box<dyn Fn()>)>(ui: &AppWindow, ctx: Shared, set: F) {
    let weak = ui.as_weak();
    set(Box::new(move || {
        if let Some(ui) = weak.upgrade() {
            home(&ui, &ctx);
        }
    }));
}

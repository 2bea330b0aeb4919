//! Adapter of the badge and PIN screen.

use slint::ComponentHandle;

use super::{AppWindow, Ctx, LoginAdapter, Shared};
use crate::terminal::{Screen, Terminal};

pub fn connect(ui: &AppWindow, ctx: Shared) {
    let login = ui.global::<LoginAdapter>();
    {
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        login.on_pin_entered(move |pin| {
            if let Some(ui) = weak.upgrade() {
                check_pin(&ui, &ctx, pin.as_str());
            }
        });
    }
    let weak = ui.as_weak();
    login.on_pin_cancelled(move || {
        if let Some(ui) = weak.upgrade() {
            ctx.terminal.borrow_mut().log_out();
            super::clear_feedback(&ui);
            super::refresh(&ui, &ctx);
        }
    });
}

/// Checks a PIN off the UI thread: the hash is slow on purpose, and scans and the screen must not
/// wait for it. The answer comes back through the event loop; where there is none (the headless
/// test backend), the check runs here.
pub fn check_pin(ui: &AppWindow, ctx: &Ctx, pin: &str) {
    let check = match ctx.terminal.borrow_mut().pin_to_check(pin) {
        Ok(check) => check,
        Err(reply) => return super::answer(ui, ctx, Some(reply)),
    };
    if slint::invoke_from_event_loop(|| {}).is_err() {
        let matches = check.matches();
        let reply = ctx.terminal.borrow_mut().pin_checked(check, matches);
        return super::answer(ui, ctx, Some(reply));
    }
    let weak = ui.as_weak();
    std::thread::spawn(move || {
        let matches = check.matches();
        let _ = weak.upgrade_in_event_loop(move |ui| {
            super::with_current(|ctx| {
                let reply = ctx.terminal.borrow_mut().pin_checked(check, matches);
                super::answer(&ui, ctx, Some(reply));
            });
        });
    });
}

pub fn refresh(ui: &AppWindow, t: &Terminal) {
    let login = ui.global::<LoginAdapter>();
    login.set_pin_mode(*t.screen() == Screen::Pin);
    login.set_pin_for(t.pin_operator_name().unwrap_or_default().into());
    let device = t.store().device().ok();
    let enrolled = device
        .as_ref()
        .is_some_and(|d| d.token.is_some() || d.warehouse_name.is_some());
    login.set_enrolled(enrolled);
    let name = device.and_then(|d| d.warehouse_name).unwrap_or_default();
    login.set_device(name.into());
}

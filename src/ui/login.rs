//! Adapter of the badge and PIN screen.

use slint::ComponentHandle;

use super::{AppWindow, LoginAdapter, Shared};
use crate::terminal::{Screen, Terminal};

pub fn connect(ui: &AppWindow, ctx: Shared) {
    let login = ui.global::<LoginAdapter>();
    {
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        login.on_pin_entered(move |pin| {
            if let Some(ui) = weak.upgrade() {
                let reply = ctx.terminal.borrow_mut().enter_pin(pin.as_str());
                super::answer(&ui, &ctx, Some(reply));
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

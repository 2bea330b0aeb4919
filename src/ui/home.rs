//! Adapter of the home menu: the tasks the operator's roles allow.

use laituri_protocol::Role;
use slint::ComponentHandle;

use super::{AppWindow, HomeAdapter, MenuItem, Shared};
use crate::terminal::messages::Label;
use crate::terminal::{Screen, Terminal};

/// Menu entries: id, label, and the role that unlocks it (None = everyone).
const MENU: [(&str, Label, Option<Role>); 5] = [
    ("receiving", Label::Receiving, Some(Role::Receiving)),
    ("putaway", Label::Putaway, Some(Role::Putaway)),
    ("exceptions", Label::Exceptions, None),
    ("scanner-check", Label::ScannerCheck, None),
    ("about", Label::About, None),
];

pub fn connect(ui: &AppWindow, ctx: Shared) {
    let home = ui.global::<HomeAdapter>();
    {
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        home.on_open(move |id| {
            let Some(ui) = weak.upgrade() else { return };
            let screen = match id.as_str() {
                "receiving" => Screen::ReceivingStart,
                "putaway" => Screen::Putaway,
                "exceptions" => Screen::Exceptions,
                "scanner-check" => Screen::ScannerCheck,
                _ => Screen::About,
            };
            super::open(&ui, &ctx, screen);
        });
    }
    let weak = ui.as_weak();
    home.on_log_out(move || {
        if let Some(ui) = weak.upgrade() {
            ctx.terminal.borrow_mut().log_out();
            super::clear_feedback(&ui);
            super::refresh(&ui, &ctx);
        }
    });
}

pub fn refresh(ui: &AppWindow, t: &Terminal) {
    let lang = t.lang();
    let items: Vec<MenuItem> = MENU
        .iter()
        .filter(|(_, _, role)| role.is_none_or(|r| t.can(r)))
        .map(|(id, label, _)| MenuItem {
            id: (*id).into(),
            label: label.render(lang).into(),
        })
        .collect();
    ui.global::<HomeAdapter>().set_items(super::model(items));
}

//! Adapter of the home menu: the tasks the operator's roles allow.

use slint::ComponentHandle;

use super::{AppWindow, HomeAdapter, MenuItem, MenuRow, Shared};
use crate::terminal::{Screen, Terminal, flows};

pub fn connect(ui: &AppWindow, ctx: Shared) {
    let home = ui.global::<HomeAdapter>();
    {
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        home.on_open(move |id| {
            let Some(ui) = weak.upgrade() else { return };
            let screen = flows::by_id(id.as_str()).map_or(Screen::About, |e| e.opens.clone());
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
    let items: Vec<MenuItem> = flows::MENU
        .iter()
        .filter(|e| e.role.is_none_or(|r| t.can(r)))
        .map(|e| MenuItem {
            id: e.id.into(),
            label: e.label.render(lang).into(),
        })
        .collect();
    let rows: Vec<MenuRow> = items
        .chunks(2)
        .map(|pair| MenuRow {
            left: pair[0].clone(),
            right: pair.get(1).cloned().unwrap_or(MenuItem {
                id: "".into(),
                label: "".into(),
            }),
        })
        .collect();
    ui.global::<HomeAdapter>().set_rows(super::model(rows));
}

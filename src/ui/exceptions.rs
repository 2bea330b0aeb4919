//! Adapter of the exceptions screen: rejected events and unknown barcodes to deal with.

use slint::ComponentHandle;

use super::{AppWindow, ExceptionItem, ExceptionsAdapter, Shared};
use crate::terminal::Terminal;

const LIMIT: u32 = 100;

pub fn connect(ui: &AppWindow, ctx: Shared) {
    let ex = ui.global::<ExceptionsAdapter>();
    {
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        ex.on_resolve(move |id| {
            if let Some(ui) = weak.upgrade() {
                let reply = ctx.terminal.borrow_mut().resolve_exception(i64::from(id));
                super::answer(&ui, &ctx, Some(reply));
            }
        });
    }
    super::on_back(ui, ctx, |f| ex.on_back(f));
}

pub fn refresh(ui: &AppWindow, t: &Terminal) {
    let items: Vec<ExceptionItem> = t
        .store()
        .open_exceptions(LIMIT)
        .unwrap_or_default()
        .into_iter()
        .map(|e| ExceptionItem {
            id: e.id as i32,
            message: e.message.into(),
        })
        .collect();
    let ex = ui.global::<ExceptionsAdapter>();
    ex.set_items(super::model(items));
    ex.set_can_resolve(t.can(laituri_protocol::Role::Lead));
}

//! Adapter of the exceptions screen: rejected events and unknown barcodes to deal with.

use slint::ComponentHandle;

use super::{AppWindow, ExceptionItem, ExceptionsAdapter, Shared};
use crate::terminal::Terminal;

const LIMIT: u32 = 100;

pub fn connect(ui: &AppWindow, ctx: Shared) {
    let ex = ui.global::<ExceptionsAdapter>();
    {
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        ex.on_acknowledge(move |id| {
            if let Some(ui) = weak.upgrade() {
                if let Err(e) = ctx
                    .terminal
                    .borrow_mut()
                    .store_mut()
                    .acknowledge_exception(i64::from(id))
                {
                    super::answer(&ui, &ctx, Some(e.into()));
                    return;
                }
                super::refresh(&ui, &ctx);
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
    ui.global::<ExceptionsAdapter>()
        .set_items(super::model(items));
}

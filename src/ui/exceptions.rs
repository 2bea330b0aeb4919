//! Adapter of the exceptions screen: rejected events and unknown barcodes to deal with.

use slint::ComponentHandle;

use super::{AppWindow, ExceptionItem, ExceptionsAdapter, Shared};
use crate::i18n::Lang;
use crate::store::ExceptionRow;
use crate::terminal::Terminal;
use crate::tr;

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

/// An exception as the shift lead reads it: what happened in their language; the server's own
/// words (its reason) as it gave them.
fn describe(lang: Lang, e: &ExceptionRow) -> String {
    let seq = e.seq.unwrap_or(0);
    let reason = &e.message;
    match e.kind.as_str() {
        "unknown_barcode" => tr!(
            lang,
            "Unknown barcode {raw}: the item was set aside for the shift lead.",
            raw = reason
        ),
        "task_taken" => tr!(
            lang,
            "Event {seq}: the goods moved, but the task was no longer this device's ({reason}). Check the task.",
            seq,
            reason
        ),
        code => tr!(
            lang,
            "Event {seq} refused by the server ({code}): {reason}",
            seq,
            code,
            reason
        ),
    }
}

pub fn refresh(ui: &AppWindow, t: &Terminal) {
    let items: Vec<ExceptionItem> = t
        .store()
        .open_exceptions(LIMIT)
        .unwrap_or_default()
        .into_iter()
        .map(|e| ExceptionItem {
            id: e.id as i32,
            message: describe(t.lang(), &e).into(),
        })
        .collect();
    let ex = ui.global::<ExceptionsAdapter>();
    ex.set_items(super::model(items));
    ex.set_can_resolve(t.can(laituri_protocol::Role::Lead));
}

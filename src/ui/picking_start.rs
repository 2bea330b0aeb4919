//! Adapter of the picking start screen: the open pick tasks this device knows (most urgent
//! first), "take the next", and the task asked for while the server has not answered.

use laituri_protocol::TaskKind;
use slint::ComponentHandle;

use super::{AppWindow, PickTaskItem, PickingStartAdapter, Shared};
use crate::terminal::{Terminal, messages, picking};
use crate::trn;

/// How many open tasks the list shows; a batch label reaches any other.
const TASK_LIMIT: u32 = 50;

pub fn connect(ui: &AppWindow, ctx: Shared) {
    let start = ui.global::<PickingStartAdapter>();
    {
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        start.on_take(move |id| {
            if let Some(ui) = weak.upgrade() {
                let reply = ctx.terminal.borrow_mut().take_task(id.as_str());
                super::answer(&ui, &ctx, Some(reply));
            }
        });
    }
    {
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        start.on_take_next(move || {
            if let Some(ui) = weak.upgrade() {
                let reply = ctx.terminal.borrow_mut().take_next_pick();
                super::answer(&ui, &ctx, Some(reply));
            }
        });
    }
    super::on_back(ui, ctx, |f| start.on_back(f));
}

pub fn refresh(ui: &AppWindow, t: &Terminal) {
    let store = t.store();
    let lang = t.lang();
    let tasks: Vec<PickTaskItem> = store
        .open_tasks(TaskKind::Pick, TASK_LIMIT)
        .unwrap_or_default()
        .into_iter()
        .map(|task| {
            let merchant = store
                .merchant_label(&task.merchant_id)
                .unwrap_or_else(|_| task.merchant_id.clone());
            let orders = trn!(lang, "{n} order", "{n} orders", task.orders.len());
            let lines = messages::lines(lang, task.lines.len());
            PickTaskItem {
                id: task.task_id.clone().into(),
                label: picking::batch_name(&task).into(),
                detail: format!("{merchant} · {orders} · {lines}").into(),
            }
        })
        .collect();
    let s = ui.global::<PickingStartAdapter>();
    s.set_tasks(super::model(tasks));
    s.set_waiting(t.task_wanted().unwrap_or_default().into());
}

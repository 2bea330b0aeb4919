//! Adapter of the putaway start screen: the open putaway tasks to take, and the one asked for.

use laituri_protocol::TaskKind;
use slint::ComponentHandle;

use super::{AppWindow, PutawayStartAdapter, Shared, TaskItem};
use crate::terminal::Terminal;
use crate::trn;

/// How many open tasks the list shows; a tote is reached by scanning it.
const TASK_LIMIT: u32 = 50;

pub fn connect(ui: &AppWindow, ctx: Shared) {
    let start = ui.global::<PutawayStartAdapter>();
    {
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        start.on_take(move |id| {
            if let Some(ui) = weak.upgrade() {
                let reply = ctx.terminal.borrow_mut().take_task(id.as_str());
                super::answer(&ui, &ctx, Some(reply));
            }
        });
    }
    super::on_back(ui, ctx, |f| start.on_back(f));
}

pub fn refresh(ui: &AppWindow, t: &Terminal) {
    let store = t.store();
    let tasks: Vec<TaskItem> = store
        .open_tasks(TaskKind::Putaway, TASK_LIMIT)
        .unwrap_or_default()
        .into_iter()
        .map(|task| {
            let merchant = store
                .merchant_label(&task.merchant_id)
                .unwrap_or_else(|_| task.merchant_id.clone());
            let units: i64 = task.lines.iter().map(|l| l.goods.quantity).sum();
            TaskItem {
                id: task.task_id.clone().into(),
                label: task.container.clone().unwrap_or(task.task_id).into(),
                detail: trn!(
                    t.lang(),
                    "{merchant} · {n} unit",
                    "{merchant} · {n} units",
                    units,
                    merchant
                )
                .into(),
            }
        })
        .collect();
    let s = ui.global::<PutawayStartAdapter>();
    s.set_tasks(super::model(tasks));
    s.set_waiting(t.task_wanted().unwrap_or_default().into());
}

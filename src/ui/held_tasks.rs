//! Adapter of the shift lead's list of tasks devices hold: each with what it is about and the
//! device holding it, and those given back from this terminal and not yet applied.

use laituri_protocol::{EventBody, TaskKind};
use slint::ComponentHandle;

use super::{AppWindow, HeldTaskItem, HeldTasksAdapter, Shared};
use crate::store::LineState;
use crate::terminal::Terminal;
use crate::terminal::messages::Label;

const LIMIT: u32 = 100;

pub fn connect(ui: &AppWindow, ctx: Shared) {
    let h = ui.global::<HeldTasksAdapter>();
    {
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        h.on_release(move |id| {
            if let Some(ui) = weak.upgrade() {
                let reply = ctx.terminal.borrow_mut().release_held_task(id.as_str());
                super::answer(&ui, &ctx, Some(reply));
            }
        });
    }
    super::on_back(ui, ctx, |f| h.on_back(f));
}

pub fn refresh(ui: &AppWindow, t: &Terminal) {
    let store = t.store();
    let lang = t.lang();
    let own = store.device().map(|d| d.device_id).ok();
    // Given back from here and not yet seen applied by the server.
    let released: Vec<String> = store
        .recent_events("lease_revoked", 50)
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, state)| *state != LineState::Rejected)
        .filter_map(|(body, _)| match body {
            EventBody::LeaseRevoked { task_id, .. } => Some(task_id),
            _ => None,
        })
        .collect();
    let items: Vec<HeldTaskItem> = store
        .leased_tasks(LIMIT)
        .unwrap_or_default()
        .into_iter()
        .filter(|task| task.leased_to.is_some() && task.leased_to != own)
        .map(|task| {
            let kind = match task.kind {
                TaskKind::Putaway => Label::Putaway.render(lang),
                TaskKind::Pick => Label::Picking.render(lang),
                TaskKind::Count => Label::Counting.render(lang),
            };
            let merchant = store
                .merchant_label(&task.merchant_id)
                .unwrap_or_else(|_| task.merchant_id.clone());
            let device = task
                .leased_to
                .map(|d| d.simple().to_string())
                .map(|d| format!("…{}", &d[d.len() - 6..]))
                .unwrap_or_default();
            let label = task
                .container
                .clone()
                .or_else(|| {
                    (!task.orders.is_empty()).then(|| {
                        task.orders
                            .iter()
                            .map(|o| o.reference.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                })
                .unwrap_or_else(|| task.task_id.clone());
            HeldTaskItem {
                released: released.contains(&task.task_id),
                id: task.task_id.into(),
                label: label.into(),
                detail: format!("{kind} · {merchant} · {device}").into(),
            }
        })
        .collect();
    ui.global::<HeldTasksAdapter>()
        .set_items(super::model(items));
}

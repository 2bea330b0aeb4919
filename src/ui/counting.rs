//! Adapter of the counting screen: the bin being counted in large type, what was counted so far
//! (never what the bin should hold), and the keypad quantity.

use laituri_domain::counting::Expect;
use laituri_protocol::TaskKind;
use slint::ComponentHandle;

use super::{AppWindow, CountItem, CountingAdapter, Shared, TaskItem};
use crate::terminal::Terminal;
use crate::terminal::counting::Action;
use crate::terminal::messages::Text;

fn act(ui: &AppWindow, ctx: &super::Ctx, action: Action) {
    let reply = ctx.terminal.borrow_mut().counting_action(action);
    super::answer(ui, ctx, Some(reply));
}

pub fn connect(ui: &AppWindow, ctx: Shared) {
    let c = ui.global::<CountingAdapter>();
    {
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        c.on_quantity_typed(move |v| {
            if let Some(ui) = weak.upgrade() {
                // Not a number: a quantity the count refuses, with what to do.
                let n = v.trim().parse().unwrap_or(-1);
                act(&ui, &ctx, Action::Quantity(n));
            }
        });
    }
    {
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        c.on_take(move |id| {
            if let Some(ui) = weak.upgrade() {
                let reply = ctx.terminal.borrow_mut().take_task(id.as_str());
                super::answer(&ui, &ctx, Some(reply));
            }
        });
    }
    macro_rules! on {
        ($setter:ident, $action:expr) => {{
            let (weak, ctx) = (ui.as_weak(), ctx.clone());
            c.$setter(move || {
                if let Some(ui) = weak.upgrade() {
                    act(&ui, &ctx, $action);
                }
            });
        }};
    }
    on!(on_empty, Action::Empty);
    on!(on_finish, Action::Finish);
    on!(on_cancel, Action::Cancel);
    super::on_back(ui, ctx, |f| c.on_back(f));
}

/// How many open count tasks the list shows; any bin is counted by scanning it.
const TASK_LIMIT: u32 = 50;

/// The open count tasks: the bin, and the merchant (no quantities: counts are blind).
fn tasks(t: &Terminal) -> Vec<TaskItem> {
    let store = t.store();
    store
        .open_tasks(TaskKind::Count, TASK_LIMIT)
        .unwrap_or_default()
        .into_iter()
        .map(|task| {
            let location = task
                .lines
                .iter()
                .find_map(|l| l.goods.from.as_ref().map(|p| p.location.clone()))
                .unwrap_or_else(|| task.task_id.clone());
            let merchant = store
                .merchant_label(&task.merchant_id)
                .unwrap_or_else(|_| task.merchant_id.clone());
            TaskItem {
                id: task.task_id.into(),
                label: location.into(),
                detail: merchant.into(),
            }
        })
        .collect()
}

pub fn refresh(ui: &AppWindow, t: &Terminal) {
    let c = ui.global::<CountingAdapter>();
    let lang = t.lang();
    let no_count = t
        .counting()
        .is_none_or(|c| c.is_finished() && c.view().expects != Expect::Nothing);
    c.set_tasks(super::model(if no_count { tasks(t) } else { Vec::new() }));
    let Some(ctrl) = t.counting() else {
        c.set_location("".into());
        c.set_step("location".into());
        c.set_prompt(Text::ScanLocationToCount.render(lang).into());
        c.set_lines(super::model(Vec::new()));
        return;
    };
    let view = ctrl.view();
    c.set_location(view.location.clone().unwrap_or_default().into());
    c.set_prompt(Text::Counting(view.prompt.clone()).render(lang).into());
    c.set_step(
        match view.expects {
            Expect::Location => "location",
            Expect::Items => "items",
            Expect::Nothing => "done",
        }
        .into(),
    );
    c.set_lines(super::model(
        view.lines
            .iter()
            .map(|(name, lot, counted)| CountItem {
                name: name.clone().into(),
                lot: lot.clone().unwrap_or_default().into(),
                counted: *counted as i32,
            })
            .collect(),
    ));
}

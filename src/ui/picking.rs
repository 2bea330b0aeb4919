//! Adapter of the picking screen: the location, the item and how many, the order's slot and
//! tote, lines done and left, the recent lines with their marks, a lost lease, and the buttons
//! of the step (keypad quantity, found less, skip, the zero check, cancel, stop).

use laituri_domain::picking::Expect;
use slint::ComponentHandle;

use super::{AppWindow, FlowLine, PickingAdapter, Shared};
use crate::terminal::Terminal;
use crate::terminal::messages::Text;
use crate::terminal::picking::Action;

fn act(ui: &AppWindow, ctx: &super::Ctx, action: Action) {
    let reply = ctx.terminal.borrow_mut().picking_action(action);
    super::answer(ui, ctx, Some(reply));
}

pub fn connect(ui: &AppWindow, ctx: Shared) {
    let p = ui.global::<PickingAdapter>();
    macro_rules! on {
        ($setter:ident, |$arg:ident| $action:expr) => {{
            let (weak, ctx) = (ui.as_weak(), ctx.clone());
            p.$setter(move |$arg| {
                if let Some(ui) = weak.upgrade() {
                    act(&ui, &ctx, $action);
                }
            });
        }};
        ($setter:ident, $action:expr) => {{
            let (weak, ctx) = (ui.as_weak(), ctx.clone());
            p.$setter(move || {
                if let Some(ui) = weak.upgrade() {
                    act(&ui, &ctx, $action);
                }
            });
        }};
    }
    // Nothing typed, or more digits than a quantity has, is no quantity: the flow says so.
    on!(on_quantity_typed, |v| Action::Quantity(
        v.trim().parse().unwrap_or(0)
    ));
    on!(on_short, Action::Short);
    on!(on_skip, Action::Skip);
    on!(on_zero_check, |empty| Action::ZeroCheck(empty));
    on!(on_cancel, Action::Cancel);
    on!(on_stop, Action::Stop);
    super::on_back(ui, ctx, |f| p.on_back(f));
}

pub fn refresh(ui: &AppWindow, t: &Terminal) {
    let Some(ctrl) = t.picking() else { return };
    let lang = t.lang();
    let view = ctrl.view();
    let p = ui.global::<PickingAdapter>();
    p.set_batch(view.batch.clone().into());
    p.set_step(
        match view.expects {
            Expect::Location => "location",
            Expect::Item => "item",
            Expect::Tote => "tote",
            Expect::ZeroCheck => "zero-check",
            Expect::Drop => "drop",
            Expect::Nothing => "done",
        }
        .into(),
    );
    p.set_location(view.location.clone().unwrap_or_default().into());
    p.set_item(view.item.clone().unwrap_or_default().into());
    p.set_lot(view.lot.clone().unwrap_or_default().into());
    p.set_quantity(clamp(view.quantity));
    p.set_in_hand(clamp(view.in_hand));
    p.set_has_order(view.order.is_some());
    p.set_cluster(view.cluster);
    p.set_slot(view.order.as_ref().map_or(0, |o| clamp(i64::from(o.slot))));
    p.set_tote(
        view.order
            .as_ref()
            .and_then(|o| o.tote.clone())
            .unwrap_or_default()
            .into(),
    );
    p.set_lines_done(clamp(view.lines_done as i64));
    p.set_lines_left(clamp(view.lines_left as i64));
    p.set_prompt(Text::Picking(view.prompt.clone()).render(lang).into());
    let lost = ctrl
        .lease_lost(t.store())
        .filter(|_| !view.finished)
        .map(|why| {
            Text::PickLeaseLost {
                task: view.batch.clone(),
                why,
            }
            .render(lang)
        })
        .unwrap_or_default();
    p.set_lost(lost.into());
    p.set_recent(super::model(
        ctrl.recent(t.store())
            .into_iter()
            .map(|(line, state)| {
                let (text, detail) = line.render(lang);
                FlowLine {
                    text: text.into(),
                    detail: detail.into(),
                    mark: super::mark(state),
                }
            })
            .collect(),
    ));
}

fn clamp(n: i64) -> i32 {
    n.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

//! Adapter of the putaway screen: the bin to scan in large type, what is left in the tote, the
//! override reasons, and the keypad quantity.

use laituri_domain::putaway::{Expect, OverrideReason};
use slint::ComponentHandle;

use super::{AppWindow, FlowLine, PutawayAdapter, ReasonItem, Shared, ToteItem};
use crate::terminal::Terminal;
use crate::terminal::messages::{Label, Text};
use crate::terminal::putaway::Action;

fn act(ui: &AppWindow, ctx: &super::Ctx, action: Action) {
    let reply = ctx.terminal.borrow_mut().putaway_action(action);
    super::answer(ui, ctx, Some(reply));
}

const REASONS: [(OverrideReason, &str, Label); 4] = [
    (OverrideReason::Blocked, "blocked", Label::ReasonBlocked),
    (
        OverrideReason::DoesNotFit,
        "does_not_fit",
        Label::ReasonDoesNotFit,
    ),
    (OverrideReason::Closer, "closer", Label::ReasonCloser),
    (
        OverrideReason::LeadInstruction,
        "lead_instruction",
        Label::ReasonLead,
    ),
];

pub fn connect(ui: &AppWindow, ctx: Shared) {
    let p = ui.global::<PutawayAdapter>();
    macro_rules! on {
        ($setter:ident, |$arg:ident| $action:expr) => {{
            let (weak, ctx) = (ui.as_weak(), ctx.clone());
            p.$setter(move |$arg| {
                if let Some(ui) = weak.upgrade() {
                    if let Some(action) = $action {
                        act(&ui, &ctx, action);
                    }
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
    on!(on_quantity_typed, |v| Some(Action::Quantity(
        v.trim().parse().unwrap_or(0)
    )));
    on!(on_reason, |id| REASONS
        .iter()
        .find(|(_, key, _)| *key == id.as_str())
        .map(|(r, _, _)| Action::Reason(*r)));
    on!(on_bin_full, Action::BinFull);
    on!(on_cancel, Action::Cancel);
    on!(on_stop, Action::Stop);
    super::on_back(ui, ctx, |f| p.on_back(f));
}

pub fn refresh(ui: &AppWindow, t: &Terminal) {
    let Some(ctrl) = t.putaway() else { return };
    let lang = t.lang();
    let view = ctrl.view();
    let p = ui.global::<PutawayAdapter>();
    p.set_container(view.container.clone().into());
    p.set_prompt(Text::Putaway(view.prompt.clone()).render(lang).into());
    p.set_bin(view.suggested.clone().unwrap_or_default().into());
    p.set_quantity(view.quantity.unwrap_or(0) as i32);
    p.set_step(
        match view.expects {
            Expect::Item => "item",
            Expect::Candidates | Expect::Bin => "bin",
            Expect::Reason => "reason",
            Expect::Nothing => "done",
        }
        .into(),
    );
    p.set_left(super::model(
        view.left
            .iter()
            .map(|(name, lot, q)| ToteItem {
                name: name.clone().into(),
                lot: lot.clone().unwrap_or_default().into(),
                quantity: *q as i32,
            })
            .collect(),
    ));
    p.set_recent(super::model(
        ctrl.recent(t.store())
            .into_iter()
            .map(|(text, detail, state)| FlowLine {
                text: text.into(),
                detail: detail.into(),
                mark: super::mark(state),
            })
            .collect(),
    ));
    p.set_reasons(super::model(
        REASONS
            .iter()
            .map(|(_, id, label)| ReasonItem {
                id: (*id).into(),
                label: label.render(lang).into(),
            })
            .collect(),
    ));
}

//! Adapter of the returns screen: the order found (and its customer's name while the return is
//! open), the prompt, the reason and action buttons, and the lines recorded.

use laituri_domain::returns::{Action as Disposition, Expect, Reason};
use slint::ComponentHandle;

use super::{AppWindow, FlowLine, LineMark, ReasonItem, ReturnsAdapter, Shared};
use crate::terminal::Terminal;
use crate::terminal::messages::{Text, return_action, return_reason};
use crate::terminal::returns::{Action, action_to_wire, reason_to_wire};

fn act(ui: &AppWindow, ctx: &super::Ctx, action: Action) {
    let reply = ctx.terminal.borrow_mut().returns_action(action);
    super::answer(ui, ctx, Some(reply));
}

fn reason_of(id: &str) -> Option<Reason> {
    Reason::ALL
        .into_iter()
        .find(|r| reason_to_wire(*r).as_str() == id)
}

fn disposition_of(id: &str) -> Option<Disposition> {
    Disposition::ALL
        .into_iter()
        .find(|a| action_to_wire(*a).as_str() == id)
}

pub fn connect(ui: &AppWindow, ctx: Shared) {
    let r = ui.global::<ReturnsAdapter>();
    macro_rules! on {
        ($setter:ident, |$arg:ident| $action:expr) => {{
            let (weak, ctx) = (ui.as_weak(), ctx.clone());
            r.$setter(move |$arg| {
                if let Some(ui) = weak.upgrade() {
                    if let Some(action) = $action {
                        act(&ui, &ctx, action);
                    }
                }
            });
        }};
        ($setter:ident, $action:expr) => {{
            let (weak, ctx) = (ui.as_weak(), ctx.clone());
            r.$setter(move || {
                if let Some(ui) = weak.upgrade() {
                    act(&ui, &ctx, $action);
                }
            });
        }};
    }
    on!(on_reason, |id| reason_of(id.as_str()).map(Action::Reason));
    on!(on_disposition, |id| disposition_of(id.as_str())
        .map(Action::Disposition));
    on!(on_cancel, Action::Cancel);
    on!(on_finish, Action::Finish);
    super::on_back(ui, ctx, |f| r.on_back(f));
}

pub fn refresh(ui: &AppWindow, t: &Terminal) {
    let lang = t.lang();
    let r = ui.global::<ReturnsAdapter>();
    r.set_reasons(super::model(
        Reason::ALL
            .iter()
            .map(|x| ReasonItem {
                id: reason_to_wire(*x).as_str().into(),
                label: return_reason(lang, *x).into(),
            })
            .collect(),
    ));
    r.set_actions(super::model(
        Disposition::ALL
            .iter()
            .map(|x| ReasonItem {
                id: action_to_wire(*x).as_str().into(),
                label: return_action(lang, *x).into(),
            })
            .collect(),
    ));
    let Some(ctrl) = t.returns() else {
        r.set_reference("".into());
        r.set_customer("".into());
        r.set_tote("".into());
        r.set_suggested("".into());
        r.set_step("order".into());
        r.set_prompt(
            Text::Returns(laituri_domain::returns::Message::ScanOrder)
                .render(lang)
                .into(),
        );
        r.set_lines(super::model(Vec::new()));
        return;
    };
    let view = ctrl.view();
    r.set_reference(view.reference.clone().into());
    r.set_customer(view.customer.clone().unwrap_or_default().into());
    r.set_tote(view.tote.clone().unwrap_or_default().into());
    r.set_suggested(
        view.suggested
            .map(|a| action_to_wire(a).as_str())
            .unwrap_or("")
            .into(),
    );
    r.set_prompt(Text::Returns(view.prompt.clone()).render(lang).into());
    r.set_step(
        match view.expects {
            Expect::Order => "order",
            Expect::Item => "item",
            Expect::Reason => "reason",
            Expect::Action => "action",
            Expect::ConfirmMissing => "missing",
            Expect::Nothing => "done",
        }
        .into(),
    );
    r.set_lines(super::model(
        ctrl.lines()
            .iter()
            .rev()
            .map(|l| {
                let mut detail: Vec<String> = Vec::new();
                if let Some(reason) = l.reason {
                    detail.push(return_reason(lang, reason));
                }
                if let Some(action) = l.action {
                    detail.push(return_action(lang, action));
                }
                if l.unexpected {
                    detail.push(crate::tr!(lang, "unexpected"));
                }
                if l.missing {
                    detail.push(crate::tr!(lang, "missing"));
                }
                if l.blocked.is_some() {
                    detail.push(crate::tr!(lang, "not restocked"));
                }
                FlowLine {
                    text: format!("{} × {}", l.quantity, l.name).into(),
                    detail: detail.join(" · ").into(),
                    // Recorded on the device at the finish, as one event.
                    mark: LineMark::Saved,
                }
            })
            .collect(),
    ));
}

//! Adapter of the receiving screen: prompt, container, expected against received, and the
//! recent scans each marked saved, confirmed or rejected.

use laituri_domain::calendar::Date;
use laituri_domain::receiving::{Condition, Expect};
use laituri_protocol::GoodsCondition;
use slint::ComponentHandle;

use super::{AppWindow, FlowLine, ReceiptLine, ReceivingAdapter, Shared};
use crate::i18n;
use crate::terminal::Terminal;
use crate::terminal::messages::{self, Label, Text};
use crate::terminal::receiving::Action;

fn act(ui: &AppWindow, ctx: &super::Ctx, action: Action) {
    let reply = ctx.terminal.borrow_mut().receiving_action(action);
    super::answer(ui, ctx, Some(reply));
}

/// A keypad number; anything unparsable becomes 0, which the flow refuses with a message.
fn number(s: &str) -> i64 {
    s.trim().parse().unwrap_or(0)
}

pub fn connect(ui: &AppWindow, ctx: Shared) {
    let r = ui.global::<ReceivingAdapter>();
    // Each button maps to one action; `on!(setter, action)` for buttons, `on!(setter, |v| ..)`
    // for keypad entries that carry the typed value.
    macro_rules! on {
        ($setter:ident, |$arg:ident| $action:expr) => {{
            let (weak, ctx) = (ui.as_weak(), ctx.clone());
            r.$setter(move |$arg| {
                if let Some(ui) = weak.upgrade() {
                    act(&ui, &ctx, $action);
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
    on!(on_add_quantity, |v| Action::AddQuantity(number(&v)));
    on!(on_damaged, |v| Action::Damaged(number(&v)));
    on!(on_expiry_typed, |v| Action::Expiry(v.to_string()));
    on!(on_confirm, Action::Confirm);
    on!(on_cancel, Action::Cancel);
    on!(on_request_close, Action::RequestClose);
    super::on_back(ui, ctx, |f| r.on_back(f));
}

pub fn refresh(ui: &AppWindow, t: &Terminal) {
    let Some(ctrl) = t.receiving() else { return };
    let view = ctrl.view(t.store());
    let r = ui.global::<ReceivingAdapter>();
    r.set_title(view.title.clone().into());
    r.set_merchant(view.merchant.clone().into());
    r.set_container(view.container.clone().unwrap_or_default().into());
    r.set_prompt(Text::Receiving(view.prompt.clone()).render(t.lang()).into());
    r.set_confirm_mode(matches!(
        view.expects,
        Expect::ConfirmOverReceipt | Expect::ConfirmClose
    ));
    r.set_expiry_mode(view.expects == Expect::Expiry);
    r.set_detail_mode(matches!(
        view.expects,
        Expect::Lot | Expect::Expiry | Expect::Serial
    ));
    r.set_closed(view.closed);
    let has_expected = !view.title.is_empty();
    r.set_lines(super::model(
        view.lines
            .iter()
            .map(|l| ReceiptLine {
                name: l.name.clone().into(),
                expected: l.expected as i32,
                received: l.received as i32,
                quarantined: l.quarantined as i32,
                has_expected,
            })
            .collect(),
    ));
    r.set_recent(super::model(
        view.recent
            .iter()
            .map(|line| {
                let lang = t.lang();
                let mut detail: Vec<String> = Vec::new();
                if let Some(lot) = &line.lot {
                    detail.push(lot.clone());
                }
                if let Some(exp) = &line.expiry {
                    // Stored as YYYY-MM-DD; shown as the operator's language writes a date.
                    detail.push(
                        Date::parse_iso(exp)
                            .map(|d| i18n::date(lang, d))
                            .unwrap_or_else(|| exp.clone()),
                    );
                }
                if line.condition == "unknown" {
                    return FlowLine {
                        text: format!("? {}", line.product_name).into(),
                        detail: Label::UnknownBarcode.render(lang).into(),
                        mark: super::mark(line.state),
                    };
                }
                match GoodsCondition::parse(&line.condition) {
                    Some(GoodsCondition::Good) => {}
                    Some(GoodsCondition::Damaged) => {
                        detail.push(messages::condition(lang, Condition::Damaged))
                    }
                    Some(GoodsCondition::Expired) => {
                        detail.push(messages::condition(lang, Condition::Expired))
                    }
                    Some(GoodsCondition::ShortShelfLife) => {
                        detail.push(messages::condition(lang, Condition::ShortShelfLife))
                    }
                    None => detail.push(line.condition.clone()),
                }
                FlowLine {
                    text: format!(
                        "+{} {}",
                        i18n::number(lang, line.quantity),
                        line.product_name
                    )
                    .into(),
                    detail: detail.join(" · ").into(),
                    mark: super::mark(line.state),
                }
            })
            .collect(),
    ));
}

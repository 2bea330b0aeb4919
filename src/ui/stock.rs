//! Adapters of the stock screens: the look-up (what a place holds, where an item is, and how old
//! the terminal's view is) and the move screen (the place, the goods in hand, the keypad).

use laituri_domain::calendar::Date;
use laituri_domain::receiving::Condition;
use laituri_protocol::{GoodsCondition, Role};
use slint::ComponentHandle;

use super::{AppWindow, FlowLine, MoveAdapter, Shared, StockAdapter, StockRow, ToteItem};
use crate::i18n;
use crate::terminal::Terminal;
use crate::terminal::messages::{self, Text};
use crate::terminal::stock::{Action, Subject};

pub fn connect(ui: &AppWindow, ctx: Shared) {
    let s = ui.global::<StockAdapter>();
    {
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        s.on_move(move || {
            if let Some(ui) = weak.upgrade() {
                let reply = ctx.terminal.borrow_mut().move_from_lookup();
                super::answer(&ui, &ctx, Some(reply));
            }
        });
    }
    super::on_back(ui, ctx.clone(), |f| s.on_back(f));
    let m = ui.global::<MoveAdapter>();
    {
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        m.on_quantity_typed(move |v| {
            if let Some(ui) = weak.upgrade() {
                let n = v.trim().parse().unwrap_or(0);
                let reply = ctx.terminal.borrow_mut().move_action(Action::Quantity(n));
                super::answer(&ui, &ctx, Some(reply));
            }
        });
    }
    {
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        m.on_cancel(move || {
            if let Some(ui) = weak.upgrade() {
                let reply = ctx.terminal.borrow_mut().move_action(Action::Cancel);
                super::answer(&ui, &ctx, Some(reply));
            }
        });
    }
    super::on_back(ui, ctx, |f| m.on_back(f));
}

fn condition(lang: i18n::Lang, c: GoodsCondition) -> Option<String> {
    let c = match c {
        GoodsCondition::Good => return None,
        GoodsCondition::Damaged => Condition::Damaged,
        GoodsCondition::Expired => Condition::Expired,
        GoodsCondition::ShortShelfLife => Condition::ShortShelfLife,
    };
    Some(messages::condition(lang, c))
}

pub fn refresh_lookup(ui: &AppWindow, t: &Terminal) {
    let lang = t.lang();
    let s = ui.global::<StockAdapter>();
    let age = t
        .store()
        .caught_up_ms()
        .ok()
        .flatten()
        .map(|at| super::format_age(crate::store::now_ms() - at));
    s.set_age(messages::stock_age(lang, age).into());
    let Some(lookup) = t.stock_lookup() else {
        s.set_subject("".into());
        s.set_rows(super::model(Vec::new()));
        s.set_can_move(false);
        return;
    };
    let by_place = !matches!(lookup.subject, Subject::Product(_));
    s.set_subject(
        match &lookup.subject {
            Subject::Location(c) | Subject::Container(c) | Subject::Product(c) => c.clone(),
        }
        .into(),
    );
    s.set_can_move(lookup.movable && t.can(Role::Putaway));
    s.set_rows(super::model(
        lookup
            .rows
            .iter()
            .map(|r| {
                let mut detail = vec![if by_place {
                    r.merchant.clone()
                } else {
                    format!("{} · {}", r.product, r.merchant)
                }];
                detail.extend(r.lot.clone());
                detail.extend(
                    r.expiry
                        .as_deref()
                        .and_then(Date::parse_iso)
                        .map(|d| i18n::date(lang, d)),
                );
                detail.extend(condition(lang, r.condition));
                StockRow {
                    text: if by_place {
                        // A location's rows in a tote say which tote.
                        match r.place.split_once(" · ") {
                            Some((_, tote)) => format!("{} · {tote}", r.product),
                            None => r.product.clone(),
                        }
                    } else {
                        r.place.clone()
                    }
                    .into(),
                    detail: detail.join(" · ").into(),
                    quantity: i18n::number(lang, r.quantity).into(),
                    pending: r.pending != 0,
                }
            })
            .collect(),
    ));
}

pub fn refresh_move(ui: &AppWindow, t: &Terminal) {
    let m = ui.global::<MoveAdapter>();
    let lang = t.lang();
    let Some(ctrl) = t.mover() else {
        m.set_from("".into());
        m.set_in_hand("".into());
        m.set_counting(false);
        m.set_rows(super::model(Vec::new()));
        m.set_prompt(
            Text::Moving(laituri_domain::moving::Message::ScanFrom)
                .render(lang)
                .into(),
        );
        m.set_recent(super::model(Vec::new()));
        return;
    };
    let view = ctrl.view();
    m.set_from(view.from.clone().into());
    m.set_prompt(Text::Moving(view.prompt.clone()).render(lang).into());
    m.set_in_hand(
        match (&view.in_hand, &view.whole) {
            (Some((name, n)), _) => format!("{} × {name}", i18n::number(lang, *n)),
            (None, Some(tote)) => tote.clone(),
            (None, None) => String::new(),
        }
        .into(),
    );
    m.set_counting(view.in_hand.is_some());
    m.set_rows(super::model(
        view.rows
            .iter()
            .map(|(name, lot, q)| ToteItem {
                name: name.clone().into(),
                lot: lot.clone().unwrap_or_default().into(),
                quantity: (*q).clamp(i32::MIN as i64, i32::MAX as i64) as i32,
            })
            .collect(),
    ));
    m.set_recent(super::model(
        ctrl.recent(t.store())
            .into_iter()
            .map(|(text, detail, state)| FlowLine {
                text: text.into(),
                detail: detail.into(),
                mark: super::mark(state),
            })
            .collect(),
    ));
}

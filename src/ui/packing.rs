//! Adapter of the packing screen: the order's lines and checklist, the open parcel (suggested
//! and chosen box, weight and where it came from, the scale's live weight), the recent lines
//! with their marks, the buttons of the step, and after the finish the label to show at a
//! station without a printer. The scale's readings arrive here ([`on_scale`]) from its thread.

use laituri_domain::packing::{Entry, Expect, Shell};
use laituri_station::scale::ScaleStatus;
use slint::{ComponentHandle, SharedString};

use super::{AppWindow, CheckItem, FlowLine, PackLineItem, PackingAdapter, Shared};
use crate::terminal::Terminal;
use crate::terminal::messages::{self, Text};
use crate::terminal::packing::Action;
use crate::tr;

fn act(ui: &AppWindow, ctx: &super::Ctx, action: Action) {
    let reply = ctx.terminal.borrow_mut().packing_action(action);
    super::answer(ui, ctx, Some(reply));
}

/// A checklist entry from its id on screen ("insert:<product>", "document:<kind>").
fn entry(id: &str) -> Option<Entry> {
    let (kind, value) = id.split_once(':')?;
    match kind {
        "insert" => Some(Entry::Insert(value.to_string())),
        "document" => Some(Entry::Document(value.to_string())),
        _ => None,
    }
}

fn entry_id(e: &Entry) -> String {
    match e {
        Entry::Insert(p) => format!("insert:{p}"),
        Entry::Document(k) => format!("document:{k}"),
    }
}

pub fn connect(ui: &AppWindow, ctx: Shared) {
    let p = ui.global::<PackingAdapter>();
    macro_rules! on {
        ($setter:ident, $action:expr) => {{
            let (weak, ctx) = (ui.as_weak(), ctx.clone());
            p.$setter(move || {
                if let Some(ui) = weak.upgrade() {
                    act(&ui, &ctx, $action);
                }
            });
        }};
    }
    {
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        p.on_tap(move |id| {
            if let (Some(ui), Some(e)) = (weak.upgrade(), entry(id.as_str())) {
                act(&ui, &ctx, Action::Tap(e));
            }
        });
    }
    {
        // Nothing typed, or more digits than a weight has, is no weight: the flow says so.
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        p.on_weight_typed(move |v| {
            if let Some(ui) = weak.upgrade() {
                act(&ui, &ctx, Action::Weight(v.trim().parse().unwrap_or(0)));
            }
        });
    }
    on!(on_no_box, Action::NoBox);
    on!(on_close_parcel, Action::CloseParcel);
    on!(on_finish, Action::Finish);
    on!(on_cancel, Action::Cancel);
    on!(on_stop, Action::Stop);
    {
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        p.on_handled(move |order, number| {
            if let Some(ui) = weak.upgrade() {
                let reply = ctx
                    .terminal
                    .borrow_mut()
                    .label_handled(order.as_str(), number.max(0) as u32);
                super::answer(&ui, &ctx, Some(reply));
            }
        });
    }
    super::on_back(ui, ctx, |f| p.on_back(f));
}

/// A reading of the station's scale, on the UI thread: the live weight on screen, and a stable
/// weight into the open parcel when it holds goods (once per weight).
pub fn on_scale(ui: &AppWindow, status: ScaleStatus) {
    super::with_current(|ctx| {
        let lang = ctx.terminal.borrow().lang();
        let shown: SharedString = match status {
            ScaleStatus::Weight(r) => {
                let w = messages::weight(lang, u64::from(r.grams));
                if r.stable { w } else { format!("{w} …") }
            }
            ScaleStatus::Waiting | ScaleStatus::Silent => tr!(lang, "no weight"),
            ScaleStatus::Overload => tr!(lang, "too heavy"),
            ScaleStatus::BelowZero => tr!(lang, "below zero"),
            ScaleStatus::Missing | ScaleStatus::Unavailable => tr!(lang, "not connected"),
        }
        .into();
        ui.global::<PackingAdapter>().set_scale(shown);
        if let ScaleStatus::Weight(r) = status
            && r.stable
        {
            let reply = ctx.terminal.borrow_mut().scale_weight(i64::from(r.grams));
            if reply.is_some() {
                super::answer(ui, ctx, reply);
            }
        }
    });
}

pub fn refresh(ui: &AppWindow, t: &Terminal) {
    let Some(ctrl) = t.packing() else { return };
    let lang = t.lang();
    let view = ctrl.view();
    let p = ui.global::<PackingAdapter>();
    p.set_reference(view.reference.clone().into());
    p.set_step(
        match view.expects {
            Expect::Box => "box",
            Expect::Item => "item",
            Expect::Close => "close",
            Expect::Checklist => "checklist",
            Expect::Weight => "weight",
            Expect::Finish => "finish",
            Expect::Nothing => "done",
        }
        .into(),
    );
    p.set_prompt(Text::Packing(view.prompt.clone()).render(lang).into());
    let packed: i64 = view.lines.iter().map(|l| l.packed).sum();
    p.set_units_packed(clamp(packed));
    p.set_units_left(clamp(view.units_left));
    p.set_lines(super::model(
        view.lines
            .iter()
            .map(|l| PackLineItem {
                name: l.name.clone().into(),
                packed: clamp(l.packed),
                quantity: clamp(l.quantity),
                insert: l.insert,
            })
            .collect(),
    ));
    p.set_checklist(super::model(
        view.checklist
            .iter()
            .map(|c| CheckItem {
                id: entry_id(&c.entry).into(),
                name: match &c.entry {
                    Entry::Insert(_) => c.name.clone(),
                    Entry::Document(kind) => messages::document(lang, kind),
                }
                .into(),
                done: c.done,
            })
            .collect(),
    ));
    p.set_parcel(clamp(i64::from(view.parcel)));
    p.set_suggested_box(view.suggested_box.clone().unwrap_or_default().into());
    p.set_chosen_box(
        match &view.chosen_box {
            Some(Shell::Box(name)) => name.clone(),
            Some(Shell::Without) => tr!(lang, "no box"),
            None => String::new(),
        }
        .into(),
    );
    p.set_weight(
        view.weight
            .map(|(g, from)| {
                format!(
                    "{} ({})",
                    messages::weight(lang, g),
                    messages::weight_from(lang, from)
                )
            })
            .unwrap_or_default()
            .into(),
    );
    p.set_open_units(clamp(view.open_units));
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
    let preview = view
        .finished
        .then(|| super::packing_start::label_to_show(t))
        .flatten()
        .filter(|(row, _)| row.order_id == view.order_id);
    match preview {
        Some((row, image)) => {
            p.set_has_preview(true);
            p.set_preview(image);
            p.set_preview_label(super::packing_start::parcel_name(&row).into());
            p.set_preview_order(row.order_id.into());
            p.set_preview_number(i32::try_from(row.number).unwrap_or(0));
        }
        None => p.set_has_preview(false),
    }
}

fn clamp(n: i64) -> i32 {
    n.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

//! Adapter of a shift lead's approvals: the counts beyond their counters' limits, each with what
//! was counted against the stock, to approve or reject.

use slint::ComponentHandle;

use super::{AppWindow, ApprovalsAdapter, PendingItem, Shared};
use crate::terminal::Terminal;
use crate::tr;

pub fn connect(ui: &AppWindow, ctx: Shared) {
    let a = ui.global::<ApprovalsAdapter>();
    for approve in [true, false] {
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        let decide = move |id: slint::SharedString| {
            if let Some(ui) = weak.upgrade() {
                let reply = ctx.terminal.borrow_mut().decide_count(id.as_str(), approve);
                super::answer(&ui, &ctx, Some(reply));
            }
        };
        if approve {
            a.on_approve(decide);
        } else {
            a.on_reject(decide);
        }
    }
    super::on_back(ui, ctx, |f| a.on_back(f));
}

pub fn refresh(ui: &AppWindow, t: &Terminal) {
    let lang = t.lang();
    let items: Vec<PendingItem> = t
        .store()
        .pending_counts()
        .unwrap_or_default()
        .into_iter()
        .map(|c| {
            let detail: Vec<String> = c
                .lines
                .iter()
                .map(|l| {
                    let name = t
                        .store()
                        .product_label(&l.product_id)
                        .unwrap_or_else(|_| l.product_id.clone());
                    let name = match &l.lot {
                        Some(lot) => format!("{name} · {lot}"),
                        None => name,
                    };
                    let (counted, level) = (l.counted, l.level);
                    let variance = format!("{:+}", l.variance);
                    tr!(
                        lang,
                        "{name}: counted {counted}, stock {level} ({variance})",
                        name,
                        counted,
                        level,
                        variance
                    )
                })
                .collect();
            PendingItem {
                id: c.count_id.to_string().into(),
                location: c.location.into(),
                detail: detail.join("; ").into(),
            }
        })
        .collect();
    ui.global::<ApprovalsAdapter>()
        .set_items(super::model(items));
}

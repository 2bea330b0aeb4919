//! Adapter of the receiving start screen: open notices, and merchants for a blind receipt.

use slint::ComponentHandle;

use super::{AppWindow, MerchantItem, NoticeItem, ReceivingStartAdapter, Shared};
use crate::terminal::Terminal;
use crate::terminal::messages;

/// How many open notices the list shows; more are reached by scanning their reference.
const NOTICE_LIMIT: u32 = 50;
const MERCHANT_LIMIT: u32 = 20;

pub fn connect(ui: &AppWindow, ctx: Shared) {
    let start = ui.global::<ReceivingStartAdapter>();
    {
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        start.on_notice_chosen(move |id| {
            if let Some(ui) = weak.upgrade() {
                let reply = ctx.terminal.borrow_mut().start_notice(id.as_str());
                super::answer(&ui, &ctx, Some(reply));
            }
        });
    }
    {
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        start.on_blind_chosen(move |id| {
            if let Some(ui) = weak.upgrade() {
                let reply = ctx.terminal.borrow_mut().start_blind(id.as_str());
                super::answer(&ui, &ctx, Some(reply));
            }
        });
    }
    super::on_back(ui, ctx, |f| start.on_back(f));
}

pub fn refresh(ui: &AppWindow, t: &Terminal) {
    let store = t.store();
    let merchants = store.merchants(MERCHANT_LIMIT).unwrap_or_default();
    let name_of = |id: &str| {
        merchants
            .iter()
            .find(|m| m.id == id)
            .map(|m| m.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let notices: Vec<NoticeItem> = store
        .open_notices(NOTICE_LIMIT)
        .unwrap_or_default()
        .into_iter()
        .map(|n| NoticeItem {
            id: n.id.clone().into(),
            label: n.reference.clone().into(),
            detail: format!(
                "{} · {}",
                name_of(&n.merchant_id),
                messages::lines(t.lang(), n.lines.len())
            )
            .into(),
        })
        .collect();
    let merchant_items: Vec<MerchantItem> = merchants
        .iter()
        .map(|m| MerchantItem {
            id: m.id.clone().into(),
            name: m.name.clone().into(),
        })
        .collect();
    let start = ui.global::<ReceivingStartAdapter>();
    start.set_notices(super::model(notices));
    start.set_merchants(super::model(merchant_items));
}

//! Headless UI test of the returns desk through the real Slint components, the real SQLite file
//! and the real server on 127.0.0.1:0: a two-line order of the demo's outdoor shop shipped
//! through the server's APIs reaches the terminal as a returnable order; the demo's
//! Swedish-speaking lead finds it by the customer's name typed at the scanner, restocks one
//! line into the returns tote, takes the other back as defective (the shop's rule sends it back
//! to the merchant, with no choice asked) and an item the order did not ship to quarantine as
//! unexpected. After a sync the server holds the return line by line, the order is returned,
//! the tote has its putaway task, and the customer's name is in no event the terminal sent.

mod support;

use laituri::terminal::Screen;
use laituri::ui;
use laituri_protocol::{
    OrderStatus, ReturnAction, ReturnReason, ReturnView, Role, TaskKind, paths,
};
use support::orders::{self as shop, Stocker};
use support::ui::{has, log_in_lead, open_window, scan, screen, sv, tap, value};

const SOCKS: &str = "KO-006";
const LAYER: &str = "KO-007";
const OTHER: &str = "KO-001";
const PACKING: &str = "PACK-1";
const TOTE: &str = "T-RET-9";

fn returns(url: &str) -> Vec<ReturnView> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let resp = reqwest::Client::new()
                .get(format!("{url}{}", paths::RETURNS))
                .bearer_auth(laituri_server::demo::ADMIN_KEY)
                .send()
                .await
                .unwrap();
            assert!(resp.status().is_success());
            resp.json().await.unwrap()
        })
}

#[test]
fn a_return_of_two_lines_and_an_unexpected_item_is_taken_in_at_the_desk() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::start_demo_server(dir.path());
    let url = server.handle.url();

    // The shop's order of socks and a base layer, picked, packed and shipped.
    let mut stocker = Stocker::enrol(&url);
    stocker.stock_up(SOCKS, 2, "B-01-01-1");
    stocker.stock_up(LAYER, 2, "B-01-02-1");
    let order = shop::post_order(&url, "K-RET-7", &[(SOCKS, 1), (LAYER, 1)]);
    let run = shop::release(&url, Some(1));
    assert_eq!(run.tasks, 1, "{run:?}");
    let task = shop::tasks(&url)
        .into_iter()
        .find(|t| t.kind == TaskKind::Pick && t.orders.iter().any(|o| o.order_id == order.id))
        .expect("a pick task of the order");
    stocker.pick_to_packing(&task.task_id, "T-PICK-R", PACKING);
    stocker.pack_and_ship(&order, "T-PICK-R", PACKING);
    assert_eq!(shop::order(&url, order.id).status, OrderStatus::Shipped);

    let db = dir.path().join("terminal.sqlite3");
    let sync = support::sync_config(db.clone(), &url);
    let (ctx, window) = open_window(&db);
    let status = support::sync_ok(&sync);
    ui::apply_status(&window, &status);
    log_in_lead(&ctx, &window, &server.guide, Role::Returns);
    tap(&window, sv("Returns"));
    assert_eq!(screen(&ctx), Screen::Returns);

    // A name nobody has is said so; the customer's name finds the order.
    scan(&window, "Nobody Here");
    assert!(
        has(&window, sv("Acknowledge")),
        "{}",
        value(&window, "Feedback")
    );
    tap(&window, sv("Acknowledge"));
    scan(&window, "asiakas");
    assert_eq!(
        value(&window, "Order"),
        "K-RET-7",
        "{}",
        value(&window, "Feedback")
    );
    assert!(ctx.terminal.borrow().returns().is_some());

    // The customer's name typed again is refused, never taken as an unknown item.
    scan(&window, "asiakas");
    assert!(
        has(&window, sv("Acknowledge")),
        "{}",
        value(&window, "Feedback")
    );
    tap(&window, sv("Acknowledge"));

    // The returns tote, then the socks back to stock.
    scan(&window, TOTE);
    assert_eq!(value(&window, "Returns tote"), TOTE);
    scan(&window, &shop::barcode(SOCKS));
    tap(&window, sv("Unwanted"));
    assert!(has(&window, sv("Restock")), "{}", value(&window, "Prompt"));
    tap(&window, sv("Restock"));

    // The base layer is defective: the shop's rule sends it back, no choice asked.
    scan(&window, &shop::barcode(LAYER));
    tap(&window, sv("Defective"));
    assert!(
        !has(&window, sv("Restock")),
        "a forced rule asks nothing: {}",
        value(&window, "Prompt")
    );

    // An item the order did not ship: warned, recorded as unexpected, to quarantine.
    scan(&window, &shop::barcode(OTHER));
    let warned = value(&window, "Feedback");
    assert!(warned.contains(&shop::name(OTHER)), "{warned}");
    tap(&window, sv("Wrong item delivered"));
    tap(&window, sv("Quarantine for inspection"));

    tap(&window, sv("Finish return"));
    assert!(
        ctx.terminal.borrow().returns().unwrap().is_finished(),
        "{}",
        value(&window, "Feedback")
    );

    // The server has the return, line by line.
    support::sync_ok(&sync);
    let got = returns(&url);
    assert_eq!(got.len(), 1, "{got:?}");
    let ret = &got[0];
    assert_eq!(ret.order_id, order.id);
    assert_eq!(ret.tote.as_deref(), Some(TOTE));
    let line = |p: &str| {
        ret.lines
            .iter()
            .find(|l| l.product_id.as_deref() == Some(p))
            .unwrap_or_else(|| panic!("a line of {p}: {:?}", ret.lines))
    };
    let socks = line(SOCKS);
    assert_eq!(
        (socks.reason, socks.action, socks.unexpected),
        (
            Some(ReturnReason::Unwanted),
            Some(ReturnAction::Restock),
            false
        )
    );
    let layer = line(LAYER);
    assert_eq!(
        (layer.reason, layer.action),
        (
            Some(ReturnReason::Defective),
            Some(ReturnAction::BackToMerchant)
        )
    );
    let other = line(OTHER);
    assert!(other.unexpected);
    assert_eq!(other.action, Some(ReturnAction::Quarantine));
    assert!(ret.lines.iter().all(|l| !l.missing));
    assert_eq!(shop::order(&url, order.id).status, OrderStatus::Returned);
    assert!(
        shop::tasks(&url)
            .iter()
            .any(|t| t.kind == TaskKind::Putaway && t.container.as_deref() == Some(TOTE)),
        "the restocked socks wait for putaway"
    );
    assert_eq!(shop::stock_at(&url, SOCKS, "DOCK-1", Some(TOTE)), 1);

    // The customer's name went into no event.
    let sent = ctx
        .terminal
        .borrow()
        .store()
        .recent_events("return_received", 10)
        .unwrap();
    assert_eq!(sent.len(), 1);
    let payload = serde_json::to_string(&sent[0].0).unwrap();
    assert!(!payload.contains("Asiakas"), "{payload}");
}

//! Returns end to end through the real server: a shipped order reaches every terminal as a
//! returnable order (with the customer's name, until its retention ends or an erasure removes
//! it); a return recorded at the returns desk books its goods in through stock moves, makes the
//! order partly or wholly returned, tells the merchant each line's reason and disposition by
//! webhook and through the API, and puts restocked goods on a putaway task that lands them in a
//! bin. Blocked restocks and unknown items are recorded and raise exceptions for a lead;
//! malformed returns are refused; one merchant never reads another's. Runs on both backends.

mod common;

use common::outbound::{applied, get_order, order_of, shipped_order, stock_up};
use common::webhooks::{self, Receiver};
use common::{Device, TestServer, json_ok};

use laituri_protocol::webhooks::{OrderStatusChanged, ReturnDisposition, ReturnReceived};
use laituri_protocol::{
    Change, EntityKind, Event, EventBody, EventOutcome, ExceptionView, GoodsCondition, Order,
    OrderStatus, Place, Product, PushResponse, RestockBlock, ReturnAction, ReturnReason,
    ReturnView, ReturnableOrder, ReturnedLine, StockMove, StockRow, Task, TaskKind,
    WebhookEventType, paths,
};
use laituri_server::clock::Clock;
use laituri_server::demo::{KETTU, NORDIC};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

const DESK: &str = "DOCK-2";
const TOTE: &str = "T-RET-1";
const PACK: &str = "PACK-1";
const QUARANTINE: &str = laituri_server::demo::QUARANTINE;

/// Three plain products of `merchant` (no lot, expiry or serial), with their unit barcodes.
async fn plain_products(s: &TestServer, merchant: &str) -> Vec<(String, String)> {
    let products: Vec<Product> = s
        .admin_get(&format!("{}?limit=10000", paths::PRODUCTS))
        .await;
    products
        .into_iter()
        .filter(|p| {
            p.merchant_id == merchant
                && !p.track_lot
                && !p.track_expiry
                && !p.track_serial
                && p.kit.is_empty()
        })
        .take(3)
        .map(|p| (p.id, p.barcodes[0].code.clone()))
        .collect()
}

/// A line of a return as the desk records it.
fn line(product: &str, qty: i64, reason: ReturnReason, action: ReturnAction) -> ReturnedLine {
    ReturnedLine {
        product_id: Some(product.into()),
        barcode: None,
        lot: None,
        expiry: None,
        quantity: qty,
        reason: Some(reason),
        action: Some(action),
        unexpected: false,
        missing: false,
        blocked: None,
    }
}

fn missing(product: &str, qty: i64) -> ReturnedLine {
    ReturnedLine {
        reason: None,
        action: None,
        missing: true,
        ..line(product, qty, ReturnReason::Unwanted, ReturnAction::Restock)
    }
}

/// The moves that bring a line's goods in, as a terminal states them.
fn moves_of(merchant: &str, lines: &[ReturnedLine]) -> Vec<StockMove> {
    let mut out = Vec::new();
    for l in lines.iter().filter(|l| !l.missing) {
        let Some(product) = &l.product_id else {
            continue;
        };
        let goods = |condition, to: Place| StockMove {
            merchant_id: merchant.into(),
            product_id: product.clone(),
            quantity: l.quantity,
            lot: None,
            expiry: None,
            serial: None,
            condition,
            from: None,
            to: Some(to),
            reason: None,
        };
        match l.action.unwrap() {
            ReturnAction::Restock => {
                out.push(goods(GoodsCondition::Good, Place::in_container(DESK, TOTE)))
            }
            ReturnAction::Quarantine => {
                out.push(goods(GoodsCondition::Damaged, Place::at(QUARANTINE)))
            }
            ReturnAction::BackToMerchant => {
                out.push(goods(GoodsCondition::Damaged, Place::at(DESK)))
            }
            ReturnAction::Dispose => {
                let came = goods(GoodsCondition::Damaged, Place::at(DESK));
                out.push(StockMove {
                    from: Some(Place::at(DESK)),
                    to: None,
                    reason: Some("disposed".into()),
                    ..came.clone()
                });
                out.insert(out.len() - 1, came);
            }
        }
    }
    out
}

fn return_of(order: &Order, lines: Vec<ReturnedLine>) -> EventBody {
    EventBody::ReturnReceived {
        return_id: Uuid::now_v7(),
        order_id: order.id,
        merchant_id: order.merchant_id.clone(),
        location: DESK.into(),
        tote: Some(TOTE.into()),
        moves: moves_of(&order.merchant_id, &lines),
        lines,
    }
}

async fn outcomes(s: &TestServer, dev: &Device, evs: &[Event]) -> Vec<EventOutcome> {
    let resp: PushResponse = json_ok(s.push(dev, evs).await).await;
    resp.results.into_iter().map(|r| r.outcome).collect()
}

async fn stock(s: &TestServer, product: &str, location: &str) -> Vec<StockRow> {
    s.admin_get(&format!(
        "{}?product_id={product}&location={location}",
        paths::STOCK
    ))
    .await
}

fn units(rows: &[StockRow]) -> i64 {
    rows.iter().map(|r| r.quantity).sum()
}

async fn get_json<T: serde::de::DeserializeOwned>(s: &TestServer, key: &str, path: &str) -> T {
    let resp = s
        .client
        .get(s.url(path))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    json_ok(resp).await
}

/// Every returnable order a device pulls from the start, and the ids of those removed.
async fn returnables(s: &TestServer, dev: &Device) -> (Vec<ReturnableOrder>, Vec<String>) {
    let mut kept = Vec::new();
    let mut removed = Vec::new();
    for c in s.pull(dev, 0, None).await.changes {
        match c.change {
            Change::ReturnableOrder(o) => kept.push(o),
            Change::Removed(r) if r.kind == EntityKind::ReturnableOrder => removed.push(r.id),
            _ => {}
        }
    }
    (kept, removed)
}

struct Shipped {
    s: TestServer,
    key: String,
    desk: Device,
    order: Order,
    /// The order's two products, and a third of the same merchant that is not in it.
    products: Vec<String>,
}

/// A seeded server (clock by hand, webhooks delivered) with a two-line order of Kettu's shipped:
/// 2 units of the first product and 1 of the second.
async fn shipped(clock: &Clock) -> Shipped {
    let s = webhooks::server(clock, true);
    let key = s.merchant_key(KETTU).await;
    let products = plain_products(&s, KETTU).await;
    let mut picker = s.device().await;
    for (i, (product, barcode)) in products.iter().enumerate() {
        stock_up(
            &s,
            &mut picker,
            KETTU,
            product,
            barcode,
            5,
            &format!("B-01-0{}-1", i + 1),
        )
        .await;
    }
    let ids: Vec<String> = products.into_iter().map(|(p, _)| p).collect();
    let mut station = s.device().await;
    let body = order_of(KETTU, "K-RET-1", &[(&ids[0], 2), (&ids[1], 1)], 0);
    let order = shipped_order(&s, &key, &mut picker, &mut station, body, PACK).await;
    let desk = s.device().await;
    Shipped {
        s,
        key,
        desk,
        order,
        products: ids,
    }
}

#[tokio::test]
async fn a_return_books_goods_in_tells_the_merchant_and_restocked_goods_are_put_away() {
    let clock = Clock::manual(1_773_563_400_000);
    let Shipped {
        s,
        key,
        mut desk,
        order,
        products,
    } = shipped(&clock).await;
    let rx = Receiver::closed();
    rx.listen().await;
    webhooks::subscribe(
        &s,
        &key,
        json!({"url": rx.url("/shop/hooks"), "secret": webhooks::SECRET,
               "event_types": ["order_status_changed", "return_received"]}),
    )
    .await;

    // Every terminal has the order to find it by, with the customer's name and tracking code,
    // for the warehouse's 30 days.
    let (kept, _) = returnables(&s, &desk).await;
    let found = kept.iter().find(|o| o.order_id == order.id).unwrap();
    assert_eq!(found.customer_name.as_deref(), Some("Asiakas"));
    assert_eq!(found.reference, "K-RET-1");
    assert_eq!(
        found.tracking,
        vec![order.parcels[0].tracking_number.clone().unwrap()]
    );
    assert_eq!(found.keep_until_ms - found.shipped_at_ms, 30 * 86_400_000);

    // One unit of the first product back to stock, the second product defective and back to
    // the merchant, a third product that was not in the order to quarantine, and one unit of
    // the first product missing.
    let (p1, p2, p3) = (&products[0], &products[1], &products[2]);
    let mut unexpected = line(p3, 1, ReturnReason::WrongItem, ReturnAction::Quarantine);
    unexpected.unexpected = true;
    let lines = vec![
        line(p1, 1, ReturnReason::Unwanted, ReturnAction::Restock),
        line(p2, 1, ReturnReason::Defective, ReturnAction::BackToMerchant),
        unexpected,
        missing(p1, 1),
    ];
    let body = return_of(&order, lines.clone());
    let EventBody::ReturnReceived { return_id, .. } = body else {
        unreachable!()
    };
    let ev = desk.event(&body);
    assert_eq!(
        outcomes(&s, &desk, &[ev]).await,
        vec![EventOutcome::Applied]
    );

    // The goods are in: in the tote at the desk, at the desk for the merchant, in quarantine.
    assert_eq!(units(&stock(&s, p1, DESK).await), 1);
    assert_eq!(
        stock(&s, p1, DESK).await[0].container.as_deref(),
        Some(TOTE)
    );
    let for_merchant = stock(&s, p2, DESK).await;
    assert_eq!(units(&for_merchant), 1);
    assert_eq!(for_merchant[0].condition, GoodsCondition::Damaged);
    assert_eq!(units(&stock(&s, p3, QUARANTINE).await), 1);

    // The order is partly returned; the merchant reads the return per line.
    let after = get_order(&s, &key, order.id).await;
    assert_eq!(after.status, OrderStatus::PartlyReturned);
    // The order counts what came back of what it shipped: not the unexpected, not the missing.
    let back: Vec<(&str, i64)> = after
        .returned
        .iter()
        .map(|l| (l.product_id.as_str(), l.quantity))
        .collect();
    assert_eq!(back, vec![(p1.as_str(), 1), (p2.as_str(), 1)]);
    let listed: Vec<ReturnView> = get_json(&s, &key, paths::RETURNS).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].return_id, return_id);
    assert_eq!(listed[0].order_id, order.id);
    assert_eq!(listed[0].lines, lines);
    let one: ReturnView = get_json(&s, &key, &format!("{}/{return_id}", paths::RETURNS)).await;
    assert_eq!(one, listed[0]);
    let of_order: Vec<ReturnView> = get_json(
        &s,
        &key,
        &format!("{}?order_id={}", paths::RETURNS, order.id),
    )
    .await;
    assert_eq!(of_order.len(), 1);

    // The restocked goods wait on a putaway task for the tote; putting them away lands them in
    // a bin.
    let tasks: Vec<Task> = s.admin_get(paths::TASKS).await;
    let task = tasks
        .iter()
        .find(|t| t.kind == TaskKind::Putaway && t.container.as_deref() == Some(TOTE))
        .expect("a putaway task for the returns tote");
    assert_eq!(task.lines.len(), 1);
    assert_eq!(task.lines[0].goods.product_id, *p1);
    assert_eq!(task.lines[0].goods.quantity, 1);
    let bin = "B-01-01-1";
    let before = units(&stock(&s, p1, bin).await);
    let put = StockMove {
        from: Some(Place::in_container(DESK, TOTE)),
        to: Some(Place::at(bin)),
        ..task.lines[0].goods.clone()
    };
    let evs = [
        desk.event(&EventBody::PutAway {
            container: TOTE.into(),
            task: None,
            suggested: Some(bin.into()),
            override_reason: None,
            moves: vec![put],
        }),
        desk.event(&EventBody::PutawayFinished {
            container: TOTE.into(),
            task: None,
        }),
    ];
    applied(&s, &desk, &evs).await;
    assert_eq!(units(&stock(&s, p1, bin).await), before + 1);
    assert_eq!(units(&stock(&s, p1, DESK).await), 0);

    // The merchant's receiver is told: the return per line with its disposition, and the
    // order's new status. Never the customer's name.
    let mut told = None;
    for _ in 0..1_500 {
        let got = rx.got("/shop/hooks");
        let ret = got
            .iter()
            .find(|g| g.envelope().kind == WebhookEventType::ReturnReceived)
            .cloned();
        let status = got.iter().any(|g| {
            g.envelope().kind == WebhookEventType::OrderStatusChanged
                && serde_json::from_value::<OrderStatusChanged>(g.envelope().data)
                    .unwrap()
                    .new_status
                    == OrderStatus::PartlyReturned
        });
        if ret.is_some() && status {
            told = ret;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let told = told.expect("return_received and partly_returned arrive");
    assert!(webhooks::signed(&told));
    let data: ReturnReceived = serde_json::from_value(told.envelope().data).unwrap();
    assert_eq!(data.return_id, return_id);
    assert_eq!(data.order_id, Some(order.id));
    assert_eq!(data.reference.as_deref(), Some("K-RET-1"));
    let dispositions: Vec<_> = data.lines.iter().map(|l| l.disposition).collect();
    assert_eq!(
        dispositions,
        vec![
            ReturnDisposition::Restocked,
            ReturnDisposition::NotRestocked,
            ReturnDisposition::ProcessingRequired,
            ReturnDisposition::Missing,
        ]
    );
    assert_eq!(data.lines[1].line.reason, Some(ReturnReason::Defective));
    assert_eq!(
        data.lines[1].line.action,
        Some(ReturnAction::BackToMerchant)
    );
    assert!(data.lines[2].line.unexpected && data.lines[3].line.missing);
    let raw = String::from_utf8_lossy(&told.body).to_string();
    assert!(!raw.contains("Asiakas") && !raw.contains("Katu 1"), "{raw}");
}

#[tokio::test]
async fn the_rest_coming_back_makes_the_order_returned_and_terminals_forget_it() {
    let clock = Clock::manual(1_773_563_400_000);
    let Shipped {
        s,
        key,
        mut desk,
        order,
        products,
    } = shipped(&clock).await;
    let (p1, p2) = (&products[0], &products[1]);
    let first = desk.event(&return_of(
        &order,
        vec![line(p1, 1, ReturnReason::Unwanted, ReturnAction::Restock)],
    ));
    applied(&s, &desk, &[first]).await;
    assert_eq!(
        get_order(&s, &key, order.id).await.status,
        OrderStatus::PartlyReturned
    );
    let (_, removed) = returnables(&s, &desk).await;
    assert!(removed.is_empty(), "partly returned: still returnable");

    // The rest, disposed of and undeliverable: the order is returned whole.
    let rest = desk.event(&return_of(
        &order,
        vec![
            line(p1, 1, ReturnReason::Undeliverable, ReturnAction::Dispose),
            line(p2, 1, ReturnReason::Undeliverable, ReturnAction::Restock),
        ],
    ));
    applied(&s, &desk, &[rest]).await;
    let after = get_order(&s, &key, order.id).await;
    assert_eq!(after.status, OrderStatus::Returned);
    // Disposed goods left nothing behind at the desk.
    let at_desk: Vec<StockRow> = stock(&s, p1, DESK).await;
    assert!(
        at_desk.iter().all(|r| r.container.as_deref() == Some(TOTE)),
        "{at_desk:?}"
    );
    // Both restocks went into one tote: its task holds both products.
    let tasks: Vec<Task> = s.admin_get(paths::TASKS).await;
    let task = tasks
        .iter()
        .find(|t| t.kind == TaskKind::Putaway && t.container.as_deref() == Some(TOTE))
        .unwrap();
    assert_eq!(task.lines.len(), 2, "{task:?}");

    // Every terminal forgets the order, and the change log no longer holds the name.
    let (kept, removed) = returnables(&s, &desk).await;
    assert!(kept.iter().all(|o| o.order_id != order.id), "{kept:?}");
    assert_eq!(removed, vec![order.id.to_string()]);
    let listed: Vec<ReturnView> = get_json(&s, &key, paths::RETURNS).await;
    assert_eq!(listed.len(), 2);
    assert!(listed[0].id < listed[1].id);
    let page: Vec<ReturnView> = get_json(
        &s,
        &key,
        &format!("{}?after={}", paths::RETURNS, listed[0].id),
    )
    .await;
    assert_eq!(page, listed[1..]);
}

#[tokio::test]
async fn a_blocked_restock_and_an_unknown_item_are_recorded_and_raise_exceptions() {
    let clock = Clock::manual(1_773_563_400_000);
    let Shipped {
        s,
        key,
        mut desk,
        order,
        products,
    } = shipped(&clock).await;
    let p1 = &products[0];
    // The merchant's rule forbade restocking: to quarantine, recorded as blocked.
    let mut blocked = line(p1, 1, ReturnReason::Unwanted, ReturnAction::Quarantine);
    blocked.blocked = Some(RestockBlock::MerchantRule);
    // A barcode no product of the merchant's has: recorded, nothing booked.
    let unknown = ReturnedLine {
        product_id: None,
        barcode: Some("2000000000017".into()),
        unexpected: true,
        blocked: Some(RestockBlock::UnknownProduct),
        ..line(p1, 1, ReturnReason::WrongItem, ReturnAction::Quarantine)
    };
    let ev = desk.event(&return_of(&order, vec![blocked, unknown]));
    applied(&s, &desk, &[ev]).await;
    assert_eq!(units(&stock(&s, p1, QUARANTINE).await), 1);
    let exceptions: Vec<ExceptionView> = get_json(&s, &key, paths::EXCEPTIONS).await;
    let kinds: Vec<&str> = exceptions.iter().map(|e| e.kind.as_str()).collect();
    assert!(kinds.contains(&"restock_blocked"), "{kinds:?}");
    assert!(kinds.contains(&"return_unknown_item"), "{kinds:?}");
    for e in &exceptions {
        assert!(!e.message.contains("Asiakas"), "{}", e.message);
    }
    let listed: Vec<ReturnView> = get_json(&s, &key, paths::RETURNS).await;
    assert_eq!(listed[0].lines.len(), 2);
    assert_eq!(listed[0].lines[1].barcode.as_deref(), Some("2000000000017"));
    // Nothing was restocked: no putaway task for the tote.
    let tasks: Vec<Task> = s.admin_get(paths::TASKS).await;
    assert!(
        tasks.iter().all(|t| t.container.as_deref() != Some(TOTE)),
        "{tasks:?}"
    );
}

#[tokio::test]
async fn an_erasure_removes_the_customers_name_from_the_change_log_and_the_terminals() {
    let clock = Clock::manual(1_773_563_400_000);
    let Shipped {
        s,
        key,
        desk,
        order,
        ..
    } = shipped(&clock).await;
    let (kept, _) = returnables(&s, &desk).await;
    assert!(kept.iter().any(|o| o.order_id == order.id));
    let resp = s
        .client
        .post(s.url(paths::ERASURES))
        .bearer_auth(&key)
        .json(&json!({"references": ["K-RET-1"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (kept, removed) = returnables(&s, &desk).await;
    assert!(kept.iter().all(|o| o.order_id != order.id), "{kept:?}");
    assert_eq!(removed, vec![order.id.to_string()]);
    let everything = serde_json::to_string(&s.pull(&desk, 0, None).await).unwrap();
    assert!(
        !everything.contains("Asiakas"),
        "the name is out of the log"
    );
}

#[tokio::test]
async fn malformed_or_misdirected_returns_are_refused_with_what_to_do() {
    let clock = Clock::manual(1_773_563_400_000);
    let Shipped {
        s,
        mut desk,
        order,
        products,
        ..
    } = shipped(&clock).await;
    let p1 = &products[0];
    let good = vec![line(p1, 1, ReturnReason::Unwanted, ReturnAction::Restock)];
    // The parts of a return a case changes: lines, moves, location, merchant.
    type Change = fn(&mut Vec<ReturnedLine>, &mut Vec<StockMove>, &mut String, &mut String);
    let with = |f: Change| {
        let mut b = return_of(&order, good.clone());
        if let EventBody::ReturnReceived {
            lines,
            moves,
            location,
            merchant_id,
            ..
        } = &mut b
        {
            f(lines, moves, location, merchant_id);
        }
        b
    };
    let cases: Vec<(&str, EventBody)> = vec![
        // More booked in than the lines say.
        ("moves_do_not_match", with(|_, m, _, _| m[0].quantity = 5)),
        // No lines at all.
        (
            "bad_return",
            with(|l, m, _, _| {
                l.clear();
                m.clear();
            }),
        ),
        // A returned item without a reason.
        ("bad_return", with(|l, _, _, _| l[0].reason = None)),
        // Straight into a bin.
        (
            "bad_return",
            with(|_, m, _, _| m[0].to = Some(Place::at("B-01-01-1"))),
        ),
        // Not at a dock.
        (
            "not_a_returns_desk",
            with(|_, m, loc, _| {
                *loc = PACK.into();
                m[0].to = Some(Place::in_container(PACK, TOTE));
            }),
        ),
        // Another merchant's return of this order.
        (
            "order_of_other_merchant",
            with(|_, m, _, merchant| {
                *merchant = NORDIC.into();
                m.clear();
            }),
        ),
        // A negative quantity.
        ("bad_quantity", with(|l, _, _, _| l[0].quantity = -1)),
    ];
    for (code, body) in cases {
        let ev = desk.event(&body);
        let got = outcomes(&s, &desk, &[ev]).await;
        match &got[0] {
            EventOutcome::Rejected { code: c, reason } => {
                assert_eq!(c, code, "{reason}");
                assert!(reason.len() > 30, "{reason}");
            }
            other => panic!("{code}: {other:?}"),
        }
    }
    // Nothing was booked by any of them.
    assert_eq!(units(&stock(&s, p1, DESK).await), 0);

    // A return of an order the server does not know: the goods are booked (they are here), the
    // rest is for a lead.
    let mut unknown = return_of(&order, good.clone());
    if let EventBody::ReturnReceived { order_id, .. } = &mut unknown {
        *order_id = Uuid::now_v7();
    }
    let ev = desk.event(&unknown);
    let got = outcomes(&s, &desk, &[ev]).await;
    assert!(
        matches!(&got[0], EventOutcome::Partial { code, .. } if code == "return_not_booked"),
        "{got:?}"
    );
    assert_eq!(units(&stock(&s, p1, DESK).await), 1);
}

#[tokio::test]
async fn a_merchant_never_reads_another_merchants_returns() {
    let clock = Clock::manual(1_773_563_400_000);
    let Shipped {
        s,
        key,
        mut desk,
        order,
        products,
    } = shipped(&clock).await;
    let ev = desk.event(&return_of(
        &order,
        vec![line(
            &products[0],
            1,
            ReturnReason::Unwanted,
            ReturnAction::Restock,
        )],
    ));
    applied(&s, &desk, &[ev]).await;
    let mine: Vec<ReturnView> = get_json(&s, &key, paths::RETURNS).await;
    assert_eq!(mine.len(), 1);
    let other = s.merchant_key(NORDIC).await;
    let theirs: Vec<ReturnView> = get_json(&s, &other, paths::RETURNS).await;
    assert!(theirs.is_empty());
    let of_order: Vec<ReturnView> = get_json(
        &s,
        &other,
        &format!("{}?order_id={}", paths::RETURNS, order.id),
    )
    .await;
    assert!(of_order.is_empty());
    let resp = s
        .client
        .get(s.url(&format!("{}/{}", paths::RETURNS, mine[0].return_id)))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let admin: Vec<ReturnView> = s.admin_get(paths::RETURNS).await;
    assert_eq!(admin, mine);
    // Bad ids are told what to send.
    for bad in ["after=x", "order_id=nope"] {
        let resp = s
            .client
            .get(s.url(&format!("{}?{bad}", paths::RETURNS)))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn the_change_log_forgets_a_returnable_order_when_its_retention_ends() {
    let clock = Clock::manual(1_773_563_400_000);
    let Shipped {
        s,
        key,
        desk,
        order,
        products,
    } = shipped(&clock).await;
    // 31 days later another order ships: the first one's retention has ended.
    clock.advance(std::time::Duration::from_secs(31 * 86_400));
    let mut picker = s.device().await;
    let mut station = s.device().await;
    let body = order_of(KETTU, "K-RET-2", &[(&products[0], 1)], 0);
    let later = shipped_order(&s, &key, &mut picker, &mut station, body, PACK).await;
    let (kept, _) = returnables(&s, &desk).await;
    let ids: Vec<Uuid> = kept.iter().map(|o| o.order_id).collect();
    assert_eq!(ids, vec![later.id], "only the order within its retention");
    assert!(!ids.contains(&order.id));
}

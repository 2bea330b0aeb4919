//! Putaway end to end: a received tote goes into bins through stock moves, stock that goes
//! negative raises a count task and an exception (never a rejection), and closing a receipt hands
//! out the tote's putaway task through the pull.

mod common;

use common::{Device, TestServer, json_ok};
use laituri_protocol::{
    Change, EventBody, EventOutcome, ExceptionView, GoodsCondition, OverrideReason, Place,
    PushResponse, StockMove, StockRow, TaskKind, TaskStatus, paths,
};
use uuid::Uuid;

const MERCHANT: &str = "kettu-outdoor";
const PRODUCT: &str = "KO-006";
const TOTE: &str = "T-0042";
const BIN: &str = "B-01-01-1";

fn opened(receipt: Uuid) -> EventBody {
    common::receipt_opened(receipt)
}

fn goods(receipt: Uuid, qty: i64) -> EventBody {
    common::goods_received(receipt, qty, TOTE)
}

fn closed(receipt: Uuid) -> EventBody {
    common::receipt_closed(receipt)
}

pub fn put(qty: i64, bin: &str) -> EventBody {
    EventBody::PutAway {
        container: TOTE.into(),
        task: None,
        suggested: Some(BIN.into()),
        override_reason: (bin != BIN).then_some(OverrideReason::Closer),
        moves: vec![StockMove {
            merchant_id: MERCHANT.into(),
            product_id: PRODUCT.into(),
            quantity: qty,
            lot: None,
            expiry: None,
            serial: None,
            condition: GoodsCondition::Good,
            from: Some(Place::in_container("DOCK-1", TOTE)),
            to: Some(Place::at(bin)),
            reason: None,
        }],
    }
}

/// Receives `qty` into the tote and closes the receipt.
async fn receive(s: &TestServer, dev: &mut Device, qty: i64) {
    let r = Uuid::now_v7();
    let evs = [
        dev.event(&opened(r)),
        dev.event(&goods(r, qty)),
        dev.event(&closed(r)),
    ];
    let resp: PushResponse = json_ok(s.push(dev, &evs).await).await;
    assert!(
        resp.results
            .iter()
            .all(|x| x.outcome == EventOutcome::Applied)
    );
}

async fn stock_at(s: &TestServer, location: &str) -> Vec<StockRow> {
    s.admin_get(&format!(
        "{}?product_id={PRODUCT}&location={location}",
        paths::STOCK
    ))
    .await
}

#[tokio::test]
async fn a_putaway_moves_the_goods_from_the_tote_into_the_bin() {
    let s = TestServer::seeded();
    let mut dev = s.device().await;
    receive(&s, &mut dev, 6).await;
    let before = s.pull(&dev, 0, Some(5000)).await.next_cursor;

    let evs = [dev.event(&put(4, BIN)), dev.event(&put(2, "B-01-02-1"))];
    let resp: PushResponse = json_ok(s.push(&dev, &evs).await).await;
    assert!(
        resp.results
            .iter()
            .all(|x| x.outcome == EventOutcome::Applied),
        "{resp:?}"
    );

    let bin = stock_at(&s, BIN).await;
    assert_eq!(bin.len(), 1);
    assert_eq!((bin[0].quantity, bin[0].container.as_deref()), (4, None));
    assert_eq!(stock_at(&s, "B-01-02-1").await[0].quantity, 2);
    // The tote is empty: GET STOCK lists no zero rows.
    assert!(stock_at(&s, "DOCK-1").await.is_empty());

    // Every touched row is announced as a level, naming the event that made it.
    let after = s.pull(&dev, before, None).await;
    let levels: Vec<(String, i64, Option<u64>)> = after
        .changes
        .iter()
        .filter_map(|c| match &c.change {
            Change::Stock(l) => Some((l.location.clone(), l.quantity, l.by_seq)),
            _ => None,
        })
        .collect();
    assert_eq!(
        levels,
        vec![
            ("DOCK-1".to_string(), 2, Some(4)),
            (BIN.to_string(), 4, Some(4)),
            ("DOCK-1".to_string(), 0, Some(5)),
            ("B-01-02-1".to_string(), 2, Some(5)),
        ]
    );
}

#[tokio::test]
async fn stock_that_goes_negative_raises_a_count_task_and_an_exception_never_a_rejection() {
    let s = TestServer::seeded();
    let mut dev = s.device().await;
    receive(&s, &mut dev, 2).await;
    let before = s.pull(&dev, 0, Some(5000)).await.next_cursor;

    let ev = dev.event(&put(5, BIN));
    let resp: PushResponse = json_ok(s.push(&dev, &[ev]).await).await;
    assert_eq!(resp.results[0].outcome, EventOutcome::Applied);
    assert_eq!(stock_at(&s, BIN).await[0].quantity, 5);
    assert_eq!(stock_at(&s, "DOCK-1").await[0].quantity, -3);

    let exceptions: Vec<ExceptionView> = s.admin_get(paths::EXCEPTIONS).await;
    assert!(
        exceptions
            .iter()
            .any(|x| x.kind == "negative_stock" && x.message.contains("count"))
    );
    let after = s.pull(&dev, before, None).await;
    let count = after
        .changes
        .iter()
        .find_map(|c| match &c.change {
            Change::Task(t) if t.kind == TaskKind::Count => Some(t.clone()),
            _ => None,
        })
        .expect("a count task in the pull");
    assert_eq!(count.status, TaskStatus::Open);
    assert_eq!(
        count.reason.as_deref(),
        Some("stock went negative at DOCK-1")
    );
}

#[tokio::test]
async fn closing_a_receipt_hands_out_the_totes_putaway_task_to_every_device() {
    let s = TestServer::seeded();
    let mut dev = s.device().await;
    let other = s.device().await;
    receive(&s, &mut dev, 3).await;
    let pulled = s.pull(&other, 0, Some(5000)).await;
    let task = pulled
        .changes
        .iter()
        .find_map(|c| match &c.change {
            Change::Task(t) if t.kind == TaskKind::Putaway => Some(t.clone()),
            _ => None,
        })
        .expect("a putaway task in the pull");
    assert_eq!(task.container.as_deref(), Some(TOTE));
    assert_eq!(task.merchant_id, MERCHANT);
    assert_eq!(task.status, TaskStatus::Open);
    assert_eq!(task.lines.len(), 1);
    assert_eq!(task.lines[0].goods.quantity, 3);
    assert_eq!(
        task.lines[0].goods.from,
        Some(Place::in_container("DOCK-1", TOTE))
    );
}

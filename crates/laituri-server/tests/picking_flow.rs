//! Orders out, end to end through the real server: a merchant's orders come in through the
//! integration API, the planner reserves them (first expiry first out, whole or on hold) and
//! releases them into a cluster pick task, a device leases it and pushes its picks, a short
//! pick and the drop at packing; the orders end picked, re-tasked or on hold, a count task is
//! raised, and stock arriving later frees the held order. Runs on both backends.

mod common;

use common::{ADMIN, Device, TestServer, api_error, json_ok};
use laituri_protocol::{
    DroppedTote, EventBody, EventOutcome, GoodsCondition, IN_TRANSIT, LeaseRequest, LeaseResponse,
    Order, OrderStatus, Place, PushResponse, ReleaseOrdersResult, StockMove, StockRow,
    StockSummary, Task, TaskClaim, TaskKind, TaskLine, WorkPacket, paths,
};
use laituri_server::demo::KETTU;
use laituri_server::demo::outbound::{Shelving, shelve};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

const PRODUCT: &str = "KO-006";
const BIN_NEAR: &str = "B-01-01-1";
const BIN_FAR: &str = "B-01-03-1";

/// Receives `qty` units into a tote and puts them away into `bin`.
async fn stock_up(s: &TestServer, dev: &mut Device, qty: i64, bin: &str) {
    let receipt = Uuid::now_v7();
    let tote = format!("T-IN-{}", &receipt.simple().to_string()[24..]);
    let shelving = Shelving {
        merchant: KETTU,
        product: PRODUCT,
        barcode: common::KETTU_GTIN,
        units: qty,
        lot: None,
        expiry: None,
        tote: &tote,
        bin,
    };
    let evs: Vec<_> = shelve(receipt, &shelving)
        .iter()
        .map(|b| dev.event(b))
        .collect();
    applied(s, dev, &evs).await;
}

fn goods(qty: i64, from: Place, to: Place) -> StockMove {
    StockMove {
        merchant_id: KETTU.into(),
        product_id: PRODUCT.into(),
        quantity: qty,
        lot: None,
        expiry: None,
        serial: None,
        condition: GoodsCondition::Good,
        from: Some(from),
        to: Some(to),
        reason: None,
    }
}

async fn applied(s: &TestServer, dev: &Device, evs: &[laituri_protocol::Event]) {
    let resp: PushResponse = json_ok(s.push(dev, evs).await).await;
    for r in &resp.results {
        assert_eq!(r.outcome, EventOutcome::Applied, "{r:?}");
    }
}

fn order(reference: &str, qty: i64, priority: i32) -> Value {
    json!({
        "merchant_id": KETTU,
        "reference": reference,
        "lines": [{"product_id": PRODUCT, "quantity": qty}],
        "shipping_method": "posti-parcel",
        "priority": priority,
        "recipient": {"name": "Asiakas", "address": "Katu 1", "postcode": "00100",
                      "city": "Helsinki", "country": "FI"}
    })
}

async fn post_order(s: &TestServer, key: &str, body: Value) -> Order {
    let resp = s
        .client
        .post(s.url(paths::ORDERS))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    json_ok(resp).await
}

async fn get_order(s: &TestServer, key: &str, id: Uuid) -> Order {
    let resp = s
        .client
        .get(s.url(&format!("{}/{id}", paths::ORDERS)))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    json_ok(resp).await
}

async fn release(s: &TestServer, body: Value) -> ReleaseOrdersResult {
    json_ok(s.admin_post(paths::RELEASE_ORDERS, &body).await).await
}

/// The merchant's view of the product's stock: (on hand, reserved, available), and what is
/// reserved per bin.
async fn levels(s: &TestServer, key: &str) -> ((i64, i64, i64), Vec<(String, i64)>) {
    let resp = s
        .client
        .get(s.url(&format!(
            "{}?product_id={PRODUCT}&locations=true",
            paths::STOCK_LEVELS
        )))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let rows: Vec<StockSummary> = json_ok(resp).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    let held = r
        .locations
        .iter()
        .filter(|l| l.reserved > 0)
        .map(|l| (l.location.clone(), l.reserved))
        .collect();
    ((r.on_hand, r.reserved, r.available), held)
}

async fn stock(s: &TestServer, location: &str) -> i64 {
    let rows: Vec<StockRow> = s
        .admin_get(&format!(
            "{}?product_id={PRODUCT}&location={location}",
            paths::STOCK
        ))
        .await;
    rows.iter().map(|r| r.quantity).sum()
}

fn picked(claim: &TaskClaim, line: &TaskLine, qty: i64, tote: &str) -> EventBody {
    let bin = line.goods.from.clone().unwrap();
    EventBody::Picked {
        task: claim.clone(),
        order_id: line.order_id.unwrap(),
        line_id: line.line_id.clone().unwrap(),
        tote: tote.into(),
        suggested_lot: line.goods.lot.clone(),
        moves: vec![goods(qty, bin, Place::in_container(IN_TRANSIT, tote))],
    }
}

#[tokio::test]
async fn orders_are_reserved_picked_in_a_cluster_and_a_short_pick_is_retasked() {
    let s = TestServer::seeded();
    let key = s.merchant_key(KETTU).await;
    let mut dev = s.device().await;
    stock_up(&s, &mut dev, 3, BIN_FAR).await;
    stock_up(&s, &mut dev, 2, BIN_NEAR).await;

    let first = post_order(&s, &key, order("K-1001", 2, 0)).await;
    let second = post_order(&s, &key, order("K-1002", 2, 0)).await;
    let third = post_order(&s, &key, order("K-1003", 4, 0)).await;
    assert_eq!(first.status, OrderStatus::New);

    assert_eq!(levels(&s, &key).await, ((5, 0, 5), vec![]));
    let run = release(&s, json!({"totes": 3})).await;
    assert_eq!((run.reserved, run.on_hold, run.tasks), (2, 1, 1), "{run:?}");
    // Each order's two units from one bin, by walking order: the near bin's go first.
    assert_eq!(
        levels(&s, &key).await,
        (
            (5, 4, 1),
            vec![(BIN_NEAR.to_string(), 2), (BIN_FAR.to_string(), 2)]
        )
    );
    let held = get_order(&s, &key, third.id).await;
    assert_eq!(held.status, OrderStatus::OnHold);
    let reason = held.status_reason.unwrap();
    assert!(
        reason.contains("not enough stock") && reason.contains(PRODUCT),
        "{reason}"
    );
    // Released orders are picking: no longer cancelled.
    let resp = s
        .client
        .post(s.url(&format!("{}/{}/cancel", paths::ORDERS, first.id)))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    let refusal = api_error(resp, StatusCode::CONFLICT, "order_in_progress").await;
    assert!(refusal.message.contains("picking"), "{}", refusal.message);

    // The device takes the batch; a second device asking for the same task is refused.
    let lease: LeaseResponse = json_ok(
        s.device_post(
            &dev,
            paths::LEASE,
            &LeaseRequest {
                task_id: None,
                kind: Some(TaskKind::Pick),
            },
        )
        .await,
    )
    .await;
    let WorkPacket {
        task,
        lease,
        locations,
        products,
        ..
    } = lease.packet;
    let other = s.device().await;
    let resp = s
        .device_post(
            &other,
            paths::LEASE,
            &LeaseRequest {
                task_id: Some(task.task_id.clone()),
                kind: None,
            },
        )
        .await;
    api_error(resp, StatusCode::CONFLICT, "task_taken").await;
    assert_eq!(task.orders.len(), 2, "{task:?}");
    assert!(products.iter().any(|p| p.id == PRODUCT));
    assert!(
        locations.iter().any(|l| l.code == "PACK-1"),
        "the drop location"
    );
    // Lines in walking order: the near bin first.
    let at: Vec<&str> = task
        .lines
        .iter()
        .map(|l| l.goods.from.as_ref().unwrap().location.as_str())
        .collect();
    assert_eq!(at.first(), Some(&BIN_NEAR), "{at:?}");
    let claim = TaskClaim {
        task_id: task.task_id.clone(),
        token: lease.token,
    };
    let tote_of = |order: Uuid| {
        let slot = task
            .orders
            .iter()
            .find(|o| o.order_id == order)
            .unwrap()
            .slot;
        format!("T-PICK-{slot}")
    };

    // Every line picked in full, except the second order's line at the far bin: one of two
    // there (someone took one without booking it).
    let mut evs = Vec::new();
    for line in &task.lines {
        let order = line.order_id.unwrap();
        let tote = tote_of(order);
        let want = line.goods.quantity;
        if order == second.id && line.goods.from.as_ref().unwrap().location == BIN_FAR {
            evs.push(dev.event(&picked(&claim, line, want - 1, &tote)));
            evs.push(dev.event(&EventBody::PickShort {
                task: claim.clone(),
                order_id: order,
                line_id: line.line_id.clone().unwrap(),
                location: BIN_FAR.into(),
                merchant_id: KETTU.into(),
                product_id: PRODUCT.into(),
                lot: None,
                picked: want - 1,
                missing: 1,
            }));
        } else {
            evs.push(dev.event(&picked(&claim, line, want, &tote)));
        }
    }
    let mut drop_moves = Vec::new();
    let mut totes = Vec::new();
    for o in [first.id, second.id] {
        let tote = tote_of(o);
        let qty = if o == first.id { 2 } else { 1 };
        drop_moves.push(goods(
            qty,
            Place::in_container(IN_TRANSIT, &tote),
            Place::in_container("PACK-1", &tote),
        ));
        totes.push(DroppedTote { order_id: o, tote });
    }
    evs.push(dev.event(&EventBody::TotesDropped {
        task: claim.clone(),
        location: "PACK-1".into(),
        totes,
        moves: drop_moves,
    }));
    evs.push(dev.event(&EventBody::PickFinished {
        task: claim.clone(),
    }));
    applied(&s, &dev, &evs).await;

    let done = get_order(&s, &key, first.id).await;
    assert_eq!(done.status, OrderStatus::Picked, "{:?}", done.history);
    assert_eq!(done.totes, vec![tote_of(first.id)]);
    let statuses: Vec<OrderStatus> = done.history.iter().map(|h| h.status).collect();
    assert_eq!(
        statuses,
        vec![
            OrderStatus::New,
            OrderStatus::Reserved,
            OrderStatus::Picking,
            OrderStatus::Picked
        ]
    );
    assert!(done.history.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    let short = get_order(&s, &key, second.id).await;
    assert_eq!(short.status, OrderStatus::Picking, "{:?}", short.history);
    assert_eq!(stock(&s, IN_TRANSIT).await, 0, "every tote went to packing");
    assert_eq!(stock(&s, "PACK-1").await, 3);
    // On hand still: three at packing, two on the books in the far bin (until it is counted).
    assert_eq!(levels(&s, &key).await, ((5, 0, 2), vec![]));
    let tasks: Vec<Task> = s.admin_get(paths::TASKS).await;
    let count = tasks
        .iter()
        .find(|t| t.kind == TaskKind::Count)
        .expect("a count task for the short location");
    assert_eq!(
        count.reason.as_deref(),
        Some(format!("short pick at {BIN_FAR}").as_str())
    );
    assert!(
        tasks
            .iter()
            .any(|t| t.task_id == task.task_id && t.status == laituri_protocol::TaskStatus::Done)
    );

    // The missing unit is reserved again: one was left in the far bin, and it goes in a
    // follow-up task. The third order still waits.
    let run = release(&s, json!({})).await;
    assert_eq!((run.reserved, run.tasks), (1, 1), "{run:?}");
    assert_eq!(
        get_order(&s, &key, third.id).await.status,
        OrderStatus::OnHold
    );

    // Stock arrives: the held order goes on by itself at the next run.
    stock_up(&s, &mut dev, 4, BIN_NEAR).await;
    let run = release(&s, json!({})).await;
    assert_eq!((run.reserved, run.tasks), (1, 1), "{run:?}");
    let third = get_order(&s, &key, third.id).await;
    assert_eq!(third.status, OrderStatus::Picking, "{:?}", third.history);
    assert!(
        third
            .history
            .iter()
            .any(|h| h.status == OrderStatus::OnHold && h.reason.is_some())
    );
}

#[tokio::test]
async fn picking_events_that_break_the_rules_are_refused_and_say_what_to_do() {
    let s = TestServer::seeded();
    let key = s.merchant_key(KETTU).await;
    let mut dev = s.device().await;
    stock_up(&s, &mut dev, 2, BIN_NEAR).await;
    post_order(&s, &key, order("K-2001", 1, 0)).await;
    release(&s, json!({"totes": 1})).await;
    let lease: LeaseResponse = json_ok(
        s.device_post(
            &dev,
            paths::LEASE,
            &LeaseRequest {
                task_id: None,
                kind: Some(TaskKind::Pick),
            },
        )
        .await,
    )
    .await;
    let task = lease.packet.task;
    let claim = TaskClaim {
        task_id: task.task_id.clone(),
        token: lease.packet.lease.token,
    };
    let line = &task.lines[0];
    let mut into_bin = picked(&claim, line, 1, "T-9");
    if let EventBody::Picked { moves, .. } = &mut into_bin {
        moves[0].to = Some(Place::at(BIN_FAR));
    }
    let drop_at_bin = EventBody::TotesDropped {
        task: claim.clone(),
        location: BIN_FAR.into(),
        totes: vec![],
        moves: vec![],
    };
    let evs = [dev.event(&into_bin), dev.event(&drop_at_bin)];
    let resp: PushResponse = json_ok(s.push(&dev, &evs).await).await;
    let codes: Vec<String> = resp
        .results
        .iter()
        .map(|r| match &r.outcome {
            EventOutcome::Rejected { code, reason } => {
                assert!(
                    reason.contains("scan") || reason.contains("take"),
                    "{reason}"
                );
                code.clone()
            }
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(codes, vec!["not_into_tote", "not_packing"]);
    let _ = ADMIN;
}

#[tokio::test]
async fn a_device_taking_over_a_pick_task_gets_only_what_is_left_and_the_bound_tote() {
    use laituri_server::clock::Clock;
    use laituri_server::tasks::LEASE_DURATION;
    // The server's clock: the demo's dates are far from it; lots here have no expiry.
    let clock = Clock::manual(1_800_000_000_000);
    let s = TestServer::seeded_with_clock(clock.clone());
    let key = s.merchant_key(KETTU).await;
    let mut first = s.device().await;
    stock_up(&s, &mut first, 2, BIN_NEAR).await;
    stock_up(&s, &mut first, 2, BIN_FAR).await;
    let mut body = order("K-3001", 0, 0);
    body["lines"] = json!([{"product_id": PRODUCT, "quantity": 4}]);
    let o = post_order(&s, &key, body).await;
    release(&s, json!({"totes": 1})).await;
    let by_kind = LeaseRequest {
        task_id: None,
        kind: Some(TaskKind::Pick),
    };
    let got: LeaseResponse = json_ok(s.device_post(&first, paths::LEASE, &by_kind).await).await;
    let task = got.packet.task;
    assert_eq!(task.lines.len(), 2, "{task:?}");
    assert_eq!(task.orders[0].tote, None);
    let claim = TaskClaim {
        task_id: task.task_id.clone(),
        token: got.packet.lease.token,
    };
    // The first picker picks one line into T-7 and goes away.
    let ev = first.event(&picked(&claim, &task.lines[0], 2, "T-7"));
    applied(&s, &first, &[ev]).await;
    clock.advance(LEASE_DURATION + std::time::Duration::from_secs(1));

    let second = s.device().await;
    let got: LeaseResponse = json_ok(
        s.device_post(
            &second,
            paths::LEASE,
            &LeaseRequest {
                task_id: Some(task.task_id.clone()),
                kind: None,
            },
        )
        .await,
    )
    .await;
    let left = got.packet.task;
    assert_eq!(left.lines.len(), 1, "only the line not picked: {left:?}");
    assert_eq!(left.lines[0].line_id, task.lines[1].line_id);
    assert_eq!(
        left.orders[0].tote.as_deref(),
        Some("T-7"),
        "go on into the same tote"
    );
    assert!(got.packet.lease.token > claim.token);
    // The first device's late pick of the same line still books the goods, but not as the
    // task's progress.
    let late = first.event(&picked(&claim, &task.lines[1], 2, "T-7"));
    let resp: PushResponse = json_ok(s.push(&first, &[late]).await).await;
    assert!(
        matches!(&resp.results[0].outcome, EventOutcome::Partial { code, .. } if code == "task_taken"),
        "{resp:?}"
    );
    assert_eq!(get_order(&s, &key, o.id).await.status, OrderStatus::Picking);
}

/// Asks for the order until `done` holds (the planner runs by itself, soon but not at once).
async fn until(s: &TestServer, key: &str, id: Uuid, done: impl Fn(&Order) -> bool) -> Order {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let o = get_order(s, key, id).await;
        if done(&o) || std::time::Instant::now() > deadline {
            return o;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_server_plans_by_itself_when_an_order_comes_in_and_when_stock_arrives() {
    let (dir, pg, mut config) = common::fresh_config();
    // Only pokes run the planner here: its timer is far away.
    config.planning.every = Some(std::time::Duration::from_secs(3600));
    let s = TestServer::start_on(dir, pg, config);
    laituri_server::demo::seed(&s.config, common::today()).unwrap();
    let key = s.merchant_key(KETTU).await;
    let o = post_order(&s, &key, order("K-4001", 2, 0)).await;
    let held = until(&s, &key, o.id, |o| o.status == OrderStatus::OnHold).await;
    assert_eq!(held.status, OrderStatus::OnHold, "{:?}", held.history);
    let mut dev = s.device().await;
    stock_up(&s, &mut dev, 2, BIN_NEAR).await;
    let going = until(&s, &key, o.id, |o| o.status == OrderStatus::Picking).await;
    assert_eq!(going.status, OrderStatus::Picking, "{:?}", going.history);
    let tasks: Vec<Task> = s.admin_get(paths::TASKS).await;
    assert!(
        tasks
            .iter()
            .any(|t| t.kind == TaskKind::Pick && t.orders.iter().any(|x| x.order_id == o.id))
    );
}

//! Counts end to end through the real server: a blind count of a bin is booked against the
//! server's level when it is within the counter's limits (the stock then equals the count),
//! waits for a lead beyond them (a pick in between stays booked when the lead approves; a
//! rejection changes nothing and opens a recount), a lead's plan makes count tasks once, stock
//! under a count stays pickable, a stale lease books the count but finishes no task, and hostile
//! counts are refused with what to do. Runs on both backends.

mod common;

use common::outbound::{order_of, pick_all, post_order, release, stock_up, take_pick_task};
use common::{Device, TestServer, api_error, json_ok};
use laituri_protocol::{
    Change, CountLine, CountPlanSummary, EntityKind, Event, EventBody, EventOutcome, ExceptionView,
    GoodsCondition, LeaseRequest, LeaseResponse, PushResponse, StockRow, Task, TaskClaim, TaskKind,
    TaskStatus, paths,
};
use laituri_server::demo::KETTU;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

const PRODUCT: &str = "KO-006";
const BIN: &str = "B-01-01-1";
const OTHER_BIN: &str = "B-01-02-1";
const COUNTER: &str = "OP-1001";
const LEAD: &str = "OP-1900";

/// The next event of `dev`, recorded by `operator`.
fn by(dev: &mut Device, operator: &str, body: &EventBody) -> Event {
    dev.event_by(operator, body)
}

fn line(counted: i64) -> CountLine {
    CountLine {
        merchant_id: KETTU.into(),
        product_id: PRODUCT.into(),
        lot: None,
        expiry: None,
        condition: GoodsCondition::Good,
        container: None,
        counted,
        expected: 0,
    }
}

fn counted(count_id: Uuid, location: &str, lines: Vec<CountLine>) -> EventBody {
    EventBody::LocationCounted {
        count_id,
        task: None,
        location: location.into(),
        lines,
    }
}

fn decided(count_id: Uuid, approve: bool) -> EventBody {
    EventBody::CountDecided { count_id, approve }
}

async fn push(s: &TestServer, dev: &Device, evs: &[Event]) -> Vec<EventOutcome> {
    let resp: PushResponse = json_ok(s.push(dev, evs).await).await;
    resp.results.into_iter().map(|r| r.outcome).collect()
}

async fn level(s: &TestServer, location: &str) -> i64 {
    let rows: Vec<StockRow> = s
        .admin_get(&format!(
            "{}?product_id={PRODUCT}&location={location}",
            paths::STOCK
        ))
        .await;
    rows.iter().map(|r| r.quantity).sum()
}

/// Gives the counter limits of `max_quantity` units.
async fn set_limits(s: &TestServer, max_quantity: u32) {
    let resp = s
        .admin_post(
            paths::OPERATORS,
            &json!({"id": COUNTER, "name": "Aino", "badge": COUNTER,
                    "roles": ["receiving", "putaway", "counting"], "language": "fi",
                    "count_limits": {"max_quantity": max_quantity}}),
        )
        .await;
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
}

async fn exceptions(s: &TestServer) -> Vec<ExceptionView> {
    s.admin_get(paths::EXCEPTIONS).await
}

async fn tasks(s: &TestServer) -> Vec<Task> {
    s.admin_get(&format!("{}?limit=1000", paths::TASKS)).await
}

fn rejected_with(outcome: &EventOutcome, want: &str) {
    match outcome {
        EventOutcome::Rejected { code, reason } => {
            assert_eq!(code, want, "{reason}");
            assert!(reason.contains(':'), "says what to do: {reason}");
        }
        other => panic!("expected rejection {want}, got {other:?}"),
    }
}

#[tokio::test]
async fn a_count_within_the_counters_limits_is_booked_and_the_stock_equals_the_count() {
    let s = TestServer::seeded();
    let mut dev = s.device().await;
    stock_up(&s, &mut dev, KETTU, PRODUCT, common::KETTU_GTIN, 10, BIN).await;
    set_limits(&s, 3).await;

    let ev = by(
        &mut dev,
        COUNTER,
        &counted(Uuid::now_v7(), BIN, vec![line(8)]),
    );
    assert_eq!(push(&s, &dev, &[ev]).await, [EventOutcome::Applied]);
    assert_eq!(level(&s, BIN).await, 8);
    assert!(
        !exceptions(&s)
            .await
            .iter()
            .any(|x| x.kind == "count_needs_approval")
    );

    // Found more than booked, still within 3: booked too.
    let ev = by(
        &mut dev,
        COUNTER,
        &counted(Uuid::now_v7(), BIN, vec![line(11)]),
    );
    assert_eq!(push(&s, &dev, &[ev]).await, [EventOutcome::Applied]);
    assert_eq!(level(&s, BIN).await, 11);

    // A count of a location is everything there: what it names no line of was not found.
    stock_up(&s, &mut dev, KETTU, "KO-001", "KO-001", 2, BIN).await;
    let ev = by(
        &mut dev,
        LEAD,
        &counted(Uuid::now_v7(), BIN, vec![line(11)]),
    );
    assert_eq!(push(&s, &dev, &[ev]).await, [EventOutcome::Applied]);
    let rows: Vec<StockRow> = s
        .admin_get(&format!("{}?location={BIN}", paths::STOCK))
        .await;
    let held: Vec<(&str, i64)> = rows
        .iter()
        .map(|r| (r.product_id.as_str(), r.quantity))
        .collect();
    assert_eq!(held, [(PRODUCT, 11)], "KO-001 was not found");
}

#[tokio::test]
async fn a_count_beyond_the_limits_waits_for_a_lead_and_the_approval_keeps_a_pick_in_between() {
    let s = TestServer::seeded();
    let mut dev = s.device().await;
    stock_up(&s, &mut dev, KETTU, PRODUCT, common::KETTU_GTIN, 10, BIN).await;
    let cursor = s.pull(&dev, 0, Some(5000)).await.next_cursor;

    // No limits set: any difference waits for a lead, and the stock is unchanged.
    let count_id = Uuid::now_v7();
    let ev = by(&mut dev, COUNTER, &counted(count_id, BIN, vec![line(4)]));
    assert_eq!(push(&s, &dev, &[ev]).await, [EventOutcome::Applied]);
    assert_eq!(level(&s, BIN).await, 10);
    let pulled = s.pull(&dev, cursor, None).await;
    let pending = pulled
        .changes
        .iter()
        .find_map(|c| match &c.change {
            Change::PendingCount(p) => Some(p.clone()),
            _ => None,
        })
        .expect("the pending count in the pull");
    assert_eq!(pending.count_id, count_id);
    assert_eq!(pending.location, BIN);
    assert_eq!(
        (
            pending.lines[0].counted,
            pending.lines[0].level,
            pending.lines[0].variance
        ),
        (4, 10, -6)
    );
    let x = exceptions(&s).await;
    let waiting = x
        .iter()
        .find(|x| x.kind == "count_needs_approval")
        .expect("an exception for a lead");
    assert!(waiting.message.contains(BIN), "{}", waiting.message);
    assert!(waiting.resolved_by.is_none());

    // The warehouse's matter: a merchant's key does not see it.
    let key = s.merchant_key(KETTU).await;
    let theirs: Vec<ExceptionView> = json_ok(
        s.client
            .get(s.url(paths::EXCEPTIONS))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(!theirs.iter().any(|x| x.kind == "count_needs_approval"));

    // Two units are picked before the lead decides.
    post_order(&s, &key, order_of(KETTU, "K-1", &[(PRODUCT, 2)], 0)).await;
    release(&s, json!({})).await;
    let mut picker = s.device().await;
    let (task, claim) = take_pick_task(&s, &picker).await;
    let evs = pick_all(&mut picker, &task, &claim, "PACK-1");
    assert!(
        push(&s, &picker, &evs)
            .await
            .iter()
            .all(|o| *o == EventOutcome::Applied)
    );
    assert_eq!(level(&s, BIN).await, 8);

    // Only a lead decides.
    let ev = by(&mut dev, COUNTER, &decided(count_id, true));
    rejected_with(&push(&s, &dev, &[ev]).await[0], "not_a_lead");
    assert_eq!(level(&s, BIN).await, 8);

    // The lead approves: exactly the recorded variance is booked, the pick stays booked.
    let cursor = s.pull(&dev, 0, Some(100_000)).await.next_cursor;
    let mut lead_dev = s.device().await;
    let ev = by(&mut lead_dev, LEAD, &decided(count_id, true));
    assert_eq!(push(&s, &lead_dev, &[ev]).await, [EventOutcome::Applied]);
    assert_eq!(level(&s, BIN).await, 4 - 2);
    let pulled = s.pull(&dev, cursor, None).await;
    assert!(pulled.changes.iter().any(|c| matches!(&c.change,
        Change::Removed(r) if r.kind == EntityKind::PendingCount && r.id == count_id.to_string())));
    let x = exceptions(&s).await;
    let resolved = x.iter().find(|x| x.kind == "count_needs_approval").unwrap();
    assert_eq!(resolved.resolved_by.as_deref(), Some(LEAD));

    // Decided once: a second decision changes nothing.
    let ev = by(&mut lead_dev, LEAD, &decided(count_id, true));
    rejected_with(
        &push(&s, &lead_dev, &[ev]).await[0],
        "count_already_decided",
    );
    assert_eq!(level(&s, BIN).await, 2);
}

#[tokio::test]
async fn a_rejected_count_changes_nothing_and_opens_a_recount() {
    let s = TestServer::seeded();
    let mut dev = s.device().await;
    stock_up(&s, &mut dev, KETTU, PRODUCT, common::KETTU_GTIN, 10, BIN).await;
    set_limits(&s, 3).await;

    let count_id = Uuid::now_v7();
    let ev = by(&mut dev, COUNTER, &counted(count_id, BIN, vec![line(5)]));
    assert_eq!(push(&s, &dev, &[ev]).await, [EventOutcome::Applied]);
    assert_eq!(level(&s, BIN).await, 10);

    let ev = by(&mut dev, LEAD, &decided(count_id, false));
    assert_eq!(push(&s, &dev, &[ev]).await, [EventOutcome::Applied]);
    assert_eq!(level(&s, BIN).await, 10);
    let recount: Vec<Task> = tasks(&s)
        .await
        .into_iter()
        .filter(|t| t.kind == TaskKind::Count && t.status == TaskStatus::Open)
        .collect();
    assert_eq!(recount.len(), 1, "{recount:?}");
    assert!(
        recount[0].reason.as_deref().unwrap().contains("recount"),
        "{:?}",
        recount[0].reason
    );
    assert_eq!(recount[0].lines[0].goods.quantity, 0, "blind: no quantity");

    // The recount of the location finishes its task.
    let ev = by(
        &mut dev,
        LEAD,
        &counted(Uuid::now_v7(), BIN, vec![line(10)]),
    );
    assert_eq!(push(&s, &dev, &[ev]).await, [EventOutcome::Applied]);
    let after: Vec<Task> = tasks(&s).await;
    let t = after
        .iter()
        .find(|t| t.task_id == recount[0].task_id)
        .unwrap();
    assert_eq!(t.status, TaskStatus::Done);
}

#[tokio::test]
async fn a_leads_own_count_is_booked_at_once() {
    let s = TestServer::seeded();
    let mut dev = s.device().await;
    stock_up(&s, &mut dev, KETTU, PRODUCT, common::KETTU_GTIN, 10, BIN).await;
    // "Location empty": a count with no lines.
    let ev = by(&mut dev, LEAD, &counted(Uuid::now_v7(), BIN, vec![]));
    assert_eq!(push(&s, &dev, &[ev]).await, [EventOutcome::Applied]);
    assert_eq!(level(&s, BIN).await, 0);
    // Found where the server had nothing: booked in.
    let ev = by(
        &mut dev,
        LEAD,
        &counted(Uuid::now_v7(), OTHER_BIN, vec![line(3)]),
    );
    assert_eq!(push(&s, &dev, &[ev]).await, [EventOutcome::Applied]);
    assert_eq!(level(&s, OTHER_BIN).await, 3);
}

#[tokio::test]
async fn a_plan_makes_count_tasks_once_and_only_the_warehouse_plans() {
    let s = TestServer::seeded();
    let mut dev = s.device().await;
    stock_up(&s, &mut dev, KETTU, PRODUCT, common::KETTU_GTIN, 10, BIN).await;
    stock_up(
        &s,
        &mut dev,
        KETTU,
        PRODUCT,
        common::KETTU_GTIN,
        4,
        OTHER_BIN,
    )
    .await;

    let plan = json!({"zone": KETTU, "aisle": 1});
    let first: CountPlanSummary = json_ok(s.admin_post(paths::COUNT_PLANS, &plan).await).await;
    assert_eq!(first.created.len(), 2, "{first:?}");
    let again: CountPlanSummary = json_ok(s.admin_post(paths::COUNT_PLANS, &plan).await).await;
    assert!(again.created.is_empty(), "{again:?}");
    assert_eq!(again.already_open, [BIN, OTHER_BIN]);
    let open: Vec<Task> = tasks(&s)
        .await
        .into_iter()
        .filter(|t| t.kind == TaskKind::Count)
        .collect();
    assert_eq!(open.len(), 2);
    assert!(
        open.iter()
            .all(|t| t.lines.iter().all(|l| l.goods.quantity == 0))
    );

    // Another aisle has nothing to count; a merchant's key may not plan.
    let none: CountPlanSummary = json_ok(
        s.admin_post(paths::COUNT_PLANS, &json!({"zone": KETTU, "aisle": 3}))
            .await,
    )
    .await;
    assert!(none.created.is_empty());
    let key = s.merchant_key(KETTU).await;
    let resp = s
        .client
        .post(s.url(paths::COUNT_PLANS))
        .bearer_auth(&key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    api_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    let bad = s
        .admin_post(paths::COUNT_PLANS, &json!({"zone": 7, "shelf": "x"}))
        .await;
    api_error(bad, StatusCode::BAD_REQUEST, "bad_request").await;

    // A device leases a planned count and counts it under its lease: the task is done.
    let task = open
        .iter()
        .find(|t| t.lines[0].goods.from.as_ref().unwrap().location == BIN);
    let task = task.unwrap();
    let lease: LeaseResponse = json_ok(
        s.device_post(
            &dev,
            paths::LEASE,
            &LeaseRequest {
                task_id: Some(task.task_id.clone()),
                kind: None,
            },
        )
        .await,
    )
    .await;
    let claim = TaskClaim {
        task_id: task.task_id.clone(),
        token: lease.packet.lease.token,
    };
    let body = EventBody::LocationCounted {
        count_id: Uuid::now_v7(),
        task: Some(claim),
        location: BIN.into(),
        lines: vec![line(10)],
    };
    let ev = by(&mut dev, COUNTER, &body);
    assert_eq!(push(&s, &dev, &[ev]).await, [EventOutcome::Applied]);
    let t = tasks(&s).await;
    let t = t.iter().find(|t| t.task_id == task.task_id).unwrap();
    assert_eq!(t.status, TaskStatus::Done);
}

#[tokio::test]
async fn stock_under_a_count_stays_pickable() {
    let s = TestServer::seeded();
    let mut dev = s.device().await;
    stock_up(&s, &mut dev, KETTU, PRODUCT, common::KETTU_GTIN, 5, BIN).await;
    let plan: CountPlanSummary = json_ok(
        s.admin_post(paths::COUNT_PLANS, &json!({"merchant_id": KETTU}))
            .await,
    )
    .await;
    assert_eq!(plan.created.len(), 1);

    let key = s.merchant_key(KETTU).await;
    post_order(&s, &key, order_of(KETTU, "K-2", &[(PRODUCT, 3)], 0)).await;
    release(&s, json!({})).await;
    let (task, _) = take_pick_task(&s, &dev).await;
    assert_eq!(task.kind, TaskKind::Pick);
    let from = task.lines[0].goods.from.as_ref().unwrap();
    assert_eq!(
        (from.location.as_str(), task.lines[0].goods.quantity),
        (BIN, 3)
    );
}

#[tokio::test]
async fn under_a_stale_lease_the_count_is_booked_but_its_task_is_not_finished() {
    let s = TestServer::seeded();
    let mut dev = s.device().await;
    stock_up(&s, &mut dev, KETTU, PRODUCT, common::KETTU_GTIN, 10, BIN).await;
    let plan: CountPlanSummary = json_ok(
        s.admin_post(paths::COUNT_PLANS, &json!({"merchant_id": KETTU}))
            .await,
    )
    .await;
    let task_id = plan.created[0].clone();
    let lease: LeaseResponse = json_ok(
        s.device_post(
            &dev,
            paths::LEASE,
            &LeaseRequest {
                task_id: Some(task_id.clone()),
                kind: None,
            },
        )
        .await,
    )
    .await;
    let stale = TaskClaim {
        task_id: task_id.clone(),
        token: lease.packet.lease.token + 1,
    };
    let body = EventBody::LocationCounted {
        count_id: Uuid::now_v7(),
        task: Some(stale),
        location: BIN.into(),
        lines: vec![line(7)],
    };
    let ev = by(&mut dev, LEAD, &body);
    let outcome = push(&s, &dev, &[ev]).await;
    assert!(
        matches!(&outcome[0], EventOutcome::Partial { code, .. } if code == "task_taken"),
        "{outcome:?}"
    );
    assert_eq!(level(&s, BIN).await, 7, "what was found is booked");
    let t = tasks(&s).await;
    let t = t.iter().find(|t| t.task_id == task_id).unwrap();
    assert_eq!(t.status, TaskStatus::Leased, "the task goes on");
}

#[tokio::test]
async fn hostile_counts_are_refused_with_what_to_do_and_the_queue_goes_on() {
    let s = TestServer::seeded();
    let mut dev = s.device().await;
    stock_up(&s, &mut dev, KETTU, PRODUCT, common::KETTU_GTIN, 10, BIN).await;
    let mut other = line(1);
    other.product_id = "NP-001".into();
    let mut bad_expiry = line(1);
    bad_expiry.expiry = Some("31.1.2027".into());
    let twice = Uuid::now_v7();
    let cases: Vec<(EventBody, &str)> = vec![
        (
            counted(Uuid::now_v7(), BIN, vec![line(-3)]),
            "negative_count",
        ),
        (
            counted(Uuid::now_v7(), "NOWHERE-9", vec![line(1)]),
            "unknown_location",
        ),
        (
            counted(Uuid::now_v7(), "DOCK-1", vec![line(1)]),
            "not_countable",
        ),
        (
            counted(Uuid::now_v7(), BIN, vec![other]),
            "product_of_other_merchant",
        ),
        (counted(Uuid::now_v7(), BIN, vec![bad_expiry]), "bad_expiry"),
        (
            counted(Uuid::now_v7(), BIN, vec![line(1), line(2)]),
            "duplicate_count_line",
        ),
        (
            counted(Uuid::now_v7(), BIN, vec![line(i64::MAX)]),
            "quantity_too_large",
        ),
        (decided(Uuid::now_v7(), true), "unknown_count"),
    ];
    for (body, code) in &cases {
        let ev = by(&mut dev, LEAD, body);
        rejected_with(&push(&s, &dev, &[ev]).await[0], code);
    }
    assert_eq!(level(&s, BIN).await, 10, "nothing was booked");
    // A count id used twice: the second is refused, in one batch or two.
    let evs = [
        by(&mut dev, LEAD, &counted(twice, BIN, vec![line(9)])),
        by(&mut dev, LEAD, &counted(twice, BIN, vec![line(1)])),
    ];
    let outcomes = push(&s, &dev, &evs).await;
    assert_eq!(outcomes[0], EventOutcome::Applied);
    rejected_with(&outcomes[1], "count_already_recorded");
    assert_eq!(level(&s, BIN).await, 9);
    // A payload that is not a count at all.
    let mut ev = by(&mut dev, LEAD, &decided(Uuid::now_v7(), true));
    ev.payload = json!({"count_id": "not-a-uuid", "approve": "yes"});
    rejected_with(&push(&s, &dev, &[ev]).await[0], "bad_payload");
}

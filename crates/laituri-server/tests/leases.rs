//! Task leases end to end, with the server's clock moved by hand: grant, a second device refused
//! with `task_taken`, renewal, expiry and takeover with a higher token, release, and a stale
//! token's putaway answered Partial with its goods moved. Also the operator tombstone.

mod common;

use std::time::Duration;

use common::{Device, TestServer, api_error, json_ok};
use laituri_protocol::{
    Change, EntityKind, EventBody, EventOutcome, GoodsCondition, LeaseRequest, LeaseResponse,
    Place, PushResponse, ReleaseRequest, RenewRequest, RenewResponse, StockMove, StockRow, Task,
    TaskClaim, TaskKind, TaskStatus, paths,
};
use laituri_server::clock::Clock;
use laituri_server::tasks::LEASE_DURATION;
use reqwest::StatusCode;
use uuid::Uuid;

const MERCHANT: &str = "kettu-outdoor";
const TOTE: &str = "T-0077";
const T0: i64 = 1_800_000_000_000;

async fn receive_and_close(s: &TestServer, dev: &mut Device, qty: i64) {
    let r = Uuid::now_v7();
    let evs = [
        dev.event(&EventBody::ReceiptOpened {
            receipt_id: r,
            merchant_id: MERCHANT.into(),
            notice_id: None,
            dock: "DOCK-1".into(),
        }),
        dev.event(&EventBody::GoodsReceived {
            receipt_id: r,
            merchant_id: MERCHANT.into(),
            product_id: "KO-006".into(),
            quantity: qty,
            lot: None,
            expiry: None,
            serial: None,
            container: TOTE.into(),
            location: "DOCK-1".into(),
            condition: GoodsCondition::Good,
            barcode: "6498765000068".into(),
        }),
        dev.event(&EventBody::ReceiptClosed {
            receipt_id: r,
            notice_id: None,
            lines: vec![],
        }),
    ];
    let resp: PushResponse = json_ok(s.push(dev, &evs).await).await;
    assert!(
        resp.results
            .iter()
            .all(|x| x.outcome == EventOutcome::Applied)
    );
}

fn by_kind() -> LeaseRequest {
    LeaseRequest {
        task_id: None,
        kind: Some(TaskKind::Putaway),
    }
}

fn by_id(id: &str) -> LeaseRequest {
    LeaseRequest {
        task_id: Some(id.into()),
        kind: None,
    }
}

fn put(qty: i64, claim: TaskClaim) -> EventBody {
    EventBody::PutAway {
        container: TOTE.into(),
        task: Some(claim),
        suggested: None,
        override_reason: None,
        moves: vec![StockMove {
            merchant_id: MERCHANT.into(),
            product_id: "KO-006".into(),
            quantity: qty,
            lot: None,
            expiry: None,
            serial: None,
            condition: GoodsCondition::Good,
            from: Some(Place::in_container("DOCK-1", TOTE)),
            to: Some(Place::at("B-01-03-1")),
            reason: None,
        }],
    }
}

#[tokio::test]
async fn leases_grant_refuse_renew_expire_take_over_and_fence_stale_events() {
    let clock = Clock::manual(T0);
    let s = TestServer::seeded_with_clock(clock.clone());
    let mut a = s.device().await;
    let b = s.device().await;
    receive_and_close(&s, &mut a, 4).await;
    let start_b = s.pull(&b, 0, Some(5000)).await.next_cursor;

    // A leases the next putaway task and gets everything for offline work.
    let got: LeaseResponse = json_ok(s.device_post(&a, paths::LEASE, &by_kind()).await).await;
    let p = got.packet;
    let id = p.task.task_id.clone();
    assert_eq!(p.task.status, TaskStatus::Leased);
    assert_eq!(p.task.leased_to, Some(a.id));
    assert_eq!(p.task.container.as_deref(), Some(TOTE));
    assert_eq!(p.lease.token, 1);
    assert_eq!(
        p.lease.expires_at_ms,
        T0 + LEASE_DURATION.as_millis() as i64
    );
    assert_eq!(p.merchant.id, MERCHANT);
    assert_eq!(p.products.len(), 1);
    assert!(!p.products[0].barcodes.is_empty());
    assert!(!p.locations.is_empty());
    assert!(
        p.locations
            .iter()
            .all(|l| p.merchant.zones.contains(&l.zone))
    );
    assert!(
        p.locations
            .windows(2)
            .all(|w| w[0].walk_order <= w[1].walk_order)
    );

    // B may not take it while A's lease runs.
    let resp = s.device_post(&b, paths::LEASE, &by_id(&id)).await;
    api_error(resp, StatusCode::CONFLICT, "task_taken").await;
    let resp = s.device_post(&b, paths::LEASE, &by_kind()).await;
    api_error(resp, StatusCode::NOT_FOUND, "no_task").await;

    // The work packet goes to A only; the task's state to everyone.
    let pulled_b = s.pull(&b, start_b, None).await;
    assert!(
        !pulled_b
            .changes
            .iter()
            .any(|c| matches!(c.change, Change::WorkPacket(_)))
    );
    assert!(pulled_b.changes.iter().any(
        |c| matches!(&c.change, Change::Task(t) if t.task_id == id && t.status == TaskStatus::Leased)
    ));
    let pulled_a = s.pull(&a, start_b, None).await;
    assert!(
        pulled_a
            .changes
            .iter()
            .any(|c| matches!(&c.change, Change::WorkPacket(w) if w.task.task_id == id))
    );

    // Renewing in time moves the expiry on.
    clock.advance(Duration::from_secs(5 * 60));
    let claim_a = TaskClaim {
        task_id: id.clone(),
        token: 1,
    };
    let renew = RenewRequest {
        leases: vec![claim_a.clone()],
    };
    let r: RenewResponse = json_ok(s.device_post(&a, paths::RENEW, &renew).await).await;
    assert_eq!(r.renewed.len(), 1);
    assert_eq!(
        r.renewed[0].expires_at_ms,
        clock.now_ms() + LEASE_DURATION.as_millis() as i64
    );

    // A goes quiet; after expiry B takes the task over with a higher token.
    clock.advance(LEASE_DURATION + Duration::from_secs(1));
    let before_takeover = s.pull(&a, 0, Some(5000)).await.next_cursor;
    let got: LeaseResponse = json_ok(s.device_post(&b, paths::LEASE, &by_id(&id)).await).await;
    assert_eq!(got.packet.lease.token, 2);
    assert_eq!(got.packet.task.leased_to, Some(b.id));
    let told_a = s.pull(&a, before_takeover, None).await;
    assert!(told_a.changes.iter().any(|c| matches!(
        &c.change,
        Change::Removed(r) if r.kind == EntityKind::WorkPacket && r.id == id
    )));
    let r: RenewResponse = json_ok(s.device_post(&a, paths::RENEW, &renew).await).await;
    assert!(r.renewed.is_empty());
    assert_eq!(r.lost[0].reason, "taken");

    // A, offline, put goods away under its old token: the goods move, the progress does not.
    let ev = a.event(&put(3, claim_a.clone()));
    let resp: PushResponse = json_ok(s.push(&a, &[ev]).await).await;
    match &resp.results[0].outcome {
        EventOutcome::Partial { code, reason } => {
            assert_eq!(code, "task_taken");
            assert!(reason.contains("lease new work"), "{reason}");
        }
        other => panic!("expected Partial, got {other:?}"),
    }
    let bin: Vec<StockRow> = s
        .admin_get(&format!("{}?location=B-01-03-1", paths::STOCK))
        .await;
    assert_eq!(bin[0].quantity, 3);
    let ev = a.event(&EventBody::PutawayFinished {
        container: TOTE.into(),
        task: Some(claim_a.clone()),
    });
    let resp: PushResponse = json_ok(s.push(&a, &[ev]).await).await;
    assert!(
        matches!(&resp.results[0].outcome, EventOutcome::Partial { code, .. } if code == "task_taken")
    );
    let tasks: Vec<Task> = s.admin_get(paths::TASKS).await;
    let t = tasks.iter().find(|t| t.task_id == id).unwrap();
    assert_eq!((t.status, t.leased_to), (TaskStatus::Leased, Some(b.id)));
    let exceptions: Vec<laituri_protocol::ExceptionView> = s.admin_get(paths::EXCEPTIONS).await;
    assert!(
        exceptions
            .iter()
            .any(|x| x.kind == "task_taken" && x.device_id == a.id)
    );

    // A's release of a lease it lost changes nothing; B's release gives the task back.
    let release_a = ReleaseRequest { claim: claim_a };
    let resp = s.device_post(&a, paths::RELEASE, &release_a).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let claim_b = TaskClaim {
        task_id: id.clone(),
        token: 2,
    };
    let before_release = s.pull(&b, 0, Some(5000)).await.next_cursor;
    let resp = s
        .device_post(
            &b,
            paths::RELEASE,
            &ReleaseRequest {
                claim: claim_b.clone(),
            },
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let told_b = s.pull(&b, before_release, None).await;
    assert!(told_b.changes.iter().any(|c| matches!(
        &c.change,
        Change::Removed(r) if r.kind == EntityKind::WorkPacket && r.id == id
    )));
    let tasks: Vec<Task> = s.admin_get(paths::TASKS).await;
    assert_eq!(
        tasks.iter().find(|t| t.task_id == id).unwrap().status,
        TaskStatus::Open
    );
    let r: RenewResponse = json_ok(
        s.device_post(
            &b,
            paths::RENEW,
            &RenewRequest {
                leases: vec![claim_b],
            },
        )
        .await,
    )
    .await;
    assert_eq!(r.lost[0].reason, "released");

    // Leased again, it gets a token above every earlier one; finishing under it closes it.
    let got: LeaseResponse = json_ok(s.device_post(&a, paths::LEASE, &by_id(&id)).await).await;
    assert_eq!(got.packet.lease.token, 3);
    let claim = TaskClaim {
        task_id: id.clone(),
        token: 3,
    };
    let evs = [
        a.event(&put(1, claim.clone())),
        a.event(&EventBody::PutawayFinished {
            container: TOTE.into(),
            task: Some(claim),
        }),
    ];
    let resp: PushResponse = json_ok(s.push(&a, &evs).await).await;
    assert!(
        resp.results
            .iter()
            .all(|x| x.outcome == EventOutcome::Applied),
        "{resp:?}"
    );
    let tasks: Vec<Task> = s.admin_get(paths::TASKS).await;
    assert_eq!(
        tasks.iter().find(|t| t.task_id == id).unwrap().status,
        TaskStatus::Done
    );
    let resp = s.device_post(&b, paths::LEASE, &by_id(&id)).await;
    api_error(resp, StatusCode::CONFLICT, "task_finished").await;
}

#[tokio::test]
async fn a_lease_renewed_after_expiry_while_nobody_took_the_task_is_renewed() {
    let clock = Clock::manual(T0);
    let s = TestServer::seeded_with_clock(clock.clone());
    let mut a = s.device().await;
    receive_and_close(&s, &mut a, 2).await;
    let got: LeaseResponse = json_ok(s.device_post(&a, paths::LEASE, &by_kind()).await).await;
    clock.advance(LEASE_DURATION);
    let renew = RenewRequest {
        leases: vec![TaskClaim {
            task_id: got.packet.task.task_id.clone(),
            token: got.packet.lease.token,
        }],
    };
    // The holder was out of reach for the whole lease; nobody took the task meanwhile.
    let r: RenewResponse = json_ok(s.device_post(&a, paths::RENEW, &renew).await).await;
    assert!(r.lost.is_empty(), "{r:?}");
    assert_eq!(r.renewed[0].token, got.packet.lease.token);
    assert_eq!(
        r.renewed[0].expires_at_ms,
        T0 + 2 * LEASE_DURATION.as_millis() as i64
    );
    let tasks: Vec<Task> = s.admin_get(paths::TASKS).await;
    assert_eq!(tasks[0].status, TaskStatus::Leased);
    // Expired again, another device takes it over: then the first one's renewal is lost.
    clock.advance(LEASE_DURATION);
    let b = s.device().await;
    let taken: LeaseResponse = json_ok(
        s.device_post(&b, paths::LEASE, &by_id(&got.packet.task.task_id))
            .await,
    )
    .await;
    assert!(taken.packet.lease.token > got.packet.lease.token);
    let r: RenewResponse = json_ok(s.device_post(&a, paths::RENEW, &renew).await).await;
    assert_eq!(r.lost[0].reason, "taken");
    // Bad requests say what to send.
    let empty = LeaseRequest {
        task_id: None,
        kind: None,
    };
    api_error(
        s.device_post(&a, paths::LEASE, &empty).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
    api_error(
        s.device_post(&a, paths::LEASE, &by_id("NO-SUCH-TASK"))
            .await,
        StatusCode::NOT_FOUND,
        "unknown_task",
    )
    .await;
}

#[tokio::test]
async fn a_deactivated_operator_is_a_tombstone_in_the_pull() {
    let s = TestServer::seeded();
    let dev = s.device().await;
    let start = s.pull(&dev, 0, Some(5000)).await.next_cursor;
    let ops: Vec<laituri_protocol::Operator> = s.admin_get(paths::OPERATORS).await;
    let gone = ops[0].id.clone();
    let url = s.url(&format!("{}/{gone}", paths::OPERATORS));
    let resp = s
        .client
        .delete(&url)
        .bearer_auth(common::ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let after = s.pull(&dev, start, None).await;
    assert!(after.changes.iter().any(|c| matches!(
        &c.change,
        Change::Removed(r) if r.kind == EntityKind::Operator && r.id == gone
    )));
    let ops: Vec<laituri_protocol::Operator> = s.admin_get(paths::OPERATORS).await;
    assert!(ops.iter().all(|o| o.id != gone));
    // Again: not found, with what to do.
    let resp = s
        .client
        .delete(&url)
        .bearer_auth(common::ADMIN)
        .send()
        .await
        .unwrap();
    api_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    // Without the admin key: refused.
    let resp = s.client.delete(&url).send().await.unwrap();
    api_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

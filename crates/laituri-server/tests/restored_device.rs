//! A terminal database restored from a backup, as the server sees it: the device keeps its id but
//! not its history. The push that reuses a seq for another event is answered `diverged_at` and
//! applies nothing from there on; the device continues under a new id with its current token
//! (retired afterwards, a retry after a lost answer still works); the same events under the new
//! id are applied once, and events already applied are still known by their id. Leases pass to
//! the new device with their tokens.

mod common;

use common::{Device, TestServer, api_error, json_ok};
use laituri_protocol::{
    ContinueRequest, ContinueResponse, Event, EventBody, EventOutcome, ExceptionView,
    GoodsCondition, LeaseRequest, LeaseResponse, PROTOCOL_HEADER, PROTOCOL_VERSION, Place,
    PushResponse, RenewRequest, RenewResponse, StockMove, StockRow, Task, TaskClaim, TaskKind,
    TaskStatus, paths,
};
use laituri_server::clock::Clock;
use reqwest::StatusCode;
use uuid::Uuid;

const MERCHANT: &str = "kettu-outdoor";
const TOTE: &str = "T-0088";

fn opened(receipt: Uuid) -> EventBody {
    common::receipt_opened(receipt)
}

fn goods(receipt: Uuid, qty: i64) -> EventBody {
    common::goods_received(receipt, qty, TOTE)
}

fn closed(receipt: Uuid) -> EventBody {
    common::receipt_closed(receipt)
}

async fn stock_of_tote(s: &TestServer) -> i64 {
    let rows: Vec<StockRow> = s
        .admin_get(&format!("{}?product_id=KO-006", paths::STOCK))
        .await;
    rows.iter()
        .filter(|r| r.container.as_deref() == Some(TOTE))
        .map(|r| r.quantity)
        .sum()
}

async fn continue_as(s: &TestServer, token: Option<&str>, new_id: Uuid) -> reqwest::Response {
    let mut req = s
        .client
        .post(s.url(paths::CONTINUE))
        .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string());
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.json(&ContinueRequest {
        device_id: new_id,
        device_name: "restored scanner".into(),
        protocol_version: PROTOCOL_VERSION,
    })
    .send()
    .await
    .unwrap()
}

/// `events` as the device `to` sends them, from seq 1: the terminal's renumbering.
fn renumbered(events: &[Event], to: Uuid) -> Vec<Event> {
    events
        .iter()
        .enumerate()
        .map(|(i, e)| Event {
            device_id: to,
            seq: i as u64 + 1,
            ..e.clone()
        })
        .collect()
}

fn codes(resp: &PushResponse) -> Vec<String> {
    resp.results
        .iter()
        .map(|r| match &r.outcome {
            EventOutcome::Applied => "applied".to_string(),
            EventOutcome::Duplicate { .. } => "duplicate".to_string(),
            EventOutcome::Rejected { code, .. } | EventOutcome::Partial { code, .. } => {
                code.clone()
            }
        })
        .collect()
}

#[tokio::test]
async fn a_restored_device_diverges_continues_under_a_new_id_and_loses_nothing() {
    let s = TestServer::seeded();
    let mut d = s.device().await;
    let receipt = Uuid::now_v7();

    // Before the restore: a receipt with 5 + 3 units. The backup was taken after seq 1.
    let first = [
        d.event(&opened(receipt)),
        d.event(&goods(receipt, 5)),
        d.event(&goods(receipt, 3)),
    ];
    let resp: PushResponse = json_ok(s.push(&d, &first).await).await;
    assert_eq!(codes(&resp), ["applied"; 3]);
    assert_eq!(stock_of_tote(&s).await, 8);

    // The restored database holds seq 1 and goes on with other events from seq 2: 7 and 2 units
    // and the close, one more event than the server has.
    d.next_seq = 2;
    let after_restore = vec![
        d.event(&goods(receipt, 7)),
        d.event(&goods(receipt, 2)),
        d.event(&closed(receipt)),
    ];
    let mut batch = vec![first[0].clone()];
    batch.extend(after_restore.iter().cloned());
    let resp: PushResponse = json_ok(s.push(&d, &batch).await).await;
    assert_eq!(resp.diverged_at, Some(2), "{resp:?}");
    assert_eq!(
        codes(&resp),
        ["duplicate", "seq_conflict", "seq_conflict", "seq_conflict"]
    );
    assert_eq!(
        stock_of_tote(&s).await,
        8,
        "nothing of the other history applied"
    );
    let exceptions: Vec<ExceptionView> = s.admin_get(paths::EXCEPTIONS).await;
    assert!(
        exceptions.is_empty(),
        "a divergence is no exception: {exceptions:?}"
    );

    // The device continues under a new id, proven by its token.
    let new_id = Uuid::now_v7();
    let cont: ContinueResponse = json_ok(continue_as(&s, Some(&d.token), new_id).await).await;
    assert_eq!(
        (cont.device_id, cont.continues, cont.last_seq),
        (new_id, d.id, 0)
    );
    assert_ne!(cont.token, d.token);

    // The old id is retired: its token pushes nothing, and it cannot be enrolled again.
    let refused = s.push(&d, &batch).await;
    api_error(refused, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let again = s
        .enrol_with(laituri_server::demo::ENROLMENT_CODE, d.id)
        .await;
    api_error(again, StatusCode::CONFLICT, "device_continued").await;

    // The answer was lost: asking again with the old token answers the same device with a new
    // token, and the first one stops working. Another new id for the same device is refused.
    let retry: ContinueResponse = json_ok(continue_as(&s, Some(&d.token), new_id).await).await;
    assert_eq!(
        (retry.device_id, retry.continues, retry.last_seq),
        (new_id, d.id, 0)
    );
    let lost_answer = Device {
        id: new_id,
        token: cont.token.clone(),
        next_seq: 1,
    };
    api_error(
        s.push(&lost_answer, &renumbered(&after_restore, new_id))
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    let other = continue_as(&s, Some(&d.token), Uuid::now_v7()).await;
    api_error(other, StatusCode::CONFLICT, "device_continued").await;

    // Under the new id the other history's events are applied, once.
    let n = Device {
        id: new_id,
        token: retry.token,
        next_seq: 1,
    };
    let sent = renumbered(&after_restore, new_id);
    let resp: PushResponse = json_ok(s.push(&n, &sent).await).await;
    assert_eq!(codes(&resp), ["applied"; 3]);
    assert_eq!(resp.diverged_at, None);
    assert_eq!(stock_of_tote(&s).await, 8 + 7 + 2);
    let resp: PushResponse = json_ok(s.push(&n, &sent).await).await;
    assert_eq!(codes(&resp), ["duplicate"; 3]);

    // An event the old device had applied, sent again under the new id, is known by its id.
    let mut known = renumbered(&first[1..2], new_id);
    known[0].seq = 4;
    let resp: PushResponse = json_ok(s.push(&n, &known).await).await;
    assert_eq!(codes(&resp), ["duplicate_event_id"]);
    assert_eq!(stock_of_tote(&s).await, 17, "nothing applied twice");

    // The shift lead sees which device goes on for which, and no token.
    let resp = s
        .admin(reqwest::Method::GET, paths::DEVICES)
        .send()
        .await
        .unwrap();
    let text = resp.text().await.unwrap();
    assert!(
        !text.contains(&n.token) && !text.contains(&d.token),
        "{text}"
    );
    let devices: Vec<laituri_protocol::DeviceView> = serde_json::from_str(&text).unwrap();
    let old = devices.iter().find(|v| v.device_id == d.id).unwrap();
    let new = devices.iter().find(|v| v.device_id == new_id).unwrap();
    assert_eq!(
        (old.continued_by, new.continues),
        (Some(new_id), Some(d.id))
    );
    assert!(old.continued_at.is_some() && new.continued_at.is_none());
    assert_eq!((old.last_seq, new.last_seq), (3, 4));
}

#[tokio::test]
async fn leases_pass_to_the_new_device_with_their_tokens() {
    let s = TestServer::seeded_with_clock(Clock::manual(1_800_000_000_000));
    let mut d = s.device().await;
    let receipt = Uuid::now_v7();
    let evs = [
        d.event(&opened(receipt)),
        d.event(&goods(receipt, 4)),
        d.event(&closed(receipt)),
    ];
    let resp: PushResponse = json_ok(s.push(&d, &evs).await).await;
    assert_eq!(codes(&resp), ["applied"; 3]);
    let lease = LeaseRequest {
        task_id: None,
        kind: Some(TaskKind::Putaway),
    };
    let got: LeaseResponse = json_ok(s.device_post(&d, paths::LEASE, &lease).await).await;
    let claim = TaskClaim {
        task_id: got.packet.task.task_id.clone(),
        token: got.packet.lease.token,
    };

    let new_id = Uuid::now_v7();
    let cont: ContinueResponse = json_ok(continue_as(&s, Some(&d.token), new_id).await).await;
    let mut n = Device {
        id: new_id,
        token: cont.token,
        next_seq: 1,
    };
    let renew = RenewRequest {
        leases: vec![claim.clone()],
    };
    let r: RenewResponse = json_ok(s.device_post(&n, paths::RENEW, &renew).await).await;
    assert_eq!(r.renewed.len(), 1, "{r:?}");
    assert!(r.lost.is_empty(), "{r:?}");
    let resp = s.device_post(&d, paths::RENEW, &renew).await;
    api_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let tasks: Vec<Task> = s.admin_get(paths::TASKS).await;
    let task = tasks.iter().find(|t| t.task_id == claim.task_id).unwrap();
    assert_eq!(
        (task.status, task.leased_to),
        (TaskStatus::Leased, Some(new_id))
    );

    // Work done under the lease by the restored terminal counts in full under its new id.
    let put = n.event(&EventBody::PutAway {
        container: TOTE.into(),
        task: Some(claim),
        suggested: None,
        override_reason: None,
        moves: vec![StockMove {
            merchant_id: MERCHANT.into(),
            product_id: "KO-006".into(),
            quantity: 4,
            lot: None,
            expiry: None,
            serial: None,
            condition: GoodsCondition::Good,
            from: Some(Place::in_container("DOCK-1", TOTE)),
            to: Some(Place::at("B-01-03-1")),
            reason: None,
        }],
    });
    let resp: PushResponse = json_ok(s.push(&n, &[put]).await).await;
    assert_eq!(codes(&resp), ["applied"]);
}

#[tokio::test]
async fn continuing_needs_the_current_token_and_a_new_id() {
    let s = TestServer::seeded();
    let d = s.device().await;
    let e = s.device().await;
    api_error(
        continue_as(&s, None, Uuid::now_v7()).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    api_error(
        continue_as(&s, Some("not-a-token"), Uuid::now_v7()).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    api_error(
        continue_as(&s, Some(&d.token), d.id).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
    api_error(
        continue_as(&s, Some(&d.token), e.id).await,
        StatusCode::CONFLICT,
        "device_exists",
    )
    .await;
    // None of these retired the device.
    let resp: PushResponse = json_ok(s.push(&d, &[]).await).await;
    assert_eq!(resp.acked_through, 0);
}

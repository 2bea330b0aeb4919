//! The device API end to end: enrolment, authentication, push (applied, duplicate, gap,
//! rejected) and pull paging, against a real server with a temporary database.

mod common;

use common::{TestServer, api_error, json_ok};
use laituri_protocol::{
    EventBody, EventOutcome, ExceptionView, GoodsCondition, PROTOCOL_HEADER, PushResponse,
    StockRow, paths,
};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

fn opened(receipt: Uuid) -> EventBody {
    EventBody::ReceiptOpened {
        receipt_id: receipt,
        merchant_id: "kettu-outdoor".into(),
        notice_id: None,
        dock: "DOCK-1".into(),
    }
}

fn goods(receipt: Uuid, qty: i64, location: &str) -> EventBody {
    EventBody::GoodsReceived {
        receipt_id: receipt,
        merchant_id: "kettu-outdoor".into(),
        product_id: "KO-006".into(),
        quantity: qty,
        lot: None,
        expiry: None,
        serial: None,
        container: "T-0001".into(),
        location: location.into(),
        condition: GoodsCondition::Good,
        barcode: "6498765000068".into(),
    }
}

async fn stock_of(s: &TestServer, product: &str) -> i64 {
    let rows: Vec<StockRow> = s
        .admin_get(&format!("{}?product_id={product}", paths::STOCK))
        .await;
    rows.iter().map(|r| r.quantity).sum()
}

#[tokio::test]
async fn enrolment_good_code_bad_code_and_re_enrolment() {
    let s = TestServer::seeded();
    let id = Uuid::now_v7();

    let bad = s.enrol_with("NOT-A-CODE", id).await;
    api_error(bad, StatusCode::UNAUTHORIZED, "bad_enrolment_code").await;

    let first: laituri_protocol::EnrolResponse =
        json_ok(s.enrol_with(" DEMO-ENROL ", id).await).await;
    assert_eq!(first.last_seq, 0);
    assert_eq!(first.warehouse_id, "WH-DEMO");
    assert!(first.token.len() >= 32);

    // Push two events, then re-enrol: the server answers the recorded last_seq.
    let mut dev = common::Device {
        id,
        token: first.token.clone(),
        next_seq: 1,
    };
    let r = Uuid::now_v7();
    let evs = [dev.event(&opened(r)), dev.event(&goods(r, 1, "DOCK-1"))];
    let _: PushResponse = json_ok(s.push(&dev, &evs).await).await;

    let again: laituri_protocol::EnrolResponse =
        json_ok(s.enrol_with("DEMO-ENROL", id).await).await;
    assert_eq!(again.last_seq, 2);
    assert_ne!(again.token, first.token);

    // The old token was replaced; the new one works.
    let resp = s.push(&dev, &[]).await;
    api_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    dev.token = again.token;
    let ok: PushResponse = json_ok(s.push(&dev, &[]).await).await;
    assert_eq!(ok.acked_through, 2);

    // A code made through the admin API for two devices enrols two.
    let made: laituri_protocol::NewEnrolmentCode = json_ok(
        s.admin_post(paths::ENROLMENT_CODES, &json!({"uses": 2}))
            .await,
    )
    .await;
    for _ in 0..2 {
        let _: laituri_protocol::EnrolResponse =
            json_ok(s.enrol_with(&made.code, Uuid::now_v7()).await).await;
    }
}

#[tokio::test]
async fn device_calls_refuse_bad_auth_and_other_protocol_versions() {
    let s = TestServer::seeded();
    let dev = s.device().await;
    let other = s.device().await;
    let push_body = json!({"device_id": dev.id, "events": []});

    // (what, token, protocol header, body device, expected status, code)
    type Case<'a> = (
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Uuid,
        StatusCode,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "no token",
            None,
            None,
            dev.id,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            "bad token",
            Some("nope"),
            None,
            dev.id,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            "admin key is not a device token",
            Some(common::ADMIN),
            None,
            dev.id,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            "another device's token",
            Some(other.token.as_str()),
            None,
            dev.id,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            "newer protocol",
            Some(dev.token.as_str()),
            Some("999"),
            dev.id,
            StatusCode::UPGRADE_REQUIRED,
            "protocol_version",
        ),
        (
            "garbled protocol",
            Some(dev.token.as_str()),
            Some("v1"),
            dev.id,
            StatusCode::UPGRADE_REQUIRED,
            "protocol_version",
        ),
    ];
    for (what, token, proto, body_device, status, code) in cases {
        let mut body = push_body.clone();
        body["device_id"] = json!(body_device);
        let mut req = s.client.post(s.url(paths::PUSH)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(p) = proto {
            req = req.header(PROTOCOL_HEADER, p);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), status, "{what}");
        api_error(resp, status, code).await;
    }

    // Pull needs a token too; a missing protocol header is taken as the current version.
    let resp = s
        .client
        .get(s.url(&format!("{}?cursor=0", paths::PULL)))
        .send()
        .await
        .unwrap();
    api_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let resp = s
        .client
        .get(s.url(&format!("{}?cursor=0", paths::PULL)))
        .bearer_auth(&dev.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    // The integration API wants the admin key, not a device token.
    let resp = s
        .client
        .get(s.url(paths::STOCK))
        .bearer_auth(&dev.token)
        .send()
        .await
        .unwrap();
    api_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let resp = s.client.get(s.url(paths::STOCK)).send().await.unwrap();
    api_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn push_applies_once_and_answers_duplicates_with_the_stored_outcome() {
    let s = TestServer::seeded();
    let mut dev = s.device().await;
    let r = Uuid::now_v7();
    let batch = vec![
        dev.event(&opened(r)),
        dev.event(&goods(r, 4, "DOCK-1")),
        dev.event(&goods(r, 3, "DOCK-1")),
    ];

    let first: PushResponse = json_ok(s.push(&dev, &batch).await).await;
    assert_eq!(first.acked_through, 3);
    assert!(
        first
            .results
            .iter()
            .all(|r| r.outcome == EventOutcome::Applied)
    );
    assert_eq!(stock_of(&s, "KO-006").await, 7);

    // The same batch again, as after a lost response: same acks, stock counted once.
    let second: PushResponse = json_ok(s.push(&dev, &batch).await).await;
    assert_eq!(second.acked_through, 3);
    for (res, ev) in second.results.iter().zip(&batch) {
        assert_eq!(res.seq, ev.seq);
        assert_eq!(res.event_id, ev.event_id);
        assert_eq!(
            res.outcome,
            EventOutcome::Duplicate {
                original: Box::new(EventOutcome::Applied)
            }
        );
    }
    assert_eq!(stock_of(&s, "KO-006").await, 7);

    // A batch that straddles: two duplicates and one new event.
    let new = dev.event(&goods(r, 1, "DOCK-1"));
    let straddle = vec![batch[1].clone(), batch[2].clone(), new];
    let third: PushResponse = json_ok(s.push(&dev, &straddle).await).await;
    assert_eq!(third.acked_through, 4);
    assert!(matches!(
        third.results[0].outcome,
        EventOutcome::Duplicate { .. }
    ));
    assert_eq!(third.results[2].outcome, EventOutcome::Applied);
    assert_eq!(stock_of(&s, "KO-006").await, 8);
}

#[tokio::test]
async fn a_gap_is_refused_whole_and_heals_when_the_missing_events_arrive() {
    let s = TestServer::seeded();
    let mut dev = s.device().await;
    let r = Uuid::now_v7();
    let all: Vec<_> = [
        opened(r),
        goods(r, 1, "DOCK-1"),
        goods(r, 2, "DOCK-1"),
        goods(r, 5, "DOCK-1"),
    ]
    .iter()
    .map(|b| dev.event(b))
    .collect();

    let _: PushResponse = json_ok(s.push(&dev, &all[..1]).await).await;
    // seq 2 was lost on the way: 3 and 4 arrive first.
    let err = api_error(s.push(&dev, &all[2..]).await, StatusCode::CONFLICT, "gap").await;
    assert_eq!(err.expected_seq, Some(2));
    assert_eq!(
        stock_of(&s, "KO-006").await,
        0,
        "nothing of a gapped batch is applied"
    );

    let healed: PushResponse = json_ok(s.push(&dev, &all[1..]).await).await;
    assert_eq!(healed.acked_through, 4);
    assert!(
        healed
            .results
            .iter()
            .all(|r| r.outcome == EventOutcome::Applied)
    );
    assert_eq!(stock_of(&s, "KO-006").await, 8);
}

#[tokio::test]
async fn a_rejected_event_advances_last_seq_and_does_not_block_the_rest() {
    let s = TestServer::seeded();
    let mut dev = s.device().await;
    let r = Uuid::now_v7();
    let batch = vec![
        dev.event(&opened(r)),
        dev.event(&goods(r, 2, "NO-SUCH-BIN")),
        dev.event(&goods(r, 3, "DOCK-1")),
    ];
    let resp: PushResponse = json_ok(s.push(&dev, &batch).await).await;
    assert_eq!(resp.acked_through, 3);
    assert_eq!(resp.results[0].outcome, EventOutcome::Applied);
    match &resp.results[1].outcome {
        EventOutcome::Rejected { code, reason } => {
            assert_eq!(code, "unknown_location");
            assert!(reason.contains("NO-SUCH-BIN"), "{reason}");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(resp.results[2].outcome, EventOutcome::Applied);
    assert_eq!(stock_of(&s, "KO-006").await, 3);

    let exceptions: Vec<ExceptionView> = s.admin_get(paths::EXCEPTIONS).await;
    assert_eq!(exceptions.len(), 1);
    assert_eq!(exceptions[0].kind, "unknown_location");
    assert_eq!(exceptions[0].seq, 2);
    assert_eq!(exceptions[0].device_id, dev.id);
    assert_eq!(exceptions[0].event_id, batch[1].event_id);

    // A rejected event delivered again is a duplicate that repeats the rejection.
    let again: PushResponse = json_ok(s.push(&dev, &batch[1..2]).await).await;
    assert!(matches!(
        again.results[0].outcome.effective(),
        EventOutcome::Rejected { code, .. } if code == "unknown_location"
    ));
    let exceptions: Vec<ExceptionView> = s.admin_get(paths::EXCEPTIONS).await;
    assert_eq!(exceptions.len(), 1, "a duplicate records nothing new");
}

#[tokio::test]
async fn undecodable_payloads_are_rejected_per_event_but_broken_requests_are_400() {
    let s = TestServer::seeded();
    let mut dev = s.device().await;
    let r = Uuid::now_v7();
    let mut weird = dev.event(&opened(r));
    weird.event_type = "teleported".into();
    let mut bad_payload = dev.event(&opened(r));
    bad_payload.payload = json!({"receipt_id": "not a uuid"});
    let ok = dev.event(&opened(r));
    let resp: PushResponse = json_ok(s.push(&dev, &[weird, bad_payload, ok]).await).await;
    let codes: Vec<String> = resp
        .results
        .iter()
        .map(|r| match &r.outcome {
            EventOutcome::Rejected { code, .. } => code.clone(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(codes, ["unknown_event_type", "bad_payload", "Applied"]);

    // (what, body) -> 400 bad_request, with nothing applied
    let cases: Vec<(&str, String)> = vec![
        ("not JSON at all", "{this is not json".into()),
        ("empty body", String::new()),
        ("wrong shape", json!({"device": dev.id}).to_string()),
        (
            "an event without a seq",
            json!({"device_id": dev.id, "events": [{"event_id": Uuid::now_v7()}]}).to_string(),
        ),
        ("seqs not consecutive", {
            let mut a = dev.event(&goods(r, 1, "DOCK-1"));
            let mut b = dev.event(&goods(r, 1, "DOCK-1"));
            a.seq = 4;
            b.seq = 6;
            json!({"device_id": dev.id, "events": [a, b]}).to_string()
        }),
    ];
    for (what, body) in cases {
        let resp = s
            .client
            .post(s.url(paths::PUSH))
            .bearer_auth(&dev.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let err = api_error(resp, StatusCode::BAD_REQUEST, "bad_request").await;
        assert!(!err.message.is_empty(), "{what}");
    }
    assert_eq!(stock_of(&s, "KO-006").await, 0);

    // Unknown paths and methods answer ApiError JSON too.
    let resp = s
        .client
        .get(s.url("/api/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    api_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    let resp = s.client.delete(s.url(paths::PUSH)).send().await.unwrap();
    api_error(resp, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

#[tokio::test]
async fn pull_pages_through_the_change_log_in_cursor_order() {
    let s = TestServer::seeded();
    let dev = s.device().await;

    // Everything in pages of 100.
    let mut cursor = 0;
    let mut seen = 0;
    let mut pages = 0;
    loop {
        let page = s.pull(&dev, cursor, Some(100)).await;
        pages += 1;
        assert!(page.changes.len() <= 100);
        for c in &page.changes {
            assert!(c.cursor > cursor, "cursors ascend");
            cursor = c.cursor;
        }
        seen += page.changes.len();
        assert_eq!(page.next_cursor, cursor);
        if !page.has_more {
            break;
        }
        assert_eq!(page.changes.len(), 100, "only the last page is short");
        assert!(pages < 100, "the loop ends");
    }
    let d = laituri_server::demo::data();
    let total = d.merchants.len()
        + d.products.len()
        + d.locations.len()
        + d.operators.len()
        + d.notices.len();
    assert_eq!(seen, total);

    // At the end: nothing, same cursor, no more.
    let end = s.pull(&dev, cursor, None).await;
    assert!(end.changes.is_empty());
    assert_eq!(end.next_cursor, cursor);
    assert!(!end.has_more);

    // The default page is 500; a too-large limit is capped at 5000.
    let first = s.pull(&dev, 0, None).await;
    assert_eq!(first.changes.len(), total.min(500));
    let capped = s.pull(&dev, 0, Some(1_000_000)).await;
    assert_eq!(capped.changes.len(), total.min(5000));

    // A new upsert appears after the cursor.
    let resp = s
        .admin_post(
            paths::LOCATIONS,
            &json!({"code": "A-09-01", "kind": "bin", "zone": "nordic-pantry"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let next = s.pull(&dev, cursor, None).await;
    assert_eq!(next.changes.len(), 1);
    assert!(
        matches!(&next.changes[0].change, laituri_protocol::Change::Location(l) if l.code == "A-09-01")
    );

    // A missing cursor is a 400 that says what to send.
    let resp = s
        .client
        .get(s.url(paths::PULL))
        .bearer_auth(&dev.token)
        .send()
        .await
        .unwrap();
    api_error(resp, StatusCode::BAD_REQUEST, "bad_request").await;
}

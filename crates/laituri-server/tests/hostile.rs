//! The server tried as a hostile client would, against the real server on 127.0.0.1:0: each
//! test is an attack that once did harm (a 500, a device blocked, a panic) and must now be
//! refused with a message, harming nothing.

mod common;

use common::{TestServer, api_error, json_ok};
use laituri_protocol::{EventBody, EventOutcome, PushResponse};
use reqwest::StatusCode;
use uuid::Uuid;

fn opened(receipt: Uuid) -> EventBody {
    EventBody::ReceiptOpened {
        receipt_id: receipt,
        merchant_id: "kettu-outdoor".into(),
        notice_id: None,
        dock: "DOCK-1".into(),
    }
}

/// A device files an event under another device's id: the whole push is refused, and the other
/// device's own next push (the same seq) is applied as if nothing happened. Before, the server
/// filed it under the claimed id and the victim's next push failed on every try.
#[tokio::test]
async fn an_event_naming_another_device_is_refused_and_harms_nobody() {
    let s = TestServer::seeded();
    let mut attacker = s.device().await;
    let mut victim = s.device().await;
    let mut forged = attacker.event(&opened(Uuid::now_v7()));
    forged.device_id = victim.id;
    let refused = s.push(&attacker, &[forged]).await;
    let err = api_error(refused, StatusCode::BAD_REQUEST, "bad_request").await;
    assert!(
        err.message.contains("only its own events"),
        "{}",
        err.message
    );

    let own = victim.event(&opened(Uuid::now_v7()));
    let answer: PushResponse = json_ok(s.push(&victim, &[own]).await).await;
    assert_eq!(answer.acked_through, 1);
    assert_eq!(answer.results[0].outcome, EventOutcome::Applied);
}

/// Seqs at the top of the number range are refused with a message, never a panic or a 500; the
/// device's queue is not blocked by them.
#[tokio::test]
async fn seqs_at_the_end_of_the_number_range_are_refused_not_crashed_on() {
    let s = TestServer::seeded();
    let mut dev = s.device().await;
    for seq in [u64::MAX, i64::MAX as u64 + 1] {
        let mut e = dev.event(&opened(Uuid::now_v7()));
        dev.next_seq -= 1;
        e.seq = seq;
        let refused = s.push(&dev, &[e]).await;
        api_error(refused, StatusCode::BAD_REQUEST, "bad_request").await;
    }
    let mut a = dev.event(&opened(Uuid::now_v7()));
    a.seq = u64::MAX;
    let mut b = dev.event(&opened(Uuid::now_v7()));
    b.seq = 0;
    api_error(
        s.push(&dev, &[a, b]).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
    // The device goes on from seq 1.
    dev.next_seq = 1;
    let ok = dev.event(&opened(Uuid::now_v7()));
    let answer: PushResponse = json_ok(s.push(&dev, &[ok]).await).await;
    assert_eq!(answer.acked_through, 1);
}

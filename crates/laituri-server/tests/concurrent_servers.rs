//! Two server processes on one database (as a site runs them behind a load balancer), many
//! devices pushing to both at once, and a terminal pulling from both meanwhile: every device's
//! events are applied once and in order, and the puller, following its cursor, sees every change
//! of the log exactly once, the same as a pull from the start after the fact. On PostgreSQL
//! (`LAITURI_TEST_BACKEND=postgres`) transactions of different devices commit in any order; a
//! cursor handed out before an earlier one's transaction commits would make the puller skip it.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{Device, TestServer, json_ok};
use laituri_protocol::{
    EventBody, EventOutcome, GoodsCondition, PROTOCOL_HEADER, PROTOCOL_VERSION, PullResponse,
    PushRequest, PushResponse, StockRow, paths,
};
use laituri_server::ServerHandle;
use uuid::Uuid;

const DEVICES: usize = 8;
const BATCHES: usize = 6;
const UNITS_PER_BATCH: usize = 5;

fn opened(receipt: Uuid) -> EventBody {
    EventBody::ReceiptOpened {
        receipt_id: receipt,
        merchant_id: "kettu-outdoor".into(),
        notice_id: None,
        dock: "DOCK-1".into(),
    }
}

fn goods(receipt: Uuid, tote: &str) -> EventBody {
    EventBody::GoodsReceived {
        receipt_id: receipt,
        merchant_id: "kettu-outdoor".into(),
        product_id: "KO-006".into(),
        quantity: 1,
        lot: None,
        expiry: None,
        serial: None,
        container: tote.into(),
        location: "DOCK-1".into(),
        condition: GoodsCondition::Good,
        barcode: "6498765000068".into(),
    }
}

async fn push_to(
    base: &str,
    device: &Device,
    events: Vec<laituri_protocol::Event>,
) -> PushResponse {
    let resp = reqwest::Client::new()
        .post(format!("{base}{}", paths::PUSH))
        .bearer_auth(&device.token)
        .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
        .json(&PushRequest {
            device_id: device.id,
            events,
        })
        .send()
        .await
        .unwrap();
    json_ok(resp).await
}

async fn pull_from(base: &str, device: &Device, cursor: u64) -> PullResponse {
    let resp = reqwest::Client::new()
        .get(format!("{base}{}?cursor={cursor}&limit=50", paths::PULL))
        .bearer_auth(&device.token)
        .send()
        .await
        .unwrap();
    json_ok(resp).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_many_devices_and_a_puller_lose_double_and_skip_nothing() {
    let a = TestServer::seeded();
    let mut second = a.config.clone();
    second.bind = "127.0.0.1:0".parse().unwrap();
    let b = ServerHandle::start(second).unwrap();
    let bases = Arc::new([a.url.clone(), b.url()]);

    let puller = a.device().await;
    let mut devices = Vec::new();
    for _ in 0..DEVICES {
        devices.push(a.device().await);
    }

    // The puller follows its cursor from both servers while the devices push.
    let pushing = Arc::new(AtomicBool::new(true));
    let pull_task = {
        let (bases, pushing) = (bases.clone(), pushing.clone());
        tokio::spawn(async move {
            let mut seen: Vec<u64> = Vec::new();
            let mut cursor = 0;
            let mut round = 0usize;
            loop {
                let still_pushing = pushing.load(Ordering::SeqCst);
                let page = pull_from(&bases[round % 2], &puller, cursor).await;
                round += 1;
                seen.extend(page.changes.iter().map(|c| c.cursor));
                cursor = page.next_cursor;
                if !still_pushing && !page.has_more {
                    return (seen, puller);
                }
                tokio::task::yield_now().await;
            }
        })
    };

    // Every device pushes its batches, alternating between the servers.
    let mut pushers = Vec::new();
    for (i, mut dev) in devices.into_iter().enumerate() {
        let bases = bases.clone();
        pushers.push(tokio::spawn(async move {
            let receipt = Uuid::now_v7();
            let tote = format!("T-{:04}", 100 + i);
            let mut first = vec![dev.event(&opened(receipt))];
            for batch in 0..BATCHES {
                let mut events = std::mem::take(&mut first);
                for _ in 0..UNITS_PER_BATCH {
                    events.push(dev.event(&goods(receipt, &tote)));
                }
                let last = events.last().unwrap().seq;
                let answer = push_to(&bases[(i + batch) % 2], &dev, events).await;
                assert_eq!(answer.acked_through, last, "device {i} batch {batch}");
                assert!(
                    answer
                        .results
                        .iter()
                        .all(|r| r.outcome == EventOutcome::Applied),
                    "{:?}",
                    answer.results
                );
            }
            dev
        }));
    }
    let mut devices = Vec::new();
    for p in pushers {
        devices.push(p.await.unwrap());
    }
    pushing.store(false, Ordering::SeqCst);
    let (seen, puller) = pull_task.await.unwrap();

    // Followed live, the log was seen whole: each change once, in cursor order, and nothing
    // the from-the-start view has is missing.
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "cursors went back or repeated"
    );
    let mut everything = Vec::new();
    let mut cursor = 0;
    loop {
        let page = pull_from(&bases[0], &puller, cursor).await;
        everything.extend(page.changes.iter().map(|c| c.cursor));
        cursor = page.next_cursor;
        if !page.has_more {
            break;
        }
    }
    let live: BTreeSet<u64> = seen.iter().copied().collect();
    let afterwards: BTreeSet<u64> = everything.iter().copied().collect();
    let skipped: Vec<&u64> = afterwards.difference(&live).collect();
    assert!(
        skipped.is_empty(),
        "the live puller skipped changes: {skipped:?}"
    );
    assert_eq!(live, afterwards);

    // Each unit once on the books.
    let rows: Vec<StockRow> = a
        .admin_get(&format!("{}?product_id=KO-006", paths::STOCK))
        .await;
    let total: i64 = rows.iter().map(|r| r.quantity).sum();
    assert_eq!(total, (DEVICES * BATCHES * UNITS_PER_BATCH) as i64);
    drop(devices);
    b.stop();
}

/// The same batch of one device sent to both servers at the same moment: one applies it, the
/// other answers duplicates with the stored outcome, and the goods count once. Pushes of one
/// device serialize, whichever process takes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_devices_batch_sent_to_both_servers_at_once_counts_once() {
    let a = TestServer::seeded();
    let mut second = a.config.clone();
    second.bind = "127.0.0.1:0".parse().unwrap();
    let b = ServerHandle::start(second).unwrap();
    let b_url = b.url();
    for round in 0..5 {
        let mut dev = a.device().await;
        let receipt = Uuid::now_v7();
        let tote = format!("T-{:04}", 500 + round);
        let mut batch = vec![dev.event(&opened(receipt))];
        for _ in 0..10 {
            batch.push(dev.event(&goods(receipt, &tote)));
        }
        let (one, two) = tokio::join!(
            push_to(&a.url, &dev, batch.clone()),
            push_to(&b_url, &dev, batch.clone())
        );
        for answer in [&one, &two] {
            assert_eq!(answer.acked_through, 11);
        }
        let applied = |r: &PushResponse| {
            r.results
                .iter()
                .filter(|x| x.outcome == EventOutcome::Applied)
                .count()
        };
        assert_eq!(
            applied(&one) + applied(&two),
            11,
            "each event applied by exactly one of the two"
        );
        let rows: Vec<StockRow> = a
            .admin_get(&format!("{}?location=DOCK-1", paths::STOCK))
            .await;
        let in_tote: i64 = rows
            .iter()
            .filter(|r| r.container.as_deref() == Some(tote.as_str()))
            .map(|r| r.quantity)
            .sum();
        assert_eq!(in_tote, 10, "round {round}");
    }
    b.stop();
}

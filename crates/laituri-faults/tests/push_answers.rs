//! Push answers that do not match the batch that was sent, and the checker itself.
//!
//! Each test drives the real terminal core in this process against the real server on
//! 127.0.0.1, then asks the suite's checker. The last test shows the checker does fail when an
//! event is lost or a unit is counted twice.

use std::path::Path;

use laituri::store::{LineState, Store};
use laituri::sync::{SyncConfig, sync_once};
use laituri_faults::badhttp::{Answer, HttpFaults};
use laituri_faults::check;
use laituri_faults::driver::{DriverConfig, Session};
use laituri_faults::{DemoFacts, server};
use laituri_protocol::{PROTOCOL_HEADER, PROTOCOL_VERSION, PushRequest, paths};
use laituri_server::{ServerConfig, ServerHandle};

struct World {
    _dir: tempfile::TempDir,
    server: ServerHandle,
    server_db: std::path::PathBuf,
    facts: DemoFacts,
    db: std::path::PathBuf,
    oracle: std::path::PathBuf,
}

/// A seeded server and a terminal that enrolled and pulled, then scanned `items` items offline.
fn world(items: u64) -> World {
    world_with(items, |_| {})
}

/// [`world`] with the driver's configuration changed by `tune`.
fn world_with(items: u64, tune: impl FnOnce(&mut DriverConfig)) -> World {
    let dir = tempfile::tempdir().unwrap();
    let server_db = dir.path().join("server.sqlite3");
    let facts = DemoFacts::from_guide(&server::seed(&server_db).unwrap()).unwrap();
    let server = ServerHandle::start(ServerConfig::local(&server_db)).unwrap();
    let db = dir.path().join("terminal.sqlite3");
    let oracle = dir.path().join("oracle.jsonl");
    check::heal(&db, &server.url()).unwrap();
    let mut config = DriverConfig::new(db.clone(), server.url(), oracle.clone(), &facts);
    config.receipt_items = 1000;
    tune(&mut config);
    let mut session = Session::open(&config).unwrap();
    session.log_in().unwrap();
    while session.items_total < items {
        assert!(session.step().unwrap(), "{:?}", session.last_reply);
    }
    World {
        _dir: dir,
        server,
        server_db,
        facts,
        db,
        oracle,
    }
}

fn sync_config(db: &Path, url: &str, batch_size: u32) -> SyncConfig {
    let mut c = SyncConfig::new(db.to_path_buf(), url);
    c.enrolment_code = Some(laituri_server::demo::ENROLMENT_CODE.into());
    c.batch_size = batch_size;
    c
}

/// Pushes the terminal's whole queue straight to the server and throws the answer away: the
/// server applied it, the terminal never heard.
fn push_unheard(db: &Path, url: &str) {
    let store = Store::open(db).unwrap();
    let device = store.device().unwrap();
    let body = PushRequest {
        device_id: device.device_id,
        events: store.pending_batch(10_000).unwrap(),
    };
    let token = device.token.unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{url}{}", paths::PUSH))
            .bearer_auth(token)
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert!(status.is_success(), "{status}");
}

fn assert_clean(w: &World) -> check::RunCheck {
    let c = check::check_run(&w.server_db, &w.server.url(), &w.db, &w.oracle).unwrap();
    assert!(c.ok(), "{:?}", c.problems);
    let s = check::check_stock(&w.server_db, &w.server.url(), &Default::default()).unwrap();
    assert!(s.problems.is_empty(), "{:?}", s.problems);
    c
}

#[test]
fn an_answer_reaching_past_its_batch_leaves_no_event_unconfirmed() {
    let w = world(10);
    // A big push was applied but its answer lost; the terminal then sends smaller batches.
    push_unheard(&w.db, &w.server.url());
    let status = sync_once(&sync_config(&w.db, &w.server.url(), 3));
    assert!(status.online, "{:?}", status.problem);
    assert_eq!(status.counts.pending(), 0);
    // Every line shows it is confirmed by the server, not "saved on the device" forever.
    let store = Store::open(&w.db).unwrap();
    for seq in 1..=status.counts.last_seq {
        assert_eq!(
            store.line_state(seq).unwrap(),
            LineState::Confirmed,
            "seq {seq}"
        );
    }
    assert_clean(&w);
}

#[test]
fn an_answer_acknowledging_what_it_never_answered_loses_nothing() {
    let w = world(5);
    let before = Store::open(&w.db).unwrap().counts().unwrap();
    assert_eq!(before.pending(), 6, "receipt_opened + 5 items");
    // Something between terminal and server answers every push with "all recorded", no results.
    let liar = HttpFaults::start_with(&w.server.url(), 1, 1.0, &[Answer::AckedEverything]).unwrap();
    let status = sync_once(&sync_config(&w.db, &liar.url(), 500));
    assert!(!status.online);
    assert_eq!(
        status.counts.pending(),
        6,
        "nothing was recorded, so nothing may leave the queue"
    );
    assert!(liar.faults() > 0);
    liar.stop();
    // The real server gets everything, once.
    check::heal(&w.db, &w.server.url()).unwrap();
    let c = assert_clean(&w);
    assert_eq!(c.committed_events, 6);
}

#[test]
fn the_checker_sees_a_lost_event_and_a_doubled_unit() {
    let w = world(4);
    check::heal(&w.db, &w.server.url()).unwrap();
    assert_clean(&w);

    let conn = rusqlite::Connection::open(&w.server_db).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    // The server counts one unit twice.
    let bump = |delta: i64| {
        conn.execute(
            "UPDATE stock SET quantity = quantity + ?1 WHERE product_id = ?2",
            rusqlite::params![delta, w.facts.product],
        )
        .unwrap()
    };
    assert_eq!(bump(1), 1);
    let s = check::check_stock(&w.server_db, &w.server.url(), &Default::default()).unwrap();
    assert_eq!((s.short, s.excess), (0, 1), "{:?}", s.problems);
    bump(-1);
    assert_clean(&w);

    // The server forgets a confirmed item (as if its commit had not been durable).
    let device = Store::open(&w.db).unwrap().device().unwrap().device_id;
    let gone = conn
        .execute(
            "DELETE FROM events WHERE device_id = ?1 AND seq = 3 AND type = 'goods_received'",
            [device.to_string()],
        )
        .unwrap();
    assert_eq!(gone, 1);
    let c = check::check_run(&w.server_db, &w.server.url(), &w.db, &w.oracle).unwrap();
    assert_eq!(c.lost, 1, "{:?}", c.problems);
    assert!(!c.ok());
}

#[test]
fn the_checker_folds_putaway_moves_and_sees_a_lost_putaway() {
    // Receipts of 3 units, each tote put away by scanning it (offline: no task list, no lease).
    let w = world_with(7, |c| {
        c.receipt_items = 3;
        c.putaway_pct = 100;
        c.lease_pct = 0;
    });
    check::heal(&w.db, &w.server.url()).unwrap();
    let c = assert_clean(&w);
    assert!(c.confirmed_putaways >= 2, "two totes put away: {c:?}");
    let stock = check::server_stock(&w.server.url()).unwrap();
    let in_totes: i64 = stock
        .iter()
        .filter(|(k, _)| k.1 == w.facts.product && k.3.is_some())
        .map(|(_, q)| q)
        .sum();
    let in_bins: i64 = stock
        .iter()
        .filter(|(k, _)| k.1 == w.facts.product && k.3.is_none())
        .map(|(_, q)| q)
        .sum();
    assert_eq!((in_totes, in_bins), (1, 6), "{stock:?}");

    // The server forgets a confirmed putaway: lost on the run, and the bin holds what the tote
    // should still hold by the events.
    let conn = rusqlite::Connection::open(&w.server_db).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    let device = Store::open(&w.db).unwrap().device().unwrap().device_id;
    let gone = conn
        .execute(
            "DELETE FROM events WHERE device_id = ?1 AND seq =
                 (SELECT min(seq) FROM events WHERE device_id = ?1 AND type = 'put_away')",
            [device.to_string()],
        )
        .unwrap();
    assert_eq!(gone, 1);
    let c = check::check_run(&w.server_db, &w.server.url(), &w.db, &w.oracle).unwrap();
    assert_eq!(c.lost, 1, "{:?}", c.problems);
    let s = check::check_stock(&w.server_db, &w.server.url(), &Default::default()).unwrap();
    assert!(s.short > 0 && s.excess > 0, "{:?}", s.problems);
}

//! Sync end to end: the terminal core and its sync worker against the real server on
//! 127.0.0.1 with a temporary database. Offline receiving then reconnect, the same batch twice,
//! a gap after the server was restored from a backup, and a rejected event that must not block
//! the events behind it.

mod support;

use std::path::Path;

use laituri::feedback::Speaker;
use laituri::store::{LineState, Store};
use laituri::sync::{Fault, SyncConfig, SyncProblem, SyncStep};
use laituri::terminal::{CoreConfig, Screen, Terminal, Tone};
use laituri_protocol::{PROTOCOL_HEADER, PROTOCOL_VERSION, PushRequest, PushResponse, paths};
use laituri_server::ServerHandle;

/// A receiving operator without a PIN, and a product of a merchant with a plain GTIN.
struct Demo {
    badge: String,
    merchant: String,
    gtin: String,
    product: String,
}

fn demo_facts(guide: &laituri_server::demo::DemoGuide) -> Demo {
    let op = guide
        .operators
        .iter()
        .find(|o| o.pin.is_none() && o.roles.contains(&laituri_protocol::Role::Receiving))
        .expect("a receiving operator without PIN");
    let (notice, scan) = guide
        .notices
        .iter()
        .flat_map(|n| n.scans.iter().map(move |s| (n, s)))
        .find(|(_, s)| !s.code.starts_with('(') && s.units == i64::from(s.times))
        .expect("a plain single-unit GTIN");
    Demo {
        badge: op.badge.clone(),
        merchant: notice.merchant_id.clone(),
        gtin: scan.code.clone(),
        product: scan.product_id.clone(),
    }
}

fn terminal(db: &Path, config: CoreConfig) -> Terminal {
    let _ = Speaker::silent();
    Terminal::new(Store::open(db).unwrap(), config, Box::new(support::today))
}

/// Logs in, goes on with the open receipt or starts a blind one, and scans `n` units of the
/// demo product into a tote.
fn receive(t: &mut Terminal, d: &Demo, tote: &str, n: usize) {
    if t.operator().is_none() {
        t.scan(&d.badge);
    }
    // The receipt left open goes on (one job at a time); otherwise a blind one starts.
    t.open(Screen::ReceivingStart).unwrap();
    if t.screen() == &Screen::ReceivingStart {
        let r = t.start_blind(&d.merchant);
        assert_eq!(r.tone, Tone::Ok, "{r:?}");
    }
    assert_eq!(t.scan(tote).unwrap().tone, Tone::Ok);
    for _ in 0..n {
        let r = t.scan(&d.gtin).unwrap();
        assert_eq!(r.tone, Tone::Ok, "{r:?}");
    }
    t.home();
}

fn dock_units(url: &str, d: &Demo) -> i64 {
    support::server_stock(url, &d.merchant)
        .iter()
        .filter(|r| r.product_id == d.product && r.location == "DOCK-1")
        .map(|r| r.quantity)
        .sum()
}

#[test]
fn fifty_items_received_offline_arrive_once_when_the_server_comes_up() {
    let dir = tempfile::tempdir().unwrap();
    let (config, guide, url) = support::demo_on_a_fixed_port(&dir.path().join("server.sqlite3"));
    let d = demo_facts(&guide);
    let db = dir.path().join("t.sqlite3");
    let sync = support::sync_config(db.clone(), &url);

    // First contact: enrol and pull the warehouse, then the server goes away.
    let server = ServerHandle::start(config.clone()).unwrap();
    support::sync_ok(&sync);
    server.stop();

    let mut t = terminal(&db, CoreConfig::default());
    receive(&mut t, &d, "T-0001", 50);
    let offline = laituri::sync::sync_once(&sync);
    assert!(!offline.online);
    assert!(
        matches!(
            offline.problem,
            Some(SyncProblem::Unreachable | SyncProblem::NoAnswer | SyncProblem::Offline(_))
        ),
        "{offline:?}"
    );
    assert_eq!(offline.counts.pending(), 51, "receipt_opened + 50 items");

    let server = ServerHandle::start(config).unwrap();
    let status = support::sync_ok(&sync);
    assert_eq!(status.counts.pending(), 0);
    assert_eq!(dock_units(&url, &d), 50);
    // Syncing again sends nothing and counts nothing twice.
    support::sync_ok(&sync);
    assert_eq!(dock_units(&url, &d), 50);
    server.stop();
}

#[test]
fn the_same_batch_pushed_twice_is_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::start_demo_server(dir.path());
    let d = demo_facts(&server.guide);
    let url = server.handle.url();
    let db = dir.path().join("t.sqlite3");
    let sync = support::sync_config(db.clone(), &url);
    support::sync_ok(&sync);

    let mut t = terminal(&db, CoreConfig::default());
    receive(&mut t, &d, "T-0001", 5);
    let store = Store::open(&db).unwrap();
    let body = PushRequest {
        device_id: store.device().unwrap().device_id,
        events: store.pending_batch(100).unwrap(),
    };
    let token = store.device().unwrap().token.unwrap();
    let push = |body: &PushRequest| -> PushResponse {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            reqwest::Client::new()
                .post(format!("{url}{}", paths::PUSH))
                .bearer_auth(&token)
                .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
                .json(body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        })
    };
    let first = push(&body);
    let second = push(&body);
    assert_eq!(first.acked_through, 6);
    assert_eq!(second.acked_through, 6);
    assert!(
        second
            .results
            .iter()
            .all(|r| matches!(r.outcome, laituri_protocol::EventOutcome::Duplicate { .. })),
        "{second:?}"
    );
    assert_eq!(dock_units(&url, &d), 5);
    // The terminal never heard the answers; its own push is all duplicates and settles the queue.
    let status = support::sync_ok(&sync);
    assert_eq!(status.counts.pending(), 0);
    assert_eq!(dock_units(&url, &d), 5);
}

#[test]
fn a_server_restored_from_backup_reports_a_gap_and_the_terminal_heals_it() {
    let dir = tempfile::tempdir().unwrap();
    let server_db = dir.path().join("server.sqlite3");
    let (config, guide, url) = support::demo_on_a_fixed_port(&server_db);
    let d = demo_facts(&guide);
    let db = dir.path().join("t.sqlite3");
    let sync = support::sync_config(db.clone(), &url);
    let mut t = terminal(&db, CoreConfig::default());

    let server = ServerHandle::start(config.clone()).unwrap();
    support::sync_ok(&sync);
    receive(&mut t, &d, "T-0001", 3);
    support::sync_ok(&sync); // server has seqs 1..=4
    server.stop();
    let backup = dir.path().join("backup.sqlite3");
    std::fs::copy(&server_db, &backup).unwrap();

    let server = ServerHandle::start(config.clone()).unwrap();
    receive(&mut t, &d, "T-0002", 4);
    support::sync_ok(&sync); // server has seqs 1..=9
    server.stop();

    // The server's disk is restored from the backup: it forgot seqs 5..=9.
    support::restore_backup(&server_db, &backup);
    let server = ServerHandle::start(config).unwrap();
    assert_eq!(dock_units(&url, &d), 3);

    receive(&mut t, &d, "T-0003", 2); // seqs 10..=12: a gap for the server
    let status = support::sync_ok(&sync);
    assert_eq!(status.counts.pending(), 0, "{status:?}");
    assert_eq!(dock_units(&url, &d), 9, "every beeped item exactly once");
    server.stop();
}

#[test]
fn a_rejected_event_becomes_an_exception_and_the_rest_goes_through() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::start_demo_server(dir.path());
    let d = demo_facts(&server.guide);
    let url = server.handle.url();
    let db = dir.path().join("t.sqlite3");
    let sync = support::sync_config(db.clone(), &url);
    support::sync_ok(&sync);

    // A terminal configured with a dock the server does not know: its receipt is refused.
    let wrong = CoreConfig {
        dock: "DOCK-99".into(),
        ..CoreConfig::default()
    };
    let mut t = terminal(&db, wrong);
    receive(&mut t, &d, "T-0001", 2);
    t.open(Screen::Receiving).unwrap();
    t.receiving_action(laituri::terminal::receiving::Action::RequestClose);
    t.receiving_action(laituri::terminal::receiving::Action::Confirm);
    drop(t);
    let mut t = terminal(&db, CoreConfig::default());
    receive(&mut t, &d, "T-0002", 3);

    let status = support::sync_ok(&sync);
    assert_eq!(
        status.counts.pending(),
        0,
        "nothing is stuck behind the rejection"
    );
    assert!(status.counts.open_exceptions >= 1, "{status:?}");
    assert_eq!(dock_units(&url, &d), 3);

    let store = Store::open(&db).unwrap();
    let exceptions = store.open_exceptions(10).unwrap();
    assert!(!exceptions.is_empty());
    assert!(
        exceptions.iter().all(|e| !e.message.is_empty()),
        "{exceptions:?}"
    );
    let server_side = support::server_exceptions(&url);
    assert!(!server_side.is_empty(), "a lead sees it on the server too");
    // The rejected receipt's lines show as rejected on the device.
    let rejected = store.open_exceptions(10).unwrap()[0].seq.unwrap();
    assert_eq!(store.line_state(rejected).unwrap(), LineState::Rejected);
}

#[test]
fn a_server_answering_garbage_loses_nothing() {
    // A "server" that answers every request with 200 and a body that is not JSON.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s2 = stop.clone();
    listener.set_nonblocking(true).unwrap();
    let garbage = std::thread::spawn(move || {
        use std::io::{Read, Write};
        while !s2.load(std::sync::atomic::Ordering::SeqCst) {
            match listener.accept() {
                Ok((mut c, _)) => {
                    c.set_nonblocking(false).unwrap();
                    let mut buf = [0u8; 65536];
                    let _ = c.read(&mut buf);
                    let body = "<html>proxy says hello</html>";
                    let _ = write!(
                        c,
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.sqlite3");
    let config = SyncConfig {
        enrolment_code: Some("X".into()),
        ..SyncConfig::new(db.clone(), format!("http://{addr}"))
    };
    let status = laituri::sync::sync_once(&config);
    assert!(!status.online);
    assert!(
        matches!(
            &status.problem,
            Some(SyncProblem::Server {
                step: SyncStep::Enrol,
                fault: Fault::Garbage(_)
            })
        ),
        "{status:?}"
    );
    assert!(!status.enrolled);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    garbage.join().unwrap();
}

/// A site's own CA and the server's certificate it signed, shared with the server's tests.
#[path = "../crates/laituri-server/tests/common/pki.rs"]
mod pki;

fn site_pki(dir: &Path) -> (std::path::PathBuf, laituri_server::TlsFiles) {
    let p = pki::make_pki(dir);
    (p.ca, p.files)
}

#[test]
fn over_https_a_terminal_trusting_the_site_ca_syncs_and_one_without_it_is_told_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, files) = site_pki(dir.path());
    let mut config = laituri_server::ServerConfig::local(dir.path().join("server.sqlite3"));
    config.tls = Some(files);
    let guide = laituri_server::demo::seed(&config, support::today()).expect("demo seed");
    let d = demo_facts(&guide);
    let server = ServerHandle::start(config).unwrap();
    let url = server.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    // Without the site's CA the platform's roots do not know the certificate: the operator is
    // told so, and nothing is enrolled.
    let untrusting = support::sync_config(dir.path().join("untrusting.sqlite3"), &url);
    let status = laituri::sync::sync_once(&untrusting);
    assert!(!status.online);
    assert!(!status.enrolled);
    assert!(
        matches!(status.problem, Some(SyncProblem::UntrustedCertificate(_))),
        "{status:?}"
    );

    // With ca_file it enrols, pulls the warehouse, and its work reaches the server.
    let db = dir.path().join("t.sqlite3");
    let trusting = SyncConfig {
        ca_file: Some(ca),
        ..support::sync_config(db.clone(), &url)
    };
    let first = support::sync_ok(&trusting);
    assert!(first.enrolled);
    let mut t = terminal(&db, CoreConfig::default());
    receive(&mut t, &d, "T-0001", 3);
    let pending = Store::open(&db).unwrap().counts().unwrap().pending();
    assert_eq!(pending, 4, "receipt_opened + 3 items");
    let status = support::sync_ok(&trusting);
    assert_eq!(status.counts.pending(), 0, "{status:?}");
    server.stop();
}

#[test]
fn a_ca_file_that_holds_no_certificate_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (_, files) = site_pki(dir.path());
    for path in [files.private_key, dir.path().join("missing.pem")] {
        let err = format!("{:#}", laituri::sync::read_ca_file(&path).unwrap_err());
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains("ca_file"), "{err}");
    }
}

/// A batch that fails round after round (here every answer to it is lost on the way back) is
/// shown as a stuck queue with the reason, after a few rounds, instead of retried silently; the
/// worker goes on trying, and nothing is lost: once answers come back, the queue empties.
#[test]
fn a_batch_failing_round_after_round_shows_the_queue_as_stuck_then_drains() {
    let dir = tempfile::tempdir().unwrap();
    let (config, guide, url) = support::demo_on_a_fixed_port(&dir.path().join("server.sqlite3"));
    let server = ServerHandle::start(config).unwrap();
    let d = demo_facts(&guide);
    let db = dir.path().join("t.sqlite3");
    support::sync_ok(&support::sync_config(db.clone(), &url));
    let mut t = terminal(&db, CoreConfig::default());
    receive(&mut t, &d, "T-0001", 3);

    let proxy = laituri_faultproxy::FaultProxy::start(server.addr()).unwrap();
    proxy.set(laituri_faultproxy::Fault::DropResponse);
    let mut sync = support::sync_config(db.clone(), &format!("http://{}", proxy.addr()));
    sync.min_backoff = std::time::Duration::from_millis(20);
    sync.max_backoff = std::time::Duration::from_millis(50);
    sync.poll_interval = std::time::Duration::from_millis(20);
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = laituri::sync::SyncHandle::start(sync, move |s| {
        let _ = tx.send(s);
    })
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut rounds_seen = Vec::new();
    let stuck = loop {
        let status = rx
            .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
            .expect("a stuck queue is reported within 30 s");
        match status.problem {
            Some(SyncProblem::Stuck { rounds, reason }) => break (rounds, reason),
            other => rounds_seen.push(other),
        }
    };
    assert_eq!(stuck.0, laituri::sync::STUCK_ROUNDS);
    assert!(
        rounds_seen.len() >= (laituri::sync::STUCK_ROUNDS - 1) as usize,
        "plain problems first: {rounds_seen:?}"
    );
    // Said in the operator's language, with what to do.
    let said = SyncProblem::Stuck {
        rounds: stuck.0,
        reason: stuck.1,
    }
    .render(laituri::i18n::Lang::Fi);
    assert!(said.contains("vuoroesihenkilö"), "{said}");

    // The answers come back: the queue drains, the problem goes.
    proxy.set(laituri_faultproxy::Fault::None);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let status = rx
            .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
            .expect("the queue drains within 30 s");
        if status.online && status.counts.pending() == 0 {
            assert_eq!(status.problem, None);
            break;
        }
    }
    assert_eq!(dock_units(&url, &d), 3, "every unit once");
    handle.stop();
    server.stop();
}

/// Every event id of a terminal's outbox at `db`, in local seq order.
fn outbox_ids(db: &Path) -> Vec<uuid::Uuid> {
    Store::open(db)
        .unwrap()
        .events_after(0, u32::MAX)
        .unwrap()
        .iter()
        .map(|e| e.event_id)
        .collect()
}

/// How often the server recorded each event id, and how often as applied.
fn server_records(server_db: &Path) -> std::collections::HashMap<uuid::Uuid, (u64, u64)> {
    let c = rusqlite::Connection::open_with_flags(
        server_db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut stmt = c
        .prepare(
            "SELECT event_id, count(*), sum(outcome = 'applied') FROM events GROUP BY event_id",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })
    .unwrap()
    .map(|row| {
        let (id, n, applied) = row.unwrap();
        (id.parse().unwrap(), (n as u64, applied as u64))
    })
    .collect()
}

/// Copies a closed terminal database, as a backup of the device's disk does (and puts one back).
fn copy_database(from: &Path, to: &Path) {
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", to.display()));
    }
    std::fs::copy(from, to).unwrap();
}

#[test]
fn a_terminal_database_restored_from_a_backup_goes_on_under_a_new_device_id_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::start_demo_server(dir.path());
    let server_db = dir.path().join("server.sqlite3");
    let d = demo_facts(&server.guide);
    let url = server.handle.url();
    let db = dir.path().join("t.sqlite3");
    let sync = support::sync_config(db.clone(), &url);
    support::sync_ok(&sync);

    let mut t = terminal(&db, CoreConfig::default());
    receive(&mut t, &d, "T-0001", 3);
    support::sync_ok(&sync);
    receive(&mut t, &d, "T-0001", 1); // not sent yet when the backup is taken
    drop(t);
    let backup = dir.path().join("backup.sqlite3");
    copy_database(&db, &backup);
    let old_id = Store::open(&db).unwrap().device().unwrap().device_id;

    // After the backup: more scans, all of them on the server.
    let mut t = terminal(&db, CoreConfig::default());
    receive(&mut t, &d, "T-0002", 4);
    drop(t);
    support::sync_ok(&sync);
    let first_timeline = outbox_ids(&db);
    assert_eq!(dock_units(&url, &d), 8);

    // The terminal's disk is restored from the backup: it forgot the scans into T-0002, and its
    // next scans reuse their seqs.
    copy_database(&backup, &db);
    let mut t = terminal(&db, CoreConfig::default());
    receive(&mut t, &d, "T-0003", 2);
    let restored = outbox_ids(&db);
    drop(t);
    let status = support::sync_ok(&sync);
    assert_eq!(status.problem, Some(SyncProblem::Restored), "{status:?}");
    assert_eq!(status.counts.pending(), 0, "{status:?}");
    let said = status.problem.unwrap().render(laituri::i18n::Lang::Fi);
    assert!(said.contains("varmuuskopiosta"), "{said}");

    // Every action confirmed in either history is on the server exactly once, applied.
    assert_eq!(
        dock_units(&url, &d),
        3 + 1 + 4 + 2,
        "every beeped item exactly once"
    );
    let records = server_records(&server_db);
    let mut confirmed: Vec<uuid::Uuid> = first_timeline.clone();
    confirmed.extend(restored.iter().filter(|id| !first_timeline.contains(id)));
    assert!(confirmed.len() > first_timeline.len());
    for id in &confirmed {
        assert_eq!(records.get(id), Some(&(1, 1)), "event {id}");
    }
    assert_eq!(records.len(), confirmed.len(), "nothing else on the server");

    // The terminal goes on under a new id that continues the old one; every line confirmed.
    let store = Store::open(&db).unwrap();
    let lineage = store.lineage().unwrap();
    assert_ne!(lineage.device_id, old_id);
    assert_eq!(lineage.earlier.len(), 1);
    assert_eq!(lineage.earlier[0].0, old_id);
    let counts = store.counts().unwrap();
    for seq in 1..=counts.last_seq {
        assert_eq!(
            store.line_state(seq).unwrap(),
            LineState::Confirmed,
            "seq {seq}"
        );
    }
    assert!(store.open_exceptions(10).unwrap().is_empty());
    // The local view counts each of its own moves once.
    let tote: i64 = store
        .container_contents("T-0003")
        .unwrap()
        .iter()
        .map(|r| r.quantity)
        .sum();
    assert_eq!(tote, 2);
    drop(store);

    // More scans and rounds change nothing twice.
    let mut t = terminal(&db, CoreConfig::default());
    receive(&mut t, &d, "T-0003", 1);
    drop(t);
    let status = support::sync_ok(&sync);
    assert_eq!((status.problem, status.counts.pending()), (None, 0));
    support::sync_ok(&sync);
    assert_eq!(dock_units(&url, &d), 11);
}

/// The server continued the device but its answer never arrived (or the terminal was killed
/// before it committed the answer): the terminal asks again with its old token, gets the same
/// new device, and sends everything once.
#[test]
fn a_continuation_whose_answer_was_lost_is_asked_again_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::start_demo_server(dir.path());
    let server_db = dir.path().join("server.sqlite3");
    let d = demo_facts(&server.guide);
    let url = server.handle.url();
    let db = dir.path().join("t.sqlite3");
    let sync = support::sync_config(db.clone(), &url);
    support::sync_ok(&sync);
    let mut t = terminal(&db, CoreConfig::default());
    receive(&mut t, &d, "T-0001", 2);
    drop(t);
    support::sync_ok(&sync);
    let backup = dir.path().join("backup.sqlite3");
    copy_database(&db, &backup);
    let mut t = terminal(&db, CoreConfig::default());
    receive(&mut t, &d, "T-0002", 3);
    drop(t);
    support::sync_ok(&sync);
    let first_timeline = outbox_ids(&db);

    copy_database(&backup, &db);
    let mut t = terminal(&db, CoreConfig::default());
    receive(&mut t, &d, "T-0003", 4);
    drop(t);
    // The terminal learnt that its history differs and asked to continue; the server did it,
    // and the answer was lost.
    let mut store = Store::open(&db).unwrap();
    let from = store.counts().unwrap().acked_through + 1;
    let pending = store.begin_continuation(from).unwrap();
    let old_token = store.device().unwrap().token.unwrap();
    drop(store);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{url}{}", paths::CONTINUE))
            .bearer_auth(&old_token)
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .json(&laituri_protocol::ContinueRequest {
                device_id: pending.device_id,
                device_name: "test-terminal".into(),
                protocol_version: PROTOCOL_VERSION,
            })
            .send()
            .await
            .unwrap()
            .status()
    });
    assert!(status.is_success(), "{status}");

    let status = support::sync_ok(&sync);
    assert_eq!(status.problem, Some(SyncProblem::Restored), "{status:?}");
    assert_eq!(status.counts.pending(), 0, "{status:?}");
    assert_eq!(dock_units(&url, &d), 2 + 3 + 4);
    let store = Store::open(&db).unwrap();
    assert_eq!(store.device().unwrap().device_id, pending.device_id);
    let records = server_records(&server_db);
    let mut confirmed = first_timeline.clone();
    confirmed.extend(
        outbox_ids(&db)
            .into_iter()
            .filter(|id| !first_timeline.contains(id)),
    );
    for id in &confirmed {
        assert_eq!(records.get(id), Some(&(1, 1)), "event {id}");
    }
    assert_eq!(records.len(), confirmed.len());
}

#[test]
fn two_terminals_asking_for_the_same_pick_batch_one_gets_it_and_the_other_is_told() {
    use laituri_protocol::Role;
    let dir = tempfile::tempdir().unwrap();
    let server = support::start_demo_server(dir.path());
    let url = server.handle.url();
    let mut stocker = support::orders::Stocker::enrol(&url);
    stocker.stock_up("KO-006", 4, "B-01-01-1");
    support::orders::post_order(&url, "K-5001", &[("KO-006", 2)]);
    support::orders::release(&url, Some(3));
    let picker = server
        .guide
        .operators
        .iter()
        .find(|o| o.roles.contains(&Role::Picking))
        .expect("a picker");
    let pin = picker.pin.clone().unwrap_or_default();

    // Both terminals pulled the batch and their pickers take it at the same moment, offline
    // from each other: each asks for the lease.
    let mut terminals = Vec::new();
    for name in ["a", "b"] {
        let db = dir.path().join(format!("{name}.sqlite3"));
        let sync = support::sync_config(db.clone(), &url);
        support::sync_ok(&sync);
        let mut t = terminal(&db, CoreConfig::default());
        t.scan(&picker.badge);
        if !pin.is_empty() {
            t.enter_pin(&pin);
        }
        t.open(Screen::PickingStart).unwrap();
        let asked = t.take_next_pick();
        assert_ne!(asked.tone, Tone::Error, "{asked:?}");
        terminals.push((t, sync));
    }
    // The first to reach the server gets the batch; the second is told someone else picks it.
    let mut answers = Vec::new();
    for (t, sync) in &mut terminals {
        support::sync_ok(sync);
        answers.push(t.lease_answered().expect("an answer"));
    }
    assert_eq!(answers[0].tone, Tone::Ok, "{:?}", answers[0]);
    assert_eq!(terminals[0].0.screen(), &Screen::Picking);
    assert_eq!(answers[1].tone, Tone::Error, "{:?}", answers[1]);
    assert!(
        matches!(
            answers[1].text,
            laituri::terminal::messages::Text::PickTaskTaken { .. }
        ),
        "{:?}",
        answers[1]
    );
    assert_ne!(terminals[1].0.screen(), &Screen::Picking);
    assert!(terminals[1].0.picking().is_none());
    // Only the first holds a lease; the second holds none to renew.
    assert_eq!(terminals[0].0.store().held_leases().unwrap().len(), 1);
    assert!(terminals[1].0.store().held_leases().unwrap().is_empty());
}

//! The flow platform end to end: terminal cores and their sync against the real server on
//! 127.0.0.1 with a temporary database and a hand-driven server clock. Two terminals ask for
//! the same putaway task; the lease expires and is taken over; the old holder's events still
//! move the goods but their progress comes back as an exception; a deactivated operator cannot
//! log in after the next pull; a server restored from a backup with a new epoch makes the
//! terminal pull from the start.

mod support;

use std::path::Path;
use std::time::Duration;

use laituri::store::Store;
use laituri::terminal::messages::Text;
use laituri::terminal::{CoreConfig, Screen, Terminal, Tone};
use laituri_protocol::{PROTOCOL_HEADER, PROTOCOL_VERSION, Role, TaskKind};
use laituri_server::clock::Clock;
use laituri_server::demo::DemoGuide;
use laituri_server::{ServerConfig, ServerHandle};

fn terminal(db: &Path) -> Terminal {
    Terminal::new(
        Store::open(db).unwrap(),
        CoreConfig::default(),
        Box::new(support::today),
    )
}

/// A putaway operator without a PIN, and a plain single-unit GTIN of one merchant.
struct Facts {
    badge: String,
    merchant: String,
    gtin: String,
    product: String,
}

fn facts(guide: &DemoGuide) -> Facts {
    let op = guide
        .operators
        .iter()
        .find(|o| {
            o.pin.is_none()
                && o.roles.contains(&Role::Receiving)
                && o.roles.contains(&Role::Putaway)
        })
        .expect("an operator who receives and puts away, without a PIN");
    let (notice, scan) = guide
        .notices
        .iter()
        .flat_map(|n| n.scans.iter().map(move |s| (n, s)))
        .find(|(_, s)| !s.code.starts_with('(') && s.units == i64::from(s.times))
        .expect("a plain single-unit GTIN");
    Facts {
        badge: op.badge.clone(),
        merchant: notice.merchant_id.clone(),
        gtin: scan.code.clone(),
        product: scan.product_id.clone(),
    }
}

/// A blind receipt of `n` units into `tote`, closed.
fn receive_and_close(t: &mut Terminal, f: &Facts, tote: &str, n: usize) {
    if t.operator().is_none() {
        t.scan(&f.badge);
    }
    t.open(Screen::ReceivingStart).unwrap();
    assert_eq!(t.start_blind(&f.merchant).tone, Tone::Ok);
    assert_eq!(t.scan(tote).unwrap().tone, Tone::Ok);
    for _ in 0..n {
        assert_eq!(t.scan(&f.gtin).unwrap().tone, Tone::Ok);
    }
    t.receiving_action(laituri::terminal::receiving::Action::RequestClose);
    assert_eq!(
        t.receiving_action(laituri::terminal::receiving::Action::Confirm)
            .tone,
        Tone::Done
    );
    t.home();
}

fn admin_delete(url: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let resp = reqwest::Client::new()
            .delete(url)
            .bearer_auth(laituri_server::demo::ADMIN_KEY)
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .send()
            .await
            .expect("server answers");
        assert!(resp.status().is_success(), "{url}: {}", resp.status());
    });
}

#[test]
fn two_terminals_one_putaway_task_a_lease_taken_over_and_a_stale_token() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(1_800_000_000_000);
    let mut config = ServerConfig::local(dir.path().join("server.sqlite3"));
    config.clock = clock.clone();
    let guide = laituri_server::demo::seed(&config, support::today()).unwrap();
    let f = facts(&guide);
    let server = ServerHandle::start(config).unwrap();
    let url = server.url();
    let (db_a, db_b) = (dir.path().join("a.sqlite3"), dir.path().join("b.sqlite3"));
    let (sync_a, sync_b) = (
        support::sync_config(db_a.clone(), &url),
        support::sync_config(db_b.clone(), &url),
    );
    support::sync_ok(&sync_a);
    support::sync_ok(&sync_b);
    let (mut a, mut b) = (terminal(&db_a), terminal(&db_b));

    // A receives a tote and closes the receipt: the server makes a putaway task of it.
    receive_and_close(&mut a, &f, "T-0500", 4);
    support::sync_ok(&sync_a);
    support::sync_ok(&sync_b);
    b.scan(&f.badge);
    let tasks = b.store().open_tasks(TaskKind::Putaway, 10).unwrap();
    let task = tasks
        .iter()
        .find(|t| t.container.as_deref() == Some("T-0500"))
        .expect("the tote's putaway task reached the other terminal");

    // B takes it (the sync worker leases it), then A asks for the same task: refused.
    b.open(Screen::PutawayStart).unwrap();
    assert!(matches!(b.take_task(&task.task_id).text, Text::TakingTask));
    support::sync_ok(&sync_b);
    let started = b.lease_answered().expect("the lease was answered");
    assert_eq!(b.screen(), &Screen::Putaway, "{started:?}");
    let claim = b
        .putaway()
        .unwrap()
        .claim()
        .cloned()
        .expect("under a lease");
    assert_eq!(claim.task_id, task.task_id);

    a.take_task(&task.task_id);
    support::sync_ok(&sync_a);
    let refused = a.lease_answered().expect("the refusal was answered");
    assert!(
        matches!(refused.text, Text::TaskTaken { .. }),
        "{refused:?}"
    );
    assert_eq!(refused.tone, Tone::Error);

    // B renews while it works; then it goes quiet past the lease and A takes the task over.
    support::sync_ok(&sync_b);
    assert!(
        b.store()
            .held_leases()
            .unwrap()
            .iter()
            .any(|l| l.task_id == task.task_id)
    );
    clock.advance(Duration::from_secs(11 * 60));
    a.home();
    a.take_task(&task.task_id);
    support::sync_ok(&sync_a);
    a.lease_answered().expect("the takeover was answered");
    let new_claim = a
        .putaway()
        .unwrap()
        .claim()
        .cloned()
        .expect("under the new lease");
    assert!(new_claim.token > claim.token, "fencing tokens only go up");

    // B's next sync learns the lease is gone and the screen says so, once.
    support::sync_ok(&sync_b);
    let told = b.lease_lost().expect("the lost lease is told");
    assert!(matches!(told.text, Text::LeaseLost { .. }), "{told:?}");
    assert_eq!(told.tone, Tone::Warning);
    assert!(b.lease_lost().is_none(), "told once");

    // B, still holding its old packet, puts the goods away: the goods moved (stock follows),
    // the task progress is refused as taken by another device and shows as an exception.
    let bin = b
        .putaway()
        .unwrap()
        .view()
        .suggested
        .expect("a suggested bin");
    let reply = b.scan(&bin).unwrap();
    assert_eq!(reply.tone, Tone::Done, "{reply:?}");
    let status = support::sync_ok(&sync_b);
    assert_eq!(status.counts.pending(), 0);
    assert!(status.counts.open_exceptions >= 1, "{status:?}");
    let in_bin: i64 = support::server_stock(&url, &f.merchant)
        .iter()
        .filter(|r| r.product_id == f.product && r.location == bin)
        .map(|r| r.quantity)
        .sum();
    assert_eq!(in_bin, 4, "the goods did move");
    let exceptions = support::server_exceptions(&url);
    assert!(
        exceptions.iter().any(|e| e.kind == "task_taken"),
        "{exceptions:?}"
    );
    // B's renewal says the lease is gone.
    support::sync_ok(&sync_b);
    assert!(
        b.store()
            .held_leases()
            .unwrap()
            .iter()
            .all(|l| l.task_id != task.task_id)
    );
    server.stop();
}

#[test]
fn a_deactivated_operator_cannot_log_in_after_the_next_pull() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::start_demo_server(dir.path());
    let url = server.handle.url();
    let db = dir.path().join("t.sqlite3");
    let sync = support::sync_config(db.clone(), &url);
    support::sync_ok(&sync);
    let op = server
        .guide
        .operators
        .iter()
        .find(|o| o.pin.is_none())
        .unwrap();
    let mut t = terminal(&db);
    assert_eq!(t.scan(&op.badge).unwrap().tone, Tone::Ok);
    t.log_out();

    let id = {
        let s = t.store();
        s.operator_by_badge(&op.badge).unwrap().unwrap().id
    };
    admin_delete(&format!("{url}/api/v1/integration/operators/{id}"));
    support::sync_ok(&sync);
    let mut t = terminal(&db);
    let reply = t.scan(&op.badge).unwrap();
    assert!(matches!(reply.text, Text::UnknownBadge { .. }), "{reply:?}");
    assert_eq!(t.screen(), &Screen::Login);
}

#[test]
fn a_server_restored_with_a_new_epoch_makes_the_terminal_pull_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let server_db = dir.path().join("server.sqlite3");
    let (config, guide, url) = support::demo_on_a_fixed_port(&server_db);
    let f = facts(&guide);
    let db = dir.path().join("t.sqlite3");
    let sync = support::sync_config(db.clone(), &url);

    let server = ServerHandle::start(config.clone()).unwrap();
    support::sync_ok(&sync);
    let mut t = terminal(&db);
    let epoch = t.store().pull_epoch().unwrap();
    assert!(!epoch.is_empty(), "the server names its change log's epoch");
    server.stop();
    let backup = dir.path().join("backup.sqlite3");
    std::fs::copy(&server_db, &backup).unwrap();

    // Work after the backup: a tote received and pulled back as stock.
    let server = ServerHandle::start(config.clone()).unwrap();
    receive_and_close(&mut t, &f, "T-0600", 2);
    support::sync_ok(&sync);
    let cursor_before = t.store().pull_cursor().unwrap();
    server.stop();

    // The server's disk is restored from the backup and given a new epoch, as the restore
    // procedure says (`laituri-server --new-epoch`).
    support::restore_backup(&server_db, &backup);
    let new_epoch = config.open_store().unwrap().new_epoch().unwrap();
    assert_ne!(new_epoch, epoch);
    let server = ServerHandle::start(config).unwrap();
    support::sync_ok(&sync);
    assert_eq!(t.store().pull_epoch().unwrap(), new_epoch);
    let cursor_after = t.store().pull_cursor().unwrap();
    assert!(
        cursor_after > 0 && cursor_after < cursor_before,
        "pulled the new log from 0"
    );

    // The next scans reveal the gap; the terminal sends again what the restored server lost.
    // Its stock view, rebuilt from the new log, holds every tote exactly once.
    receive_and_close(&mut t, &f, "T-0601", 1);
    let status = support::sync_ok(&sync);
    assert_eq!(status.counts.pending(), 0, "{status:?}");
    let units = |tote: &str| -> i64 {
        t.store()
            .container_contents(tote)
            .unwrap()
            .iter()
            .map(|r| r.quantity)
            .sum()
    };
    assert_eq!((units("T-0600"), units("T-0601")), (2, 1));
    server.stop();
}

//! Sync on loopback against the real server (in this process, SQLite, WAL, synchronous=FULL):
//!
//! - push: a terminal with 100,000 pending events runs one sync round (`laituri::sync::sync_once`,
//!   the worker's round: push the outbox in batches of the shipped size, then pull, which finds
//!   nothing new). Time until the outbox is empty, and what the server answered.
//! - pull: a new terminal enrols and pulls the 1,000,000-product catalogue (pages of the shipped
//!   size) into an empty store. The terminal runs as a child process (this binary again), so its
//!   memory is its own: the child reports its peak resident set (VmHWM) at the end, and the parent
//!   samples its resident set every 100 ms to show whether it grows with the catalogue.
//!
//! Run: `cargo bench --bench sync` (`-- push` or `-- pull` for one of them). The server and terminal databases are cached under
//! `target/bench-data` (see benches/support); each run works on copies. Prints figures; asserts
//! no timings.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use laituri::sync::sync_once;
use laituri_server::{ServerConfig, ServerHandle};

fn main() {
    if std::env::var("LAITURI_BENCH_CHILD").as_deref() == Ok("pull") {
        pull_child();
        return;
    }
    if !support::run_by_cargo_bench() {
        println!("sync: run with `cargo bench --bench sync`");
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    let only = |part: &str| {
        let named = ["push", "pull"];
        !args.iter().any(|a| named.contains(&a.as_str())) || args.iter().any(|a| a == part)
    };
    let terminal = support::ensure_terminal();
    let dir = support::data_dir();
    let server_db = dir.join("sync-server.sqlite3");
    let terminal_db = dir.join("sync-terminal.sqlite3");
    let pull_db = dir.join("sync-pull.sqlite3");
    let batch: Option<u32> = args
        .iter()
        .find_map(|a| a.strip_prefix("--batch="))
        .map(|v| v.parse().expect("--batch=N"));

    println!("Sync on loopback, release build");
    if only("push") {
        for mix in [Mix::Spread, Mix::Receipts] {
            // Each mix starts from the cached pair: a server that has seen nothing of this
            // terminal's outbox.
            support::copy_db(&support::server_db(), &server_db);
            support::copy_db(&terminal, &terminal_db);
            if mix == Mix::Receipts {
                refill_as_receipts(&terminal_db);
            }
            let server =
                ServerHandle::start(ServerConfig::local(&server_db)).expect("server starts");
            push(&server.url(), &terminal_db, mix, batch);
            server.stop();
        }
    }
    if only("pull") {
        support::copy_db(&support::server_db(), &server_db);
        let server = ServerHandle::start(ServerConfig::local(&server_db)).expect("server starts");
        pull(&server.url(), &pull_db);
        server.stop();
    }
    for db in [&server_db, &terminal_db, &pull_db] {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mix {
    /// The cached outbox: one receipt, every event a different product (100,000 of them).
    Spread,
    /// 500 receipts of 200 events, each receipt over its own 20 products (10,000 in all).
    Receipts,
}

/// Empties the outbox of a copy of the cached terminal (its events never reached the server)
/// and fills it again through `Store::append_events` with the receipts mix.
fn refill_as_receipts(db: &Path) {
    {
        let c = rusqlite::Connection::open(db).unwrap();
        c.execute_batch(
            "DELETE FROM outbox; UPDATE device SET last_seq = 0, acked_through = 0 WHERE id = 1;",
        )
        .unwrap();
    }
    let mut store = laituri::store::Store::open(db).unwrap();
    let receipts = 500;
    let per_receipt = support::PENDING / receipts;
    for r in 0..receipts {
        let receipt_id = uuid::Uuid::now_v7();
        let mut bodies = vec![laituri_protocol::EventBody::ReceiptOpened {
            receipt_id,
            merchant_id: laituri_server::demo::KETTU.into(),
            notice_id: None,
            dock: "DOCK-1".into(),
        }];
        for i in 1..per_receipt {
            // 20 products per receipt, spread over the merchant's catalogue.
            let p = ((r * 20 + i % 20) * 7919 % (support::PRODUCTS / 2)) * 2;
            bodies.push(laituri_protocol::EventBody::GoodsReceived {
                receipt_id,
                merchant_id: laituri_server::demo::KETTU.into(),
                product_id: support::product_id(p),
                quantity: 1,
                lot: None,
                expiry: None,
                serial: None,
                container: format!("T-{:04}", 1 + r % 10),
                location: "DOCK-1".into(),
                condition: laituri_protocol::GoodsCondition::Good,
                barcode: support::unit_gtin(p),
            });
        }
        store.append_events(support::OPERATOR, &bodies).unwrap();
    }
    assert_eq!(store.counts().unwrap().pending(), support::PENDING as u64);
}

/// One sync round of a terminal with 100,000 pending events.
fn push(url: &str, terminal_db: &Path, mix: Mix, batch: Option<u32>) {
    let mut config = support::sync_config(terminal_db.to_path_buf(), url);
    if let Some(b) = batch {
        config.batch_size = b;
    }
    let batch = config.batch_size;
    let start = Instant::now();
    let status = sync_once(&config);
    let push_time = start.elapsed();
    assert!(status.online, "push failed: {:?}", status.problem);
    let outcomes = outcomes(terminal_db);
    println!(
        "push ({mix:?}): {} events in batches of {batch}: {:.2} s ({:.0} events/s); pending after: {}; outcomes {outcomes}",
        support::PENDING,
        push_time.as_secs_f64(),
        support::PENDING as f64 / push_time.as_secs_f64(),
        status.counts.pending(),
    );
}

/// A new terminal pulls the whole catalogue into an empty store, in a child process.
fn pull(url: &str, pull_db: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", pull_db.display()));
    }
    let pull_limit = laituri::sync::SyncConfig::new(PathBuf::new(), "").pull_limit;
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env("LAITURI_BENCH_CHILD", "pull")
        .arg(url)
        .arg(pull_db)
        .stdout(Stdio::piped())
        .spawn()
        .expect("child starts");
    let pid = child.id();
    let start = Instant::now();
    let mut samples: Vec<(Duration, u64)> = Vec::new();
    while child.try_wait().expect("child state").is_none() {
        if let Some(kb) = support::status_kb(pid, "VmRSS") {
            samples.push((start.elapsed(), kb));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().expect("child output");
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "pull child failed: {report}");
    let field = |name: &str| -> u64 {
        report
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing in {report:?}"))
    };
    let products = rusqlite::Connection::open(pull_db)
        .unwrap()
        .query_row("SELECT count(*) FROM products", [], |r| r.get::<_, i64>(0))
        .unwrap();
    let pull_ms = field("elapsed_ms");
    println!(
        "pull: {products} products in pages of {pull_limit}: {:.1} s ({:.0} products/s); terminal peak RSS (VmHWM) {}; RSS at exit {}",
        pull_ms as f64 / 1000.0,
        products as f64 / (pull_ms as f64 / 1000.0),
        support::mib(field("hwm_kb")),
        support::mib(field("rss_kb")),
    );
    let line: Vec<String> = [0.1, 0.25, 0.5, 0.75, 0.9, 1.0]
        .iter()
        .filter_map(|q| {
            let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len().max(1)) - 1;
            samples
                .get(i)
                .map(|(t, kb)| format!("{:.0} s: {}", t.as_secs_f64(), support::mib(*kb)))
        })
        .collect();
    println!("pull: terminal RSS while pulling: {}", line.join(", "));
}

/// Outcome of each pushed event as the terminal recorded it.
fn outcomes(db: &Path) -> String {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut stmt = c
        .prepare("SELECT state, count(*) FROM outbox GROUP BY state ORDER BY state")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .unwrap();
    rows.map(|r| {
        let (s, n) = r.unwrap();
        format!("{s}={n}")
    })
    .collect::<Vec<_>>()
    .join(" ")
}

/// The terminal side of the pull: one sync round into an empty store, then its own figures.
fn pull_child() {
    let args: Vec<String> = std::env::args().collect();
    let (url, db) = (&args[1], PathBuf::from(&args[2]));
    let start = Instant::now();
    let status = sync_once(&support::sync_config(db, url));
    let elapsed = start.elapsed();
    if !status.online {
        println!("failed: {:?}", status.problem);
        std::process::exit(1);
    }
    let me = std::process::id();
    println!(
        "elapsed_ms={} hwm_kb={} rss_kb={}",
        elapsed.as_millis(),
        support::status_kb(me, "VmHWM").unwrap_or(0),
        support::status_kb(me, "VmRSS").unwrap_or(0)
    );
}

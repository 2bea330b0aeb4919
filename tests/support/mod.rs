//! Shared helpers of the terminal's integration tests: a real server with the demo warehouse on
//! 127.0.0.1:0, a terminal store synced with it, and reads of the server's integration API.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use laituri::sync::{SyncConfig, SyncStatus, sync_once};
use laituri_protocol::{ExceptionView, PROTOCOL_HEADER, PROTOCOL_VERSION, StockRow};
use laituri_server::{ServerConfig, ServerHandle};

pub mod orders;
pub mod tour;
pub mod ui;
pub mod x11;

pub struct DemoServer {
    pub handle: ServerHandle,
    pub config: ServerConfig,
    pub guide: laituri_server::demo::DemoGuide,
}

/// The date the demo's expiry dates are relative to, fixed so tests never depend on the clock.
pub fn today() -> laituri_domain::calendar::Date {
    laituri_domain::calendar::Date::new(2026, 11, 22).unwrap()
}

pub fn start_demo_server(dir: &Path) -> DemoServer {
    start_demo_server_with_clock(dir, laituri_server::clock::Clock::system())
}

/// The demo server with a clock of the test's own (lease expiry reads it).
pub fn start_demo_server_with_clock(dir: &Path, clock: laituri_server::clock::Clock) -> DemoServer {
    let mut config = ServerConfig::local(dir.join("server.sqlite3"));
    config.clock = clock;
    let guide = laituri_server::demo::seed(&config, today()).expect("demo seed");
    let handle = ServerHandle::start(config.clone()).expect("server starts");
    DemoServer {
        handle,
        config,
        guide,
    }
}

/// A seeded demo server's configuration on a port fixed in advance (so it can be stopped and
/// started again at the same address), not yet started: its config, guide and base URL.
pub fn demo_on_a_fixed_port(
    server_db: &Path,
) -> (ServerConfig, laituri_server::demo::DemoGuide, String) {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut config = ServerConfig::local(server_db);
    config.bind = addr;
    let guide = laituri_server::demo::seed(&config, today()).expect("demo seed");
    (config, guide, format!("http://{addr}"))
}

/// Puts a stopped server's database back to `backup`, as a restore from a backup does.
pub fn restore_backup(server_db: &Path, backup: &Path) {
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", server_db.display()));
    }
    std::fs::copy(backup, server_db).unwrap();
}

pub fn sync_config(db: PathBuf, server_url: &str) -> SyncConfig {
    let mut c = SyncConfig::new(db, server_url);
    c.enrolment_code = Some(laituri_server::demo::ENROLMENT_CODE.into());
    c.device_name = "test-terminal".into();
    c
}

/// Runs one sync round and requires it to have reached the server.
pub fn sync_ok(config: &SyncConfig) -> SyncStatus {
    let status = sync_once(config);
    assert!(status.online, "sync failed: {:?}", status.problem);
    status
}

fn get<T: serde::de::DeserializeOwned>(url: String) -> T {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let resp = reqwest::Client::new()
            .get(&url)
            .bearer_auth(laituri_server::demo::ADMIN_KEY)
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .send()
            .await
            .expect("server answers");
        assert!(resp.status().is_success(), "{url}: {}", resp.status());
        resp.json().await.expect("valid JSON")
    })
}

/// The server's stock rows for a merchant.
pub fn server_stock(base_url: &str, merchant_id: &str) -> Vec<StockRow> {
    get(format!(
        "{base_url}{}?merchant_id={merchant_id}",
        laituri_protocol::paths::STOCK
    ))
}

pub fn server_exceptions(base_url: &str) -> Vec<ExceptionView> {
    get(format!("{base_url}{}", laituri_protocol::paths::EXCEPTIONS))
}

/// Sums stock per (product, location).
pub fn totals(rows: &[StockRow]) -> std::collections::BTreeMap<(String, String), i64> {
    let mut m = std::collections::BTreeMap::new();
    for r in rows {
        *m.entry((r.product_id.clone(), r.location.clone()))
            .or_insert(0) += r.quantity;
    }
    m
}

//! What the terminal's benchmarks share: the populated stores they run on, kept between runs
//! under `target/bench-data`, percentiles, and reads of a process's CPU and memory from /proc.
//!
//! The stores are made the way a terminal gets its data, so the files hold exactly the rows
//! production writes:
//! - `server-1m-v1.sqlite3`: the demo warehouse plus 1,000,000 generated products (half of each
//!   demo merchant, every fifth with a case barcode), stored through the server's own
//!   `upsert_products` in pages of 10,000 (its integration path without the HTTP in front).
//! - `terminal-1m-v1.sqlite3`: a terminal enrolled with that server that pulled the whole
//!   catalogue over HTTP (`sync_once`, the sync worker's round), then 100,000 pending events
//!   appended through `Store::append_events` (a blind receipt of the Kettu merchant: one
//!   `receipt_opened`, 99,999 `goods_received` of generated products into tote T-0001 at DOCK-1).
//!
//! Both are rebuilt when missing (delete the folder to rebuild them). A benchmark that writes
//! works on a copy, so every run starts from the same 100,000 pending events.

#![allow(dead_code)]

pub mod places;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use laituri::feedback::Speaker;
use laituri::store::Store;
use laituri::sync::{SyncConfig, sync_once};
use laituri::terminal::{CoreConfig, Terminal};
use laituri::ui::{self, AppWindow, Ctx};
use laituri_domain::calendar::Date;
use laituri_domain::scan as gtin;
use laituri_protocol::{EventBody, GoodsCondition, Product, ProductBarcode};
use laituri_server::{ServerConfig, ServerHandle, demo};
use slint::ComponentHandle;

pub const PRODUCTS: usize = 1_000_000;
pub const PENDING: usize = 100_000;
/// The receiving operator of the demo without a PIN.
pub const OPERATOR: &str = "OP-1001";
const VERSION: &str = "v1";

/// True when `cargo bench` runs this binary (it passes `--bench`). `cargo test --all-targets`
/// runs benchmark targets without it: they then do nothing.
pub fn run_by_cargo_bench() -> bool {
    std::env::args().any(|a| a == "--bench")
}

pub fn today() -> Date {
    Date::new(2026, 11, 22).unwrap()
}

/// `target/bench-data`, next to the profile folder this binary was built into.
pub fn data_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("own path");
    // target/<profile>/deps/<bench>-<hash>
    let target = exe
        .ancestors()
        .nth(3)
        .expect("the benchmark runs from target/<profile>/deps")
        .to_path_buf();
    let dir = target.join("bench-data");
    std::fs::create_dir_all(&dir).expect("bench-data folder");
    dir
}

pub fn server_db() -> PathBuf {
    data_dir().join(format!("server-1m-{VERSION}.sqlite3"))
}

pub fn terminal_db() -> PathBuf {
    data_dir().join(format!("terminal-1m-{VERSION}.sqlite3"))
}

/// The n-th generated product (n from 0): its merchant, id, unit GTIN-13 and optional case GTIN.
pub fn product(n: usize) -> Product {
    let merchant = if n.is_multiple_of(2) {
        demo::KETTU
    } else {
        demo::NORDIC
    };
    let unit = unit_gtin(n);
    let mut barcodes = vec![ProductBarcode {
        code: unit.clone(),
        pack_qty: 1,
    }];
    if n.is_multiple_of(5) {
        barcodes.push(ProductBarcode {
            code: case_gtin(n),
            pack_qty: 6,
        });
    }
    Product {
        dims_mm: None,
        id: product_id(n),
        merchant_id: merchant.into(),
        name: format!("Bench product {n}, carton of one"),
        barcodes,
        track_lot: false,
        track_expiry: false,
        track_serial: false,
        kit: Vec::new(),
        volume_ml: None,
        weight_g: None,
    }
}

pub fn product_id(n: usize) -> String {
    format!("BP-{n:07}")
}

/// A GTIN-13 in the range no demo product uses: 640 + nine digits + check digit.
pub fn unit_gtin(n: usize) -> String {
    gtin::with_check_digit(&format!("640{n:09}")).expect("digits")
}

/// The case GTIN-14 of product n: indicator 1, the unit GTIN without its check digit, a check.
pub fn case_gtin(n: usize) -> String {
    gtin::with_check_digit(&format!("1640{n:09}")).expect("digits")
}

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// Folds the WAL into the main file, so that the file alone is the whole database.
pub fn checkpoint(path: &Path) {
    let c = rusqlite::Connection::open(path).expect("open for checkpoint");
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
}

/// Copies a checkpointed database file to `to` (replacing whatever was there), and flushes the
/// copy to disk: otherwise the kernel writes it back during the measurement, and the first
/// checkpoint's fsync waits for the whole copy.
pub fn copy_db(from: &Path, to: &Path) {
    remove_db(to);
    std::fs::copy(from, to).expect("copy database");
    std::fs::File::open(to)
        .and_then(|f| f.sync_all())
        .expect("flush the copy");
}

/// The server database with the demo and 1,000,000 products; built when missing.
pub fn ensure_server() -> PathBuf {
    let path = server_db();
    if path.exists() {
        return path;
    }
    let tmp = data_dir().join("server-building.sqlite3");
    remove_db(&tmp);
    let config = ServerConfig::local(&tmp);
    demo::seed(&config, today()).expect("demo seed");
    let store = config.open_store().expect("server store");
    let start = Instant::now();
    let page = 10_000;
    for first in (0..PRODUCTS).step_by(page) {
        let items: Vec<Product> = (first..(first + page).min(PRODUCTS)).map(product).collect();
        let items = laituri_server::master::prepare_products(items).expect("valid products");
        store.upsert_products(&items).expect("products stored");
        if (first + page).is_multiple_of(200_000) {
            eprintln!(
                "  server catalogue: {} products, {:.0} s",
                first + page,
                start.elapsed().as_secs_f64()
            );
        }
    }
    drop(store);
    checkpoint(&tmp);
    std::fs::rename(&tmp, &path).expect("rename server database");
    eprintln!(
        "built {} in {:.0} s",
        path.display(),
        start.elapsed().as_secs_f64()
    );
    path
}

pub fn sync_config(db: PathBuf, url: &str) -> SyncConfig {
    let mut c = SyncConfig::new(db, url);
    c.enrolment_code = Some(demo::ENROLMENT_CODE.into());
    c.device_name = "bench-terminal".into();
    c.request_timeout = Duration::from_secs(120);
    c
}

/// The terminal database with the 1,000,000-product catalogue pulled from the server and
/// 100,000 pending events; built (with the server database) when missing. The server database
/// then knows this terminal's device and token.
pub fn ensure_terminal() -> PathBuf {
    let path = terminal_db();
    if path.exists() && server_db().exists() {
        return path;
    }
    // The terminal's enrolment lives in both files: rebuild them together.
    if !server_db().exists() {
        ensure_server();
    }
    let server_tmp = data_dir().join("server-enrolling.sqlite3");
    copy_db(&server_db(), &server_tmp);
    let tmp = data_dir().join("terminal-building.sqlite3");
    remove_db(&tmp);
    let server = ServerHandle::start(ServerConfig::local(&server_tmp)).expect("server starts");
    let start = Instant::now();
    let status = sync_once(&sync_config(tmp.clone(), &server.url()));
    assert!(status.online, "pull failed: {:?}", status.problem);
    server.stop();
    eprintln!(
        "  pulled the catalogue in {:.0} s",
        start.elapsed().as_secs_f64()
    );
    let mut store = Store::open(&tmp).expect("terminal store");
    append_pending(&mut store, PENDING);
    drop(store);
    checkpoint(&tmp);
    checkpoint(&server_tmp);
    std::fs::rename(&server_tmp, server_db()).expect("rename server database");
    std::fs::rename(&tmp, &path).expect("rename terminal database");
    eprintln!(
        "built {} in {:.0} s",
        path.display(),
        start.elapsed().as_secs_f64()
    );
    path
}

/// Appends `n` events of one blind receipt of generated Kettu products, in pages of 10,000.
pub fn append_pending(store: &mut Store, n: usize) {
    let receipt_id = uuid::Uuid::now_v7();
    let mut bodies = vec![EventBody::ReceiptOpened {
        receipt_id,
        merchant_id: demo::KETTU.into(),
        notice_id: None,
        dock: "DOCK-1".into(),
    }];
    for i in 1..n {
        let p = (i * 7919 % (PRODUCTS / 2)) * 2; // even: a Kettu product
        bodies.push(EventBody::GoodsReceived {
            receipt_id,
            merchant_id: demo::KETTU.into(),
            product_id: product_id(p),
            quantity: 1,
            lot: None,
            expiry: None,
            serial: None,
            container: "T-0001".into(),
            location: "DOCK-1".into(),
            condition: GoodsCondition::Good,
            barcode: unit_gtin(p),
        });
    }
    for page in bodies.chunks(10_000) {
        store
            .append_events(OPERATOR, page)
            .expect("events appended");
    }
}

/// The value at quantile `q` (0..=1) of sorted samples, nearest rank.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[idx]
}

/// Prints a markdown table of scan timings: per row the samples' count, p50, p95, p99, max and
/// how many took over 20 ms.
pub fn print_scan_table(rows: &[(&str, &Vec<Duration>)]) {
    println!("| scan | scans | p50 | p95 | p99 | max | over 20 ms |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (name, samples) in rows {
        let mut sorted = samples.to_vec();
        sorted.sort();
        let slow = sorted
            .iter()
            .filter(|d| **d > Duration::from_millis(20))
            .count();
        println!(
            "| {name} | {} | {} | {} | {} | {} | {slow} |",
            sorted.len(),
            ms(quantile(&sorted, 0.5)),
            ms(quantile(&sorted, 0.95)),
            ms(quantile(&sorted, 0.99)),
            ms(*sorted.last().unwrap_or(&Duration::ZERO)),
        );
    }
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Median, p99 and max of unsorted samples, as a table row.
pub fn summary(samples: &[Duration]) -> (Duration, Duration, Duration) {
    let mut s = samples.to_vec();
    s.sort();
    (
        quantile(&s, 0.5),
        quantile(&s, 0.99),
        *s.last().unwrap_or(&Duration::ZERO),
    )
}

/// A field of /proc/PID/status in kB (VmRSS, VmHWM, ...).
pub fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

pub fn mib(kb: u64) -> String {
    format!("{:.1} MiB", kb as f64 / 1024.0)
}

/// The real window over `store` (Slint's testing backend must be initialised), with a silent
/// speaker and the benches' fixed day, connected and shown, as the app builds it.
#[allow(dead_code)]
pub fn window_over(store: Store) -> (std::rc::Rc<Ctx>, AppWindow) {
    let terminal = Terminal::new(store, CoreConfig::default(), Box::new(today));
    let ctx = std::rc::Rc::new(Ctx {
        terminal: std::cell::RefCell::new(terminal),
        speaker: Speaker::silent(),
    });
    let window = AppWindow::new().expect("window");
    ui::connect(&window, ctx.clone());
    window.show().expect("show");
    (ctx, window)
}

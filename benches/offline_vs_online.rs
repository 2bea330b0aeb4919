//! The same receiving of 500 scans, done offline-first (Laituri) and online-only (each scan waits
//! for a server round trip before it answers, as established warehouse apps do), over the fault
//! proxy at 20 ms and 80 ms round-trip delay (`Fault::Delay` delays each direction by half).
//!
//! Both drive the real path, `laituri::ui::on_scan` on an `AppWindow` under Slint's testing
//! backend, against the real server (demo warehouse, SQLite) behind the proxy, scanning one item
//! after the other as fast as the terminal answers (back to back, no pause between scans):
//! - offline-first: the scan commits locally and answers; the sync worker (`SyncHandle`, its own
//!   thread, woken after each commit) pushes in the background through the proxy. Also measured:
//!   from the first scan until the server has recorded all 500 (the outbox is empty).
//! - online-only: after the scan's local commit, the same thread pushes that one event through the
//!   proxy (one HTTP request on a kept-alive connection, awaited) and records the server's answer;
//!   only then is the scan done. This is the best case for online-only: no server-side look-up
//!   round trip before the commit, one connection reused, no retries.
//!
//! Run: `cargo bench --bench offline_vs_online`. Prints figures; asserts no timings.

mod support;

use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use i_slint_backend_testing::init_no_event_loop;
use laituri::store::Store;
use laituri::sync::{SyncHandle, sync_once};
use laituri::terminal::Screen;
use laituri::ui::{self, AppAdapter, AppWindow, Ctx, Tone};
use laituri_faultproxy::{Fault, FaultProxy};
use laituri_protocol::{PROTOCOL_HEADER, PROTOCOL_VERSION, PushRequest, PushResponse, paths};
use laituri_server::{ServerConfig, ServerHandle, demo};
use slint::ComponentHandle;

const SCANS: usize = 500;
const RTTS_MS: [u64; 2] = [20, 80];

struct Item {
    merchant: String,
    gtin: String,
}

/// A plain single-unit GTIN of the demo, with its merchant, for a blind receipt.
fn item(guide: &demo::DemoGuide) -> Item {
    let (notice, scan) = guide
        .notices
        .iter()
        .flat_map(|n| n.scans.iter().map(move |s| (n, s)))
        .find(|(_, s)| !s.code.starts_with('(') && s.units == i64::from(s.times))
        .expect("a plain single-unit GTIN");
    Item {
        merchant: notice.merchant_id.clone(),
        gtin: scan.code.clone(),
    }
}

/// A terminal on a new store, enrolled and with the demo pulled (directly, not through the
/// proxy), logged in, a blind receipt open and a tote scanned.
fn terminal(db: &Path, server_url: &str, item: &Item) -> (AppWindow, Rc<Ctx>) {
    let status = sync_once(&support::sync_config(db.to_path_buf(), server_url));
    assert!(status.online, "setup sync failed: {:?}", status.problem);
    let (ctx, window) = support::window_over(Store::open(db).expect("store"));
    ui::on_scan(&window, &ctx, support::OPERATOR);
    ctx.terminal
        .borrow_mut()
        .open(Screen::ReceivingStart)
        .expect("receiving allowed");
    let reply = ctx.terminal.borrow_mut().start_blind(&item.merchant);
    ui::answer(&window, &ctx, Some(reply));
    ui::on_scan(&window, &ctx, "T-0001");
    assert_eq!(*ctx.terminal.borrow().screen(), Screen::Receiving);
    (window, ctx)
}

fn scan_ok(window: &AppWindow, ctx: &Ctx, raw: &str) {
    ui::on_scan(window, ctx, raw);
    let app = window.global::<AppAdapter>();
    assert!(
        app.get_tone() == Tone::Ok,
        "scan {raw} was not received: {}",
        app.get_feedback()
    );
}

struct Run {
    samples: Vec<Duration>,
    total: Duration,
    /// Offline-first only: first scan until the server recorded everything.
    all_on_server: Option<Duration>,
}

fn offline_first(dir: &Path, server_url: &str, proxy_url: &str, item: &Item) -> Run {
    let db = dir.join("offline-first.sqlite3");
    let (window, ctx) = terminal(&db, server_url, item);
    let sync = SyncHandle::start(support::sync_config(db.clone(), proxy_url), |_| {})
        .expect("sync worker");
    ctx.terminal.borrow_mut().set_waker(sync.waker());
    // Let the worker send receipt_opened before the clock starts.
    wait_until_sent(&db, Duration::from_secs(30));
    let mut samples = Vec::with_capacity(SCANS);
    let start = Instant::now();
    for _ in 0..SCANS {
        let t = Instant::now();
        scan_ok(&window, &ctx, &item.gtin);
        samples.push(t.elapsed());
    }
    let total = start.elapsed();
    wait_until_sent(&db, Duration::from_secs(120));
    let all_on_server = start.elapsed();
    sync.stop();
    Run {
        samples,
        total,
        all_on_server: Some(all_on_server),
    }
}

fn wait_until_sent(db: &Path, limit: Duration) {
    let store = Store::open(db).expect("store");
    let start = Instant::now();
    while store.counts().expect("counts").pending() > 0 {
        assert!(start.elapsed() < limit, "the outbox did not drain");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn online_only(dir: &Path, server_url: &str, proxy_url: &str, item: &Item) -> Run {
    let db = dir.join("online-only.sqlite3");
    let (window, ctx) = terminal(&db, server_url, item);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    let token = ctx
        .terminal
        .borrow()
        .store()
        .device()
        .unwrap()
        .token
        .expect("enrolled");
    let push_url = format!("{proxy_url}{}", paths::PUSH);
    // Waits for the server to record what is pending, as the scan's answer.
    let round_trip = |ctx: &Ctx| {
        let mut t = ctx.terminal.borrow_mut();
        let store = t.store_mut();
        let body = PushRequest {
            device_id: store.device().unwrap().device_id,
            events: store.pending_batch(500).unwrap(),
        };
        let answer: PushResponse = rt.block_on(async {
            let resp = http
                .post(&push_url)
                .bearer_auth(&token)
                .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
                .json(&body)
                .send()
                .await
                .expect("server reached");
            assert!(resp.status().is_success(), "push: {}", resp.status());
            resp.json().await.expect("a push answer")
        });
        store
            .record_push_results(&answer.results, answer.acked_through)
            .unwrap();
        assert_eq!(store.counts().unwrap().pending(), 0);
    };
    round_trip(&ctx); // receipt_opened, and the connection opened, before the clock starts
    let mut samples = Vec::with_capacity(SCANS);
    let start = Instant::now();
    for _ in 0..SCANS {
        let t = Instant::now();
        scan_ok(&window, &ctx, &item.gtin);
        round_trip(&ctx);
        samples.push(t.elapsed());
    }
    let total = start.elapsed();
    Run {
        samples,
        total,
        all_on_server: None,
    }
}

fn main() {
    if !support::run_by_cargo_bench() {
        println!("offline_vs_online: run with `cargo bench --bench offline_vs_online`");
        return;
    }
    init_no_event_loop();
    let dir = support::data_dir().join("offline-vs-online");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = ServerConfig::local(dir.join("server.sqlite3"));
    let guide = demo::seed(&config, support::today()).expect("demo seed");
    let item = item(&guide);
    let server = ServerHandle::start(config).expect("server starts");
    let proxy = FaultProxy::start(server.addr()).expect("proxy starts");

    println!(
        "{SCANS} receiving scans back to back through ui::on_scan, release build, real server behind the fault proxy"
    );
    println!(
        "| round trip | mode | 500 scans take | per scan median | p99 | all on the server after |"
    );
    println!("| ---: | --- | ---: | ---: | ---: | ---: |");
    let mut ratios = Vec::new();
    for rtt in RTTS_MS {
        proxy.set(Fault::Delay {
            one_way_ms: rtt / 2,
            jitter_ms: 0,
        });
        let run_dir = dir.join(format!("rtt-{rtt}"));
        std::fs::create_dir_all(&run_dir).unwrap();
        let off = offline_first(&run_dir, &server.url(), &proxy.url(), &item);
        let on = online_only(&run_dir, &server.url(), &proxy.url(), &item);
        for (mode, r) in [("offline-first", &off), ("online-only", &on)] {
            let (median, p99, _) = support::summary(&r.samples);
            println!(
                "| {rtt} ms | {mode} | {:.2} s | {} | {} | {} |",
                r.total.as_secs_f64(),
                support::ms(median),
                support::ms(p99),
                r.all_on_server
                    .map_or("(each scan waited)".to_string(), |d| format!(
                        "{:.2} s",
                        d.as_secs_f64()
                    )),
            );
        }
        ratios.push((rtt, on.total.as_secs_f64() / off.total.as_secs_f64()));
    }
    for (rtt, ratio) in ratios {
        println!("ratio at {rtt} ms: online-only takes {ratio:.1}x as long as offline-first");
    }
    proxy.stop();
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

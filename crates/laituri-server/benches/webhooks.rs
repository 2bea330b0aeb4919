//! Webhook deliveries per second, on both backends: `stock_level_changed` events made by the real
//! path (a device's pushes of goods received, one event per product a push moved, its levels read
//! at fan-out) and delivered by the real worker (`webhooks::Worker`, the shipped settings) to a
//! receiver on 127.0.0.1 that answers 204, one subscription per merchant.
//!
//! Two measurements:
//! - **backlog**: N events waiting in the outbox (pushed while no worker runs), then the worker
//!   starts: deliveries per second from its start until the receiver has them all;
//! - **live**: the worker running and pushes arriving at about half the backlog's rate: the time
//!   from each event's transaction (its `created_at`, the server's clock) to its receipt,
//!   median, p99 and max. The worker sleeps its tick (1 s shipped) when it finds nothing, so at a
//!   low rate that sleep is most of the wait.
//!
//! Run with `cargo bench -p laituri-server --bench webhooks` (5,000 events; `-- --backend=sqlite`
//! or `postgres` for one, `--events=N`, `--tick-ms=N` for the worker's idle tick). PostgreSQL
//! runs when `LAITURI_TEST_POSTGRES` names a server or `--backend=postgres` is given (a
//! throwaway cluster then). It asserts no timings. Under `cargo test` it delivers 200 events.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::StatusCode;
use laituri_domain::calendar::Date;
use laituri_protocol::{
    EnrolRequest, Event, EventBody, EventOutcome, GoodsCondition, PROTOCOL_VERSION, Webhook,
    WebhookEventType,
};
use laituri_server::webhooks::{Settings, WebhookToStore, Worker};
use laituri_server::{ServerConfig, Store, demo};
use uuid::Uuid;

#[path = "support/pg.rs"]
mod pg;

/// What the receiver got: event ids, and per event the milliseconds from its `created_at` to
/// its receipt.
#[derive(Default)]
struct Got {
    ids: HashSet<Uuid>,
    repeated: u64,
    latencies_ms: Vec<i64>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// `2026-03-15T08:30:00.123Z` as Unix milliseconds.
fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    let n = |a: usize, b: usize| s.get(a..b)?.parse::<i64>().ok();
    let (y, mo, d) = (n(0, 4)?, n(5, 7)?, n(8, 10)?);
    let (h, mi, sec, ms) = (n(11, 13)?, n(14, 16)?, n(17, 19)?, n(20, 23)?);
    // Howard Hinnant's days-from-civil.
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + mi) * 60_000 + sec * 1_000 + ms)
}

/// A receiver on 127.0.0.1 answering 204 to everything; where it listens.
async fn receiver(got: Arc<Mutex<Got>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(move |body: Bytes| {
        let got = got.clone();
        async move {
            let at = now_ms();
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let id = v["id"].as_str().and_then(|s| s.parse::<Uuid>().ok());
            let made = v["created_at"].as_str().and_then(parse_rfc3339_ms);
            let mut g = got.lock().unwrap();
            if let Some(id) = id
                && !g.ids.insert(id)
            {
                g.repeated += 1;
            }
            if let Some(made) = made {
                g.latencies_ms.push(at - made);
            }
            StatusCode::NO_CONTENT
        }
    });
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{addr}/hooks")
}

/// The demo's products without lot, expiry or serial, by merchant.
fn products_by_merchant() -> Vec<(String, Vec<String>)> {
    let mut by: Vec<(String, Vec<String>)> = Vec::new();
    for p in demo::data().products {
        if p.track_lot || p.track_expiry || p.track_serial || !p.kit.is_empty() {
            continue;
        }
        match by.iter_mut().find(|(m, _)| *m == p.merchant_id) {
            Some((_, list)) => list.push(p.id),
            None => by.push((p.merchant_id, vec![p.id])),
        }
    }
    by
}

/// A device that receives goods: each push opens a receipt of one merchant and receives one
/// unit of each of its products into a tote, one `stock_level_changed` per product.
struct Receiving {
    device: Uuid,
    seq: u64,
    pushes: u64,
}

impl Receiving {
    async fn enrol(store: &dyn Store) -> Receiving {
        let device = Uuid::now_v7();
        store
            .enrol_device(
                &EnrolRequest {
                    enrolment_code: demo::ENROLMENT_CODE.into(),
                    device_id: device,
                    device_name: "webhook bench".into(),
                    protocol_version: PROTOCOL_VERSION,
                },
                &Uuid::now_v7().to_string(),
                None,
            )
            .await
            .unwrap();
        Receiving {
            device,
            seq: 0,
            pushes: 0,
        }
    }

    /// One push of `products` of `merchant`; answers how many events it made.
    async fn push(&mut self, store: &dyn Store, merchant: &str, products: &[String]) -> usize {
        self.pushes += 1;
        let receipt = Uuid::now_v7();
        let tote = format!("T-WH{:06}", self.pushes);
        let mut bodies = vec![EventBody::ReceiptOpened {
            receipt_id: receipt,
            merchant_id: merchant.into(),
            notice_id: None,
            dock: "DOCK-1".into(),
        }];
        for p in products {
            bodies.push(EventBody::GoodsReceived {
                receipt_id: receipt,
                merchant_id: merchant.into(),
                product_id: p.clone(),
                quantity: 1,
                lot: None,
                expiry: None,
                serial: None,
                container: tote.clone(),
                location: "DOCK-1".into(),
                condition: GoodsCondition::Good,
                barcode: p.clone(),
            });
        }
        let events: Vec<Event> = bodies
            .iter()
            .map(|b| {
                self.seq += 1;
                Event::new(Uuid::now_v7(), self.device, self.seq, "OP-1900", 0, b)
            })
            .collect();
        let answer = store.push(self.device, &events).await.unwrap();
        for r in &answer.results {
            assert_eq!(r.outcome, EventOutcome::Applied, "seq {}", r.seq);
        }
        products.len()
    }
}

/// Pushes until at least `events` events were made, merchant after merchant; answers how many.
async fn make_events(
    store: &dyn Store,
    dev: &mut Receiving,
    products: &[(String, Vec<String>)],
    events: usize,
    pace: Option<Duration>,
) -> usize {
    let mut made = 0;
    let started = Instant::now();
    'outer: loop {
        for (merchant, list) in products {
            if made >= events {
                break 'outer;
            }
            let take = list.len().min(events - made);
            made += dev.push(store, merchant, &list[..take]).await;
            if let Some(per_event) = pace {
                // Offered at a steady rate: the next push when the events so far are due.
                let due = per_event.mul_f64(made as f64);
                if let Some(wait) = due.checked_sub(started.elapsed()) {
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
    made
}

/// Waits until the receiver has `n` events (at most `limit`); answers the time it took.
async fn until_received(got: &Mutex<Got>, n: usize, since: Instant, limit: Duration) -> Duration {
    loop {
        if got.lock().unwrap().ids.len() >= n {
            return since.elapsed();
        }
        if since.elapsed() > limit {
            let have = got.lock().unwrap().ids.len();
            panic!("the receiver has {have} of {n} events after {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

async fn run(backend: &str, store: Arc<dyn Store>, events: usize, settings: Settings) {
    let got = Arc::new(Mutex::new(Got::default()));
    let url = receiver(got.clone()).await;
    let products = products_by_merchant();
    // What the seed left in the outbox goes to nobody: fanned out before anyone subscribes.
    loop {
        let waiting = store.events_to_fan_out(1_000).await.unwrap();
        if waiting.is_empty() {
            break;
        }
        for e in &waiting {
            store.fan_out(e.event_id, None).await.unwrap();
        }
    }
    for (merchant, _) in &products {
        store
            .create_webhook(&WebhookToStore {
                listed: Webhook {
                    id: Uuid::now_v7(),
                    merchant_id: merchant.clone(),
                    url: url.clone(),
                    event_types: vec![WebhookEventType::StockLevelChanged],
                    active: true,
                    created_at_ms: 0,
                },
                secret: "a-benchmark's-secret-0123456789".into(),
            })
            .await
            .unwrap();
    }
    let mut dev = Receiving::enrol(&*store).await;

    // Backlog: every event waits in the outbox, then the worker starts.
    let started = Instant::now();
    let made = make_events(&*store, &mut dev, &products, events, None).await;
    let pushed = started.elapsed();
    let worker = Worker {
        settings: settings.clone(),
        clock: laituri_server::clock::Clock::system(),
    };
    let started = Instant::now();
    let task = tokio::spawn(worker.run(store.clone()));
    let took = until_received(&got, made, started, Duration::from_secs(1_800)).await;
    let rate = made as f64 / took.as_secs_f64();
    println!(
        "{backend}: backlog of {made} stock_level_changed events ({} pushes, {:.2} s) delivered \
         in {:.2} s: {rate:.0} deliveries/s (batch {}, tick {} ms)",
        dev.pushes,
        pushed.as_secs_f64(),
        took.as_secs_f64(),
        settings.batch,
        settings.tick.as_millis()
    );

    // Live: pushes at about half that rate while the worker runs.
    let live = (made / 5).max(50);
    let before = {
        let mut g = got.lock().unwrap();
        g.latencies_ms.clear();
        g.ids.len()
    };
    let per_event = Duration::from_secs_f64(2.0 / rate.max(1.0));
    let started = Instant::now();
    let made_live = make_events(&*store, &mut dev, &products, live, Some(per_event)).await;
    until_received(
        &got,
        before + made_live,
        started,
        Duration::from_secs(1_800),
    )
    .await;
    let offered = made_live as f64 / started.elapsed().as_secs_f64();
    task.abort();
    let g = got.lock().unwrap();
    let mut lat = g.latencies_ms.clone();
    lat.sort_unstable();
    println!(
        "{backend}: live, {made_live} events offered at {offered:.0}/s: from the change's \
         transaction to the receipt median {} ms, p99 {} ms, max {} ms; events received twice: {}",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or(0),
        g.repeated
    );
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let arg = |name: &str| {
        std::env::args().find_map(|a| a.strip_prefix(&format!("--{name}=")).map(str::to_string))
    };
    let events = arg("events")
        .and_then(|n| n.parse().ok())
        .unwrap_or(if full { 5_000 } else { 200 });
    let only = arg("backend").map(|b| b.to_lowercase());
    let mut settings = Settings::default();
    if let Some(tick) = arg("tick-ms").and_then(|n| n.parse().ok()) {
        settings.tick = Duration::from_millis(tick);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let postgres_wanted = std::env::var_os("LAITURI_TEST_POSTGRES").is_some()
        || only.as_deref().is_some_and(|o| o.starts_with("postgres"));
    for backend in ["SQLite", "PostgreSQL"] {
        if only
            .as_ref()
            .is_some_and(|o| !backend.to_lowercase().starts_with(o.as_str()))
        {
            continue;
        }
        if backend == "PostgreSQL" && !postgres_wanted {
            println!("PostgreSQL: skipped (set LAITURI_TEST_POSTGRES or pass --backend=postgres)");
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let mut config = ServerConfig::local(dir.path().join("bench.sqlite3"));
        let _pg = (backend == "PostgreSQL").then(|| {
            let pg = pg::postgres_for_bench(&rt);
            config.database_url = Some(pg.url.clone());
            pg
        });
        demo::seed(&config, Date::parse_iso("2026-01-01").unwrap()).unwrap();
        rt.block_on(async {
            let store = config.open_backend().await.unwrap();
            run(backend, store, events, settings.clone()).await;
        });
    }
}

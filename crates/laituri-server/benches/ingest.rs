//! Ingest benchmark, on both backends side by side (SQLite with WAL and synchronous=FULL on a
//! temporary file; PostgreSQL on a throwaway cluster, or the server in `LAITURI_TEST_POSTGRES`):
//! - 100,000 events of one device pushed in batches of 2,000, as a terminal back online sends them;
//! - closed loop: 1, 50 and 500 simulated devices pushing batches of `GoodsReceived` events over
//!   loopback as fast as the server answers: the highest sustained events/s and push latency;
//! - open loop: 500 devices each sending one small batch every 2 s (a floor's rate, phases
//!   spread), for 20 s: the push latency a terminal sees at that load (p99 target 100 ms).
//!
//! Run with `cargo bench -p laituri-server --bench ingest` (`-- --backend=postgres` or `sqlite`
//! for one backend, `-- --open-loop` for the open loop alone). It prints figures and asserts no
//! timings: they depend on the machine and on what else runs on it. Request bodies are serialised
//! before the clock starts, so the figures measure the server (and HTTP), not the client's JSON.

use std::sync::Arc;
use std::time::{Duration, Instant};

use laituri_domain::calendar::Date;
use laituri_protocol::{
    EnrolRequest, EnrolResponse, Event, EventBody, GoodsCondition, PROTOCOL_HEADER,
    PROTOCOL_VERSION, PushRequest, PushResponse, paths,
};
use laituri_server::{ServerConfig, ServerHandle, demo};
use uuid::Uuid;

#[path = "support/pg.rs"]
mod pg;
use pg::postgres_for_bench;

struct Scenario {
    devices: usize,
    batches_per_device: usize,
    batch_size: usize,
}

const SCENARIOS: &[Scenario] = &[
    // A terminal back online with 100,000 waiting events, pushed in the terminal's batches of
    // 2,000 (the server's side of `cargo bench --bench sync -- push`).
    Scenario {
        devices: 1,
        batches_per_device: 50,
        batch_size: 2000,
    },
    Scenario {
        devices: 1,
        batches_per_device: 40,
        batch_size: 250,
    },
    Scenario {
        devices: 50,
        batches_per_device: 4,
        batch_size: 200,
    },
    Scenario {
        devices: 500,
        batches_per_device: 2,
        batch_size: 100,
    },
];

/// Products and locations of the demo that GoodsReceived events rotate through.
const PRODUCTS: &[&str] = &["KO-006", "KO-007", "KO-008", "KO-009", "KO-010"];
const TOTES: &[&str] = &["T-0001", "T-0002", "T-0003", "T-0004"];

struct Device {
    token: String,
    /// Pre-serialised push bodies, in seq order.
    bodies: Vec<Vec<u8>>,
}

fn event(device: Uuid, seq: u64, body: &EventBody) -> Event {
    Event::new(Uuid::now_v7(), device, seq, "OP-1001", 0, body)
}

fn build_bodies(device: Uuid, s: &Scenario) -> Vec<Vec<u8>> {
    let receipt = Uuid::now_v7();
    let mut seq = 1;
    let mut bodies = Vec::new();
    // The first push opens the receipt; it is sent before the clock starts.
    let open = EventBody::ReceiptOpened {
        receipt_id: receipt,
        merchant_id: demo::KETTU.into(),
        notice_id: None,
        dock: "DOCK-1".into(),
    };
    bodies.push(
        serde_json::to_vec(&PushRequest {
            device_id: device,
            events: vec![event(device, seq, &open)],
        })
        .unwrap(),
    );
    seq += 1;
    for _ in 0..s.batches_per_device {
        let events: Vec<Event> = (0..s.batch_size)
            .map(|i| {
                let body = EventBody::GoodsReceived {
                    receipt_id: receipt,
                    merchant_id: demo::KETTU.into(),
                    product_id: PRODUCTS[i % PRODUCTS.len()].into(),
                    quantity: 1,
                    lot: None,
                    expiry: None,
                    serial: None,
                    container: TOTES[i % TOTES.len()].into(),
                    location: "DOCK-1".into(),
                    condition: GoodsCondition::Good,
                    barcode: "6498765000061".into(),
                };
                let e = event(device, seq, &body);
                seq += 1;
                e
            })
            .collect();
        bodies.push(
            serde_json::to_vec(&PushRequest {
                device_id: device,
                events,
            })
            .unwrap(),
        );
    }
    bodies
}

/// Answers "busy" (503), and connections closed under a push, that the benchmark met: a terminal
/// sends the same batch again after a pause, and so does the benchmark, the wait counted in the
/// push's latency.
static BUSY: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

async fn push(client: &reqwest::Client, url: &str, d: &Device, body: Vec<u8>) -> Duration {
    let start = Instant::now();
    loop {
        let resp = client
            .post(url)
            .bearer_auth(&d.token)
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await;
        // A connection the server closed as it was reused (an idle keep-alive timing out): a
        // terminal sends again, and so does the benchmark.
        let Ok(resp) = resp else {
            BUSY.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(250)).await;
            continue;
        };
        let status = resp.status();
        let text = resp.text().await.expect("push answered");
        if status == reqwest::StatusCode::SERVICE_UNAVAILABLE {
            BUSY.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(250)).await;
            continue;
        }
        assert!(status.is_success(), "push failed: {status} {text}");
        let parsed: PushResponse = serde_json::from_str(&text).expect("a PushResponse");
        assert!(parsed.acked_through > 0);
        return start.elapsed();
    }
}

/// The busy answers since the last call.
fn busy_answers() -> usize {
    BUSY.swap(0, std::sync::atomic::Ordering::Relaxed)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[idx]
}

async fn run(server_url: &str, s: &Scenario) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1000)
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let push_url = format!("{server_url}{}", paths::PUSH);

    // Enrol and open a receipt per device, outside the measurement.
    let devices = enrol(&client, server_url, s.devices, |id| build_bodies(id, s)).await;

    let (latencies, elapsed) = drive(devices, Arc::new(client), push_url, None).await;
    let events = s.devices * s.batches_per_device * s.batch_size;
    println!(
        "{:>4} devices x {:>2} batches x {:>3} events = {:>6} events in {:>6.2} s: {:>7.0} events/s; \
         {}",
        s.devices,
        s.batches_per_device,
        s.batch_size,
        events,
        elapsed.as_secs_f64(),
        events as f64 / elapsed.as_secs_f64(),
        latency_summary(&latencies),
    );
}

/// Enrols `n` devices and opens a receipt for each (outside any measurement); each gets its
/// bodies from `bodies`.
async fn enrol(
    client: &reqwest::Client,
    server_url: &str,
    n: usize,
    bodies: impl Fn(Uuid) -> Vec<Vec<u8>>,
) -> Vec<Device> {
    let push_url = format!("{server_url}{}", paths::PUSH);
    let mut devices = Vec::with_capacity(n);
    for _ in 0..n {
        let id = Uuid::now_v7();
        let resp: EnrolResponse = client
            .post(format!("{server_url}{}", paths::ENROL))
            .json(&EnrolRequest {
                enrolment_code: demo::ENROLMENT_CODE.into(),
                device_id: id,
                device_name: "bench".into(),
                protocol_version: PROTOCOL_VERSION,
            })
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut all = bodies(id);
        let open = all.remove(0);
        let d = Device {
            token: resp.token,
            bodies: all,
        };
        push(client, &push_url, &d, open).await;
        devices.push(d);
    }
    devices
}

/// Pushes every device's bodies in order, devices in parallel: as fast as answered (closed loop),
/// or with `period` one body per device per period, phases spread over it (open loop: a slow
/// server does not slow the offered load down). Answers the sorted latencies and the time taken.
async fn drive(
    devices: Vec<Device>,
    client: Arc<reqwest::Client>,
    url: String,
    period: Option<Duration>,
) -> (Vec<Duration>, Duration) {
    let start = Instant::now();
    let n = devices.len();
    let mut tasks = Vec::with_capacity(n);
    for (i, mut d) in devices.into_iter().enumerate() {
        let (client, url) = (client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let bodies = std::mem::take(&mut d.bodies);
            let mut latencies = Vec::with_capacity(bodies.len());
            for (round, body) in bodies.into_iter().enumerate() {
                if let Some(period) = period {
                    let phase = period.mul_f64(i as f64 / n as f64);
                    let due = start + phase + period * round as u32;
                    tokio::time::sleep_until(due.into()).await;
                }
                latencies.push(push(&client, &url, &d, body).await);
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed();
    latencies.sort();
    (latencies, elapsed)
}

/// "push latency p50 …, p99 …, max …; N busy answers" of sorted latencies.
fn latency_summary(sorted: &[Duration]) -> String {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "push latency p50 {:>6.1} ms, p99 {:>6.1} ms, max {:>6.1} ms; {} busy answers",
        ms(percentile(sorted, 0.50)),
        ms(percentile(sorted, 0.99)),
        ms(sorted.last().copied().unwrap_or_default()),
        busy_answers(),
    )
}

/// A floor's load: every device sends its next batch every `period`, whatever the answers of the
/// others (open loop: a slow server does not slow the offered load down).
struct OpenLoop {
    devices: usize,
    period: Duration,
    batch_size: usize,
    duration: Duration,
}

async fn run_open_loop(server_url: &str, o: &OpenLoop) {
    let client = Arc::new(
        reqwest::Client::builder()
            .pool_max_idle_per_host(1000)
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap(),
    );
    let rounds = (o.duration.as_secs_f64() / o.period.as_secs_f64()).ceil() as usize;
    let scenario = Scenario {
        devices: o.devices,
        batches_per_device: rounds,
        batch_size: o.batch_size,
    };
    let devices = enrol(&client, server_url, o.devices, |id| {
        build_bodies(id, &scenario)
    })
    .await;
    let push_url = format!("{server_url}{}", paths::PUSH);
    let (latencies, elapsed) = drive(devices, client, push_url, Some(o.period)).await;
    let events = o.devices * rounds * o.batch_size;
    println!(
        "open loop: {} devices, a batch of {} every {:.2} s for {:.1} s = {} events ({:.0} events/s \
         offered) in {:.2} s; {}",
        o.devices,
        o.batch_size,
        o.period.as_secs_f64(),
        o.duration.as_secs_f64(),
        events,
        (o.devices * o.batch_size) as f64 / o.period.as_secs_f64(),
        elapsed.as_secs_f64(),
        latency_summary(&latencies),
    );
}

/// A PostgreSQL server for the run: `LAITURI_TEST_POSTGRES`, or a throwaway cluster (stopped
/// when the returned guard drops), and a fresh database on it.
fn main() {
    // `cargo bench` passes `--bench`: the full run. Anything else is a quick check.
    let full = std::env::args().any(|a| a == "--bench");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let pg = postgres_for_bench(&rt);
    // `-- --backend=postgres` (or sqlite) runs one backend only.
    let only: Option<String> =
        std::env::args().find_map(|a| a.strip_prefix("--backend=").map(str::to_lowercase));
    // `-- --open-loop` runs only the floor's load, on a server that saw nothing else before.
    let open_loop_only = std::env::args().any(|a| a == "--open-loop");
    for backend in ["SQLite", "PostgreSQL"] {
        if only
            .as_ref()
            .is_some_and(|o| !backend.to_lowercase().starts_with(o.as_str()))
        {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let mut config = ServerConfig::local(dir.path().join("bench.sqlite3"));
        if backend == "PostgreSQL" {
            config.database_url = Some(pg.url.clone());
        }
        demo::seed(&config, Date::parse_iso("2026-01-01").unwrap()).unwrap();
        let server = ServerHandle::start(config).unwrap();
        let url = server.url();
        println!("{backend}: ingest over loopback into {url}");
        if full {
            for s in SCENARIOS.iter().filter(|_| !open_loop_only) {
                rt.block_on(run(&url, s));
            }
            rt.block_on(run_open_loop(
                &url,
                &OpenLoop {
                    devices: 500,
                    period: Duration::from_secs(2),
                    batch_size: 5,
                    duration: Duration::from_secs(20),
                },
            ));
        } else {
            // Under `cargo test`: a quick run that only shows the benchmark still works.
            let quick = Scenario {
                devices: 2,
                batches_per_device: 2,
                batch_size: 10,
            };
            rt.block_on(run(&url, &quick));
            rt.block_on(run_open_loop(
                &url,
                &OpenLoop {
                    devices: 3,
                    period: Duration::from_millis(50),
                    batch_size: 2,
                    duration: Duration::from_millis(100),
                },
            ));
        }
        server.stop();
    }
    drop(rt);
}

//! Ingest benchmark: events per second and push latency for 1, 50 and 500 simulated devices
//! pushing batches of `GoodsReceived` events over loopback to a real server (SQLite, WAL,
//! synchronous=FULL) on a temporary database.
//!
//! Run with `cargo bench -p laituri-server --bench ingest`. It prints figures and asserts no
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

struct Scenario {
    devices: usize,
    batches_per_device: usize,
    batch_size: usize,
}

const SCENARIOS: &[Scenario] = &[
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
    id: Uuid,
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

async fn push(client: &reqwest::Client, url: &str, d: &Device, body: Vec<u8>) -> Duration {
    let start = Instant::now();
    let resp = client
        .post(url)
        .bearer_auth(&d.token)
        .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("push sent");
    let status = resp.status();
    let text = resp.text().await.expect("push answered");
    assert!(status.is_success(), "push failed: {status} {text}");
    let parsed: PushResponse = serde_json::from_str(&text).expect("a PushResponse");
    assert!(parsed.acked_through > 0);
    start.elapsed()
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
    let mut devices = Vec::with_capacity(s.devices);
    for _ in 0..s.devices {
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
        let mut bodies = build_bodies(id, s);
        let open = bodies.remove(0);
        let d = Device {
            id,
            token: resp.token,
            bodies,
        };
        push(&client, &push_url, &d, open).await;
        devices.push(d);
    }

    let start = Instant::now();
    let mut tasks = Vec::with_capacity(devices.len());
    let client = Arc::new(client);
    for mut d in devices {
        let client = client.clone();
        let url = push_url.clone();
        tasks.push(tokio::spawn(async move {
            let _ = d.id;
            let bodies = std::mem::take(&mut d.bodies);
            let mut latencies = Vec::with_capacity(bodies.len());
            for body in bodies {
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
    let events = s.devices * s.batches_per_device * s.batch_size;
    println!(
        "{:>4} devices x {:>2} batches x {:>3} events = {:>6} events in {:>6.2} s: {:>7.0} events/s; \
         push latency p50 {:>6.1} ms, p99 {:>6.1} ms, max {:>6.1} ms",
        s.devices,
        s.batches_per_device,
        s.batch_size,
        events,
        elapsed.as_secs_f64(),
        events as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
    );
}

fn main() {
    // `cargo bench` passes `--bench`: the full run. Anything else is a quick check.
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig::local(dir.path().join("bench.sqlite3"));
    demo::seed(&config, Date::parse_iso("2026-01-01").unwrap()).unwrap();
    let server = ServerHandle::start(config).unwrap();
    let url = server.url();
    println!("ingest over loopback into {}", server.url());

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if std::env::args().any(|a| a == "--bench") {
        for s in SCENARIOS {
            rt.block_on(run(&url, s));
        }
    } else {
        // Under `cargo test`: a quick run that only shows the benchmark still works.
        let quick = Scenario {
            devices: 2,
            batches_per_device: 2,
            batch_size: 10,
        };
        rt.block_on(run(&url, &quick));
    }
    drop(rt);
    server.stop();
}

//! Webhooks to merchants, end to end through the real server, on both backends: a merchant
//! subscribes; its orders come in through the integration API, are released by the planner,
//! picked through device pushes and cancelled; every status change and stock change is POSTed
//! to a real receiver on 127.0.0.1 that first is not listening, then hangs past the timeout,
//! then answers 500, then accepts, with the server's clock driven past each backoff by hand.
//! Every event arrives signed over its raw body, with the same id on every attempt; a
//! redelivery sends it again; deleted and inactive subscriptions and other merchants' get
//! nothing; 410 Gone deactivates a subscription; and a server stopped between the commit and
//! the delivery delivers after it starts again on the same database.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode as AxumStatus, Uri};
use base64::Engine;
use common::{Device, TestServer, api_error, json_ok};
use hmac::{KeyInit, Mac};
use laituri_protocol::webhooks::{ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use laituri_protocol::{
    DeliveryStatus, DroppedTote, EventBody, EventOutcome, GoodsCondition, IN_TRANSIT, LeaseRequest,
    LeaseResponse, NewWebhook, Order, Place, PushResponse, StockMove, TaskClaim, TaskKind, Webhook,
    WebhookDelivery, WebhookEnvelope, WebhookEventType, paths,
};
use laituri_server::clock::Clock;
use laituri_server::demo::outbound::{Shelving, shelve};
use laituri_server::demo::{KETTU, NORDIC};
use laituri_server::webhooks::Settings;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

const PRODUCT: &str = "KO-006";
const BIN: &str = "B-01-01-1";
const SECRET: &str = "a-merchant's-secret-0123456789";
const HOUR: Duration = Duration::from_secs(3_600);

/// What the receiver does with a request.
const HANG: u8 = 1;
const FAIL: u8 = 2;
const ACCEPT: u8 = 3;
const GONE: u8 = 4;

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Got {
    path: String,
    id: String,
    timestamp: String,
    signature: String,
    body: Bytes,
}

impl Got {
    fn envelope(&self) -> WebhookEnvelope {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A merchant's receiver on 127.0.0.1: not listening until [`Receiver::listen`].
#[derive(Clone)]
struct Receiver {
    addr: SocketAddr,
    mode: Arc<AtomicU8>,
    got: Arc<Mutex<Vec<Got>>>,
}

impl Receiver {
    /// A port that nothing listens on (yet).
    fn closed() -> Receiver {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = probe.local_addr().unwrap();
        drop(probe);
        Receiver {
            addr,
            mode: Arc::new(AtomicU8::new(ACCEPT)),
            got: Arc::default(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }

    async fn listen(&self) {
        let listener = tokio::net::TcpListener::bind(self.addr).await.unwrap();
        let me = self.clone();
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let me = me.clone();
            async move {
                let header = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string()
                };
                me.got.lock().unwrap().push(Got {
                    path: uri.path().to_string(),
                    id: header(ID_HEADER),
                    timestamp: header(TIMESTAMP_HEADER),
                    signature: header(SIGNATURE_HEADER),
                    body,
                });
                match me.mode.load(Ordering::SeqCst) {
                    HANG => {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        (AxumStatus::OK, String::new())
                    }
                    FAIL => (
                        AxumStatus::INTERNAL_SERVER_ERROR,
                        format!("try later {}", "x".repeat(1_000)),
                    ),
                    GONE => (AxumStatus::GONE, "no such shop".into()),
                    _ => (AxumStatus::NO_CONTENT, String::new()),
                }
            }
        });
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
    }

    fn got(&self, path: &str) -> Vec<Got> {
        let all = self.got.lock().unwrap();
        all.iter().filter(|g| g.path == path).cloned().collect()
    }
}

/// A seeded server whose clock the test moves, delivering with a short timeout.
fn server(clock: &Clock, deliver: bool) -> TestServer {
    let (dir, pg, mut config) = common::fresh_config();
    config.clock = clock.clone();
    config.webhooks = Settings {
        enabled: deliver,
        tick: Duration::from_millis(20),
        timeout: Duration::from_millis(500),
        ..Settings::default()
    };
    let s = TestServer::start_on(dir, pg, config);
    laituri_server::demo::seed(&s.config, common::today()).unwrap();
    s
}

async fn subscribe(s: &TestServer, key: &str, body: Value) -> NewWebhook {
    let resp = s
        .client
        .post(s.url(paths::WEBHOOKS))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    json_ok(resp).await
}

async fn deliveries(s: &TestServer, key: &str, webhook: Uuid) -> Vec<WebhookDelivery> {
    let resp = s
        .client
        .get(s.url(&format!("{}/{webhook}/deliveries", paths::WEBHOOKS)))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    json_ok(resp).await
}

/// The delivery log of `webhook` once `done` holds for it (the worker runs beside the test).
async fn log_until(
    s: &TestServer,
    key: &str,
    webhook: Uuid,
    what: &str,
    done: impl Fn(&[WebhookDelivery]) -> bool,
) -> Vec<WebhookDelivery> {
    let mut log = Vec::new();
    for _ in 0..1_500 {
        log = deliveries(s, key, webhook).await;
        if done(&log) {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{what} never happened: {log:#?}");
}

async fn applied(s: &TestServer, dev: &Device, evs: &[laituri_protocol::Event]) {
    let resp: PushResponse = json_ok(s.push(dev, evs).await).await;
    for r in &resp.results {
        assert_eq!(r.outcome, EventOutcome::Applied, "{r:?}");
    }
}

fn order(reference: &str) -> Value {
    json!({
        "merchant_id": KETTU, "reference": reference,
        "lines": [{"product_id": PRODUCT, "quantity": 2}], "shipping_method": "posti-parcel",
        "recipient": {"name": "Asiakas Aatu", "address": "Salakatu 1", "postcode": "00100",
                      "city": "Helsinki", "country": "FI", "email": "aatu@example.fi"},
        "comments": "ovikoodi 4321"
    })
}

async fn post(s: &TestServer, key: &str, path: &str, body: Option<Value>) -> reqwest::Response {
    let mut req = s.client.post(s.url(path)).bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

fn goods(qty: i64, from: Place, to: Place) -> StockMove {
    StockMove {
        merchant_id: KETTU.into(),
        product_id: PRODUCT.into(),
        quantity: qty,
        lot: None,
        expiry: None,
        serial: None,
        condition: GoodsCondition::Good,
        from: Some(from),
        to: Some(to),
        reason: None,
    }
}

/// Goods in, an order through the integration API released by the planner and picked through
/// device pushes, and another order cancelled: answers (the picked order, the cancelled one).
async fn floor_work(s: &TestServer, key: &str) -> (Order, Order) {
    let mut dev = s.device().await;
    let receipt = Uuid::now_v7();
    let shelving = Shelving {
        merchant: KETTU,
        product: PRODUCT,
        barcode: common::KETTU_GTIN,
        units: 5,
        lot: None,
        expiry: None,
        tote: "T-IN-WH",
        bin: BIN,
    };
    let evs: Vec<_> = shelve(receipt, &shelving)
        .iter()
        .map(|b| dev.event(b))
        .collect();
    applied(s, &dev, &evs).await;

    let picked: Order = json_ok(post(s, key, paths::ORDERS, Some(order("WH-1"))).await).await;
    let released = post(s, common::ADMIN, paths::RELEASE_ORDERS, Some(json!({}))).await;
    assert_eq!(released.status(), StatusCode::OK);
    let cancelled: Order = json_ok(post(s, key, paths::ORDERS, Some(order("WH-2"))).await).await;
    let cancel = format!("{}/{}/cancel", paths::ORDERS, cancelled.id);
    let cancelled: Order = json_ok(post(s, key, &cancel, None).await).await;

    let lease: LeaseResponse = json_ok(
        s.device_post(
            &dev,
            paths::LEASE,
            &LeaseRequest {
                task_id: None,
                kind: Some(TaskKind::Pick),
            },
        )
        .await,
    )
    .await;
    let task = lease.packet.task;
    let claim = TaskClaim {
        task_id: task.task_id.clone(),
        token: lease.packet.lease.token,
    };
    let tote = format!("T-PICK-{}", task.orders[0].slot);
    let mut evs = Vec::new();
    for line in &task.lines {
        let bin = line.goods.from.clone().unwrap();
        evs.push(dev.event(&EventBody::Picked {
            task: claim.clone(),
            order_id: line.order_id.unwrap(),
            line_id: line.line_id.clone().unwrap(),
            tote: tote.clone(),
            suggested_lot: None,
            moves: vec![goods(
                line.goods.quantity,
                bin,
                Place::in_container(IN_TRANSIT, &tote),
            )],
        }));
    }
    evs.push(dev.event(&EventBody::TotesDropped {
        task: claim.clone(),
        location: "PACK-1".into(),
        totes: vec![DroppedTote {
            order_id: picked.id,
            tote: tote.clone(),
        }],
        moves: vec![goods(
            2,
            Place::in_container(IN_TRANSIT, &tote),
            Place::in_container("PACK-1", &tote),
        )],
    }));
    evs.push(dev.event(&EventBody::PickFinished { task: claim }));
    applied(s, &dev, &evs).await;
    (picked, cancelled)
}

fn signed(got: &Got) -> bool {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(&got.body);
    let want = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    got.signature == format!("sha256={want}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_arrives_signed_through_refusal_timeout_and_errors() {
    let clock = Clock::manual(1_773_563_400_000);
    let s = server(&clock, true);
    let key = s.merchant_key(KETTU).await;
    let rx = Receiver::closed();
    let types = json!(["order_status_changed", "stock_level_changed"]);
    let hook = subscribe(
        &s,
        &key,
        json!({"url": rx.url("/kettu"), "event_types": types, "secret": SECRET}),
    )
    .await;
    assert_eq!(hook.secret, SECRET);
    assert_eq!(hook.listed.merchant_id, KETTU);
    // Subscriptions that must get nothing: deleted, inactive, another merchant's.
    let deleted = subscribe(
        &s,
        &key,
        json!({"url": rx.url("/deleted"), "event_types": types}),
    )
    .await;
    assert!(deleted.secret.starts_with("whsec_") && deleted.secret.len() > 40);
    let resp = s
        .client
        .delete(s.url(&format!("{}/{}", paths::WEBHOOKS, deleted.listed.id)))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    subscribe(
        &s,
        &key,
        json!({"url": rx.url("/inactive"), "event_types": types, "active": false}),
    )
    .await;
    subscribe(
        &s,
        common::ADMIN,
        json!({"merchant_id": NORDIC, "url": rx.url("/nordic"),
               "event_types": WebhookEventType::ALL}),
    )
    .await;
    // Listed without secrets, the merchant's own only.
    let resp = s
        .client
        .get(s.url(paths::WEBHOOKS))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    let text = resp.text().await.unwrap();
    let listed: Vec<Webhook> = serde_json::from_str(&text).unwrap();
    assert_eq!(listed.len(), 2, "{text}");
    assert!(!text.contains(SECRET) && !text.contains("whsec_"), "{text}");

    let (picked, cancelled) = floor_work(&s, &key).await;
    let id = hook.listed.id;

    // Not listening: every delivery is refused once, and waits.
    let log = log_until(&s, &key, id, "refused attempts", |log| {
        log.len() >= 6 && log.iter().all(|d| d.attempts >= 1)
    })
    .await;
    for d in &log {
        assert_eq!(d.status, DeliveryStatus::Pending, "{d:?}");
        assert_eq!(d.last_error.as_deref(), Some("connect"), "{d:?}");
        assert!(d.next_attempt_at_ms.unwrap() > clock.now_ms());
    }
    let count = log.len();
    rx.listen().await;

    // Listening, but no answer within the timeout.
    rx.set(HANG);
    clock.advance(2 * HOUR);
    let log = log_until(&s, &key, id, "attempts timing out", |log| {
        log.iter().all(|d| d.attempts >= 2)
    })
    .await;
    assert!(
        log.iter()
            .all(|d| d.last_error.as_deref() == Some("timeout")),
        "{log:#?}"
    );

    // Answered 500: retried, with a short excerpt of the answer kept.
    rx.set(FAIL);
    clock.advance(2 * HOUR);
    let log = log_until(&s, &key, id, "attempts answered 500", |log| {
        log.iter().all(|d| d.attempts >= 3)
    })
    .await;
    for d in &log {
        assert_eq!(d.last_status_code, Some(500), "{d:?}");
        let excerpt = d.last_response_excerpt.as_deref().unwrap();
        assert!(excerpt.starts_with("try later") && excerpt.len() <= 200);
    }

    // Accepted: every delivery delivered.
    rx.set(ACCEPT);
    clock.advance(2 * HOUR);
    let log = log_until(&s, &key, id, "deliveries", |log| {
        log.iter().all(|d| d.status == DeliveryStatus::Delivered)
    })
    .await;
    assert_eq!(log.len(), count, "no new deliveries: {log:#?}");
    assert!(
        log.iter()
            .all(|d| d.attempts == 4 && d.delivered_at_ms.is_some())
    );

    // Every event: signed over its raw body, the same id and body on every attempt.
    let got = rx.got("/kettu");
    let mut by_id: BTreeMap<String, Vec<&Got>> = BTreeMap::new();
    for g in &got {
        assert!(signed(g), "a bad signature: {g:?}");
        assert!(g.timestamp.parse::<i64>().unwrap() > 1_700_000_000);
        assert_eq!(g.envelope().id.to_string(), g.id);
        by_id.entry(g.id.clone()).or_default().push(g);
    }
    assert_eq!(by_id.len(), count, "one id per event");
    for (event, attempts) in &by_id {
        assert_eq!(attempts.len(), 3, "hang, 500, accepted: {event}");
        assert!(
            attempts.iter().all(|a| a.body == attempts[0].body),
            "{event}"
        );
    }
    let envelopes: Vec<WebhookEnvelope> = by_id.values().map(|a| a[0].envelope()).collect();
    assert!(envelopes.iter().all(|e| e.merchant_id == KETTU));
    let changes: BTreeSet<(Uuid, String, String)> = envelopes
        .iter()
        .filter(|e| e.kind == WebhookEventType::OrderStatusChanged)
        .map(|e| {
            assert!(e.created_at.ends_with('Z'), "{e:?}");
            (
                e.data["order_id"].as_str().unwrap().parse().unwrap(),
                e.data["old_status"].as_str().unwrap().to_string(),
                e.data["new_status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let change = |o: &Order, a: &str, b: &str| (o.id, a.to_string(), b.to_string());
    assert_eq!(
        changes,
        BTreeSet::from([
            change(&picked, "new", "reserved"),
            change(&picked, "reserved", "picking"),
            change(&picked, "picking", "picked"),
            change(&cancelled, "new", "cancelled"),
        ])
    );
    // Stock: one event per push that moved it, with the levels.
    let stock: Vec<&WebhookEnvelope> = envelopes
        .iter()
        .filter(|e| e.kind == WebhookEventType::StockLevelChanged)
        .collect();
    assert_eq!(stock.len(), 2, "the shelving push and the picking push");
    for e in &stock {
        assert_eq!(e.data["product_id"], PRODUCT);
        assert_eq!(e.data["on_hand"], 5, "{e:?}");
        assert!(e.data["available"].is_i64() && e.data["reserved"].is_i64());
    }
    // Nothing personal in any body.
    for g in &got {
        let text = String::from_utf8_lossy(&g.body);
        for personal in ["Asiakas", "Salakatu", "aatu@", "ovikoodi", "00100"] {
            assert!(!text.contains(personal), "{text}");
        }
    }

    // Redelivered by hand: the same id and body again.
    let first = &log[0];
    let path = format!("{}/{id}/deliveries/{}/redeliver", paths::WEBHOOKS, first.id);
    let again: WebhookDelivery = json_ok(post(&s, &key, &path, None).await).await;
    assert_eq!(again.status, DeliveryStatus::Pending);
    log_until(&s, &key, id, "the redelivery", |log| {
        log.iter()
            .any(|d| d.id == first.id && d.status == DeliveryStatus::Delivered && d.attempts == 5)
    })
    .await;
    let resent: Vec<Got> = rx
        .got("/kettu")
        .into_iter()
        .filter(|g| g.id == first.event_id.to_string())
        .collect();
    assert_eq!(resent.len(), 4);
    assert_eq!(resent[3].body, resent[0].body);

    // The others got nothing of this merchant's.
    assert!(rx.got("/deleted").is_empty());
    assert!(rx.got("/inactive").is_empty());
    assert!(
        rx.got("/nordic")
            .iter()
            .all(|g| g.envelope().merchant_id == NORDIC)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_stopped_between_the_commit_and_the_delivery_delivers_after_restart() {
    let clock = Clock::manual(1_773_563_400_000);
    // The first server commits changes and delivers nothing (as one killed right after).
    let mut s = server(&clock, false);
    let key = s.merchant_key(KETTU).await;
    let rx = Receiver::closed();
    rx.listen().await;
    let hook = subscribe(
        &s,
        &key,
        json!({"url": rx.url("/kettu"), "event_types": ["order_status_changed"],
               "secret": SECRET}),
    )
    .await;
    let o: Order = json_ok(post(&s, &key, paths::ORDERS, Some(order("WH-9"))).await).await;
    let cancel = format!("{}/{}/cancel", paths::ORDERS, o.id);
    json_ok::<Order>(post(&s, &key, &cancel, None).await).await;
    assert!(deliveries(&s, &key, hook.listed.id).await.is_empty());

    s.config.webhooks.enabled = true;
    s.restart();
    let log = log_until(&s, &key, hook.listed.id, "delivery after restart", |log| {
        log.len() == 1 && log[0].status == DeliveryStatus::Delivered
    })
    .await;
    let got = rx.got("/kettu");
    assert_eq!(got.len(), 1);
    assert!(signed(&got[0]));
    assert_eq!(got[0].id, log[0].event_id.to_string());
    let e = got[0].envelope();
    assert_eq!(e.kind, WebhookEventType::OrderStatusChanged);
    assert_eq!(e.data["reference"], "WH-9");
    assert_eq!(e.data["new_status"], "cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_deactivates_and_hostile_subscriptions_are_refused_with_what_to_fix() {
    let clock = Clock::manual(1_773_563_400_000);
    let s = server(&clock, true);
    let key = s.merchant_key(KETTU).await;
    let rx = Receiver::closed();
    rx.set(GONE);
    rx.listen().await;
    let hook = subscribe(
        &s,
        &key,
        json!({"url": rx.url("/gone"), "event_types": ["order_status_changed"]}),
    )
    .await;
    let o: Order = json_ok(post(&s, &key, paths::ORDERS, Some(order("WH-5"))).await).await;
    json_ok::<Order>(
        post(
            &s,
            &key,
            &format!("{}/{}/cancel", paths::ORDERS, o.id),
            None,
        )
        .await,
    )
    .await;
    let log = log_until(&s, &key, hook.listed.id, "410 Gone", |log| {
        log.len() == 1 && log[0].status == DeliveryStatus::Failed
    })
    .await;
    assert_eq!(log[0].last_status_code, Some(410));
    let resp = s
        .client
        .get(s.url(&format!("{}/{}", paths::WEBHOOKS, hook.listed.id)))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    let now: Webhook = json_ok(resp).await;
    assert!(!now.active, "deactivated");

    // Changed back to active with another URL, the failed delivery redelivered: delivered.
    rx.set(ACCEPT);
    let resp = s
        .client
        .put(s.url(&format!("{}/{}", paths::WEBHOOKS, hook.listed.id)))
        .bearer_auth(&key)
        .json(&json!({"url": rx.url("/back"), "event_types": ["order_status_changed"]}))
        .send()
        .await
        .unwrap();
    let back: Webhook = json_ok(resp).await;
    assert!(back.active);
    let path = format!(
        "{}/{}/deliveries/{}/redeliver",
        paths::WEBHOOKS,
        hook.listed.id,
        log[0].id
    );
    json_ok::<WebhookDelivery>(post(&s, &key, &path, None).await).await;
    log_until(&s, &key, hook.listed.id, "delivery after 410", |log| {
        log[0].status == DeliveryStatus::Delivered
    })
    .await;
    assert_eq!(rx.got("/back").len(), 1);

    // Hostile input: a 400 that says what to fix, nothing stored.
    let long = format!("https://example.fi/{}", "a".repeat(5_000));
    let with_nul = "https://example.fi/\u{0}x".to_string();
    for body in [
        json!({"url": long, "event_types": ["order_shipped"]}),
        json!({"url": "ftp://example.fi/x", "event_types": ["order_shipped"]}),
        json!({"url": "file:///etc/passwd", "event_types": ["order_shipped"]}),
        json!({"url": "https://user:pw@example.fi/x", "event_types": ["order_shipped"]}),
        json!({"url": "not a url", "event_types": ["order_shipped"]}),
        json!({"url": with_nul, "event_types": ["order_shipped"]}),
        json!({"url": "https://example.fi/x", "event_types": []}),
        json!({"url": "https://example.fi/x", "event_types": ["order_created"]}),
        json!({"url": "https://example.fi/x", "event_types": ["order_shipped"], "secret": "short"}),
        json!({"url": "https://example.fi/x", "event_types": ["order_shipped"],
               "secret": "x".repeat(300)}),
        json!({"url": "https://example.fi/x", "event_types": ["order_shipped"],
               "secret": "spaces are not allowed here"}),
        json!({"url": "https://example.fi/x", "event_types": ["order_shipped"], "extra": 1}),
        json!({"url": 7, "event_types": "order_shipped"}),
    ] {
        let resp = s
            .client
            .post(s.url(paths::WEBHOOKS))
            .bearer_auth(&key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let err = api_error(resp, StatusCode::BAD_REQUEST, "bad_request").await;
        assert!(!err.message.contains("aaaaaaaaaa"), "{}", err.message);
    }
    // A body too large for a subscription, and ids that are not ids.
    let resp = s
        .client
        .post(s.url(paths::WEBHOOKS))
        .bearer_auth(&key)
        .body(vec![b' '; 100_000])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    for path in [
        format!("{}/not-an-id", paths::WEBHOOKS),
        format!("{}/{}/deliveries?after=x", paths::WEBHOOKS, hook.listed.id),
    ] {
        let resp = s
            .client
            .request(Method::GET, s.url(&path))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        api_error(resp, StatusCode::BAD_REQUEST, "bad_request").await;
    }
    // An admin key must say whose events.
    let resp = s
        .admin_post(
            paths::WEBHOOKS,
            &json!({"url": "https://example.fi/x", "event_types": ["order_shipped"]}),
        )
        .await;
    api_error(resp, StatusCode::BAD_REQUEST, "bad_request").await;
    let listed: Vec<Webhook> = s.admin_get(paths::WEBHOOKS).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
}

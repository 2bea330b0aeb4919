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
use std::time::Duration;

use common::outbound::{applied, pick_all, stock_up, take_pick_task};
use common::webhooks::*;
use common::{TestServer, api_error, json_ok};
use laituri_protocol::{
    DeliveryStatus, Order, Webhook, WebhookDelivery, WebhookEnvelope, WebhookEventType, paths,
};
use laituri_server::clock::Clock;
use laituri_server::demo::{KETTU, NORDIC};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

const PRODUCT: &str = "KO-006";
const BIN: &str = "B-01-01-1";
const HOUR: Duration = Duration::from_secs(3_600);

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

/// Goods in, an order through the integration API released by the planner and picked through
/// device pushes, and another order cancelled: answers (the picked order, the cancelled one).
async fn floor_work(s: &TestServer, key: &str) -> (Order, Order) {
    let mut dev = s.device().await;
    stock_up(s, &mut dev, KETTU, PRODUCT, common::KETTU_GTIN, 5, BIN).await;
    let picked: Order = json_ok(post(s, key, paths::ORDERS, Some(order("WH-1"))).await).await;
    let released = post(s, common::ADMIN, paths::RELEASE_ORDERS, Some(json!({}))).await;
    assert_eq!(released.status(), StatusCode::OK);
    let cancelled: Order = json_ok(post(s, key, paths::ORDERS, Some(order("WH-2"))).await).await;
    let cancel = format!("{}/{}/cancel", paths::ORDERS, cancelled.id);
    let cancelled: Order = json_ok(post(s, key, &cancel, None).await).await;
    let (task, claim) = take_pick_task(s, &dev).await;
    let evs = pick_all(&mut dev, &task, &claim, "PACK-1");
    applied(s, &dev, &evs).await;
    (picked, cancelled)
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
    // Stock: one event per push that moved it and per plan that reserved it, with the levels.
    let stock: Vec<&WebhookEnvelope> = envelopes
        .iter()
        .filter(|e| e.kind == WebhookEventType::StockLevelChanged)
        .collect();
    assert_eq!(
        stock.len(),
        3,
        "the shelving push, the release's reservation and the picking push"
    );
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

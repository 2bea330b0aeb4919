//! Merchants' orders in, and a customer's personal data erased, tried as a merchant's developer
//! would, on the run's backend: an order is idempotent by (merchant, reference), changes and
//! cancels only before picking, is listed by "modified after", and is its merchant's alone. An
//! erasure removes the recipient, comments and documents from the orders and from the database's
//! files, and keeps the orders.

mod common;

use common::{TestServer, api_error, json_ok};
use laituri_protocol::{ErasureResult, Order, OrderStatus, Product, paths};
use laituri_server::demo::{KETTU, NORDIC};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A customer no other test data names, so finding the name anywhere means it was kept.
const NAME: &str = "Oskari Erasmus-Poistettava";
const EMAIL: &str = "Oskari.Erasmus@example.fi";

struct Shop {
    s: TestServer,
    key: String,
    other_key: String,
    product: String,
    other_product: String,
}

async fn shop() -> Shop {
    let s = TestServer::seeded();
    let products: Vec<Product> = s
        .admin_get(&format!("{}?limit=10000", paths::PRODUCTS))
        .await;
    let of = |m: &str| {
        products
            .iter()
            .find(|p| p.merchant_id == m)
            .unwrap()
            .id
            .clone()
    };
    let (key, other_key) = (s.merchant_key(KETTU).await, s.merchant_key(NORDIC).await);
    Shop {
        product: of(KETTU),
        other_product: of(NORDIC),
        key,
        other_key,
        s,
    }
}

fn order(merchant: &str, reference: &str, product: &str, email: &str) -> Value {
    json!({
        "merchant_id": merchant,
        "reference": reference,
        "lines": [{"product_id": product, "quantity": 2}],
        "shipping_method": "posti-parcel",
        "pickup_point": "PP-1234",
        "priority": 1,
        "recipient": {
            "name": NAME, "address": "Poistokatu 7 B 12", "postcode": "00100",
            "city": "Helsinki", "country": "fi", "phone": "+358401234567", "email": email
        },
        "comments": format!("Ring {NAME}'s bell twice"),
        "documents": [{"kind": "receipt", "url": "https://shop.example/r/oskari.pdf"}],
        "cash_on_delivery": {"amount_minor": 4990, "currency": "eur"}
    })
}

impl Shop {
    fn req(&self, key: &str, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.s
            .client
            .request(method, self.s.url(path))
            .bearer_auth(key)
    }

    async fn send(&self, key: &str, body: &Value) -> reqwest::Response {
        self.req(key, Method::POST, paths::ORDERS)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, key: &str, path: &str) -> reqwest::Response {
        self.req(key, Method::GET, path).send().await.unwrap()
    }
}

#[tokio::test]
async fn an_order_is_one_order_per_reference_and_changes_only_before_picking() {
    let shop = shop().await;
    let body = order(KETTU, "K-1001", &shop.product, EMAIL);
    let resp = shop.send(&shop.key, &body).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let first: Order = json_ok(resp).await;
    assert_eq!(first.status, OrderStatus::New);
    assert_eq!(first.recipient.as_ref().unwrap().country, "FI");
    assert_eq!(first.cash_on_delivery.as_ref().unwrap().currency, "EUR");

    // The same order again, as a shop's retry sends it: the same order, nothing changed.
    let resp = shop.send(&shop.key, &body).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let again: Order = json_ok(resp).await;
    assert_eq!(again, first);

    // Changed before picking: replaced, same id, a newer change time.
    let mut changed = body.clone();
    changed["lines"][0]["quantity"] = json!(5);
    let replaced: Order = json_ok(shop.send(&shop.key, &changed).await).await;
    assert_eq!((replaced.id, replaced.lines[0].quantity), (first.id, 5));
    assert!(replaced.modified_at_ms >= first.modified_at_ms);

    // Listed by "modified after": the order once, then nothing newer.
    let listed: Vec<Order> = json_ok(shop.get(&shop.key, paths::ORDERS).await).await;
    assert_eq!(listed, vec![replaced.clone()]);
    let newer = format!(
        "{}?modified_after={}",
        paths::ORDERS,
        replaced.modified_at_ms
    );
    let none: Vec<Order> = json_ok(shop.get(&shop.key, &newer).await).await;
    assert!(none.is_empty());
    let one: Order = json_ok(
        shop.get(&shop.key, &format!("{}/{}", paths::ORDERS, first.id))
            .await,
    )
    .await;
    assert_eq!(one, replaced);

    // Cancelled (twice: the same answer), then it no longer changes.
    let cancel = format!("{}/{}/cancel", paths::ORDERS, first.id);
    for _ in 0..2 {
        let resp = shop
            .req(&shop.key, Method::POST, &cancel)
            .send()
            .await
            .unwrap();
        let cancelled: Order = json_ok(resp).await;
        assert_eq!(cancelled.status, OrderStatus::Cancelled);
    }
    let err = api_error(
        shop.send(&shop.key, &body).await,
        StatusCode::CONFLICT,
        "order_cancelled",
    )
    .await;
    assert!(err.message.contains("K-1001"), "{}", err.message);
}

#[tokio::test]
async fn a_merchants_orders_are_its_own() {
    let shop = shop().await;
    let mine: Order = json_ok(
        shop.send(&shop.key, &order(KETTU, "K-1", &shop.product, EMAIL))
            .await,
    )
    .await;
    let theirs: Order = json_ok(
        shop.send(
            &shop.other_key,
            &order(NORDIC, "N-1", &shop.other_product, EMAIL),
        )
        .await,
    )
    .await;
    // The same reference at another merchant is another order.
    let same_ref: Order = json_ok(
        shop.send(
            &shop.other_key,
            &order(NORDIC, "K-1", &shop.other_product, EMAIL),
        )
        .await,
    )
    .await;
    assert_ne!(same_ref.id, mine.id);

    let listed: Vec<Order> = json_ok(shop.get(&shop.key, paths::ORDERS).await).await;
    assert_eq!(listed, vec![mine.clone()]);
    let path = format!("{}/{}", paths::ORDERS, theirs.id);
    api_error(
        shop.get(&shop.key, &path).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let resp = shop
        .req(&shop.key, Method::POST, &format!("{path}/cancel"))
        .send()
        .await
        .unwrap();
    api_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    api_error(
        shop.send(&shop.key, &order(NORDIC, "N-1", &shop.other_product, EMAIL))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // Another merchant's product in one's own order.
    api_error(
        shop.send(&shop.key, &order(KETTU, "K-2", &shop.other_product, EMAIL))
            .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
    let admin_sees: Vec<Order> = shop.s.admin_get(paths::ORDERS).await;
    assert_eq!(admin_sees.len(), 3);
    let still: Order = shop.s.admin_get(&path).await;
    assert_eq!(still, theirs, "nothing of the other merchant's changed");
}

#[tokio::test]
async fn a_bad_order_says_what_to_fix_without_repeating_personal_data() {
    let shop = shop().await;
    let mut bad = order(KETTU, "K-9", &shop.product, EMAIL);
    bad["recipient"]["country"] = json!(NAME);
    let err = api_error(
        shop.send(&shop.key, &bad).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
    assert!(err.message.contains("country"), "{}", err.message);
    assert!(!err.message.contains("Oskari"), "{}", err.message);
    for (field, value) in [
        ("lines", json!([])),
        (
            "lines",
            json!([{"product_id": shop.product, "quantity": 0}]),
        ),
        ("shipping_method", json!("")),
    ] {
        let mut bad = order(KETTU, "K-9", &shop.product, EMAIL);
        bad[field] = value;
        let err = api_error(
            shop.send(&shop.key, &bad).await,
            StatusCode::BAD_REQUEST,
            "bad_request",
        )
        .await;
        assert!(!err.message.contains("Oskari"), "{}", err.message);
    }
}

#[tokio::test]
async fn an_erasure_removes_a_customers_personal_data_everywhere_and_keeps_the_orders() {
    let shop = shop().await;
    let mut ids = Vec::new();
    for (reference, email) in [("K-1", EMAIL), ("K-2", "OSKARI.ERASMUS@EXAMPLE.FI")] {
        let o: Order = json_ok(
            shop.send(&shop.key, &order(KETTU, reference, &shop.product, email))
                .await,
        )
        .await;
        ids.push(o.id);
    }
    let mut someone_else = order(KETTU, "K-3", &shop.product, "someone.else@example.fi");
    someone_else["recipient"]["name"] = json!("Someone Else");
    someone_else["comments"] = json!("leave at the door");
    someone_else["documents"] = json!([]);
    let kept: Order = json_ok(shop.send(&shop.key, &someone_else).await).await;
    // The same customer at another merchant: that merchant's data, not erased by this one.
    let other: Order = json_ok(
        shop.send(
            &shop.other_key,
            &order(NORDIC, "N-1", &shop.other_product, EMAIL),
        )
        .await,
    )
    .await;

    // Only the merchant itself (or the warehouse's admin for it) may ask.
    let resp = shop
        .req(&shop.other_key, Method::POST, paths::ERASURES)
        .json(&json!({"merchant_id": KETTU, "email": EMAIL}))
        .send()
        .await
        .unwrap();
    api_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    let resp = shop
        .req(&shop.key, Method::POST, paths::ERASURES)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    api_error(resp, StatusCode::BAD_REQUEST, "bad_request").await;

    let erase = || {
        shop.req(&shop.key, Method::POST, paths::ERASURES)
            .json(&json!({"email": " oskari.erasmus@EXAMPLE.fi "}))
            .send()
    };
    let done: ErasureResult = json_ok(erase().await.unwrap()).await;
    assert_eq!(done.orders_erased, 2);
    let again: ErasureResult = json_ok(erase().await.unwrap()).await;
    assert_eq!(again.orders_erased, 0, "nothing left to erase");

    for id in &ids {
        let o: Order = shop.s.admin_get(&format!("{}/{id}", paths::ORDERS)).await;
        assert!(o.recipient.is_none() && o.comments.is_none() && o.documents.is_empty());
        assert!(o.erased_at_ms.is_some());
        assert_eq!(o.lines.len(), 1, "the order itself stays");
        assert_eq!(o.status, OrderStatus::New);
    }
    let k3: Order = shop
        .s
        .admin_get(&format!("{}/{}", paths::ORDERS, kept.id))
        .await;
    assert_eq!(k3, kept, "another customer's order is untouched");
    let n1: Order = shop
        .s
        .admin_get(&format!("{}/{}", paths::ORDERS, other.id))
        .await;
    assert_eq!(n1, other, "another merchant's order is untouched");

    // An erased order no longer changes: re-sending it with the data is refused.
    api_error(
        shop.send(&shop.key, &order(KETTU, "K-1", &shop.product, EMAIL))
            .await,
        StatusCode::CONFLICT,
        "order_erased",
    )
    .await;

    // By reference, with the admin's key for the other merchant.
    let resp = shop
        .s
        .admin_post(
            paths::ERASURES,
            &json!({"merchant_id": NORDIC, "references": ["N-1"]}),
        )
        .await;
    assert_eq!(json_ok::<ErasureResult>(resp).await.orders_erased, 1);

    // Gone from the database, not only from the API: no row, and on SQLite no byte of any
    // file of the database holds the name any more.
    match &shop.s.pg {
        Some(db) => {
            let client = db.connect().await;
            for sql in [
                "SELECT count(*) FROM order_personal WHERE data ILIKE '%oskari%'",
                "SELECT count(*) FROM orders WHERE work ILIKE '%oskari%'",
            ] {
                let n: i64 = client.query_one(sql, &[]).await.unwrap().get(0);
                assert_eq!(n, 0, "{sql}");
            }
        }
        None => {
            let db = &shop.s.config.db_path;
            let files = [
                db.clone(),
                db.with_extension("sqlite3-wal"),
                db.with_extension("sqlite3-journal"),
            ];
            for f in files.iter().filter(|f| f.exists()) {
                let bytes = std::fs::read(f).unwrap().to_ascii_lowercase();
                let found = bytes.windows(6).any(|w| w == b"oskari");
                assert!(!found, "{} still holds the erased name", f.display());
            }
        }
    }
}

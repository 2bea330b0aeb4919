//! Who may do what, tried as a merchant's developer would: merchant A's integration key against
//! every integration endpoint, on merchant B's data. Each call is refused (401/403/404) or
//! answers A's rows only, and nothing of B's changes. An admin key still sees everything; a
//! revoked key stops working at once; keys are listed without the key and stored only hashed.
//!
//! The table of calls is checked against openapi.json: an integration endpoint added to the
//! description but not tried here fails the test.

mod common;

use common::{ADMIN, TestServer, api_error, json_ok};
use laituri_protocol::{
    ApiKey, EventBody, ExceptionView, GoodsCondition, InboundNotice, Merchant, NewWebhook, Order,
    Product, ReceiptView, StockRow, Webhook, WebhookDelivery, paths,
};
use laituri_server::demo::{KETTU, NORDIC};
use laituri_server::http::OPENAPI_JSON;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

/// Merchant A is the demo's outdoor shop, B its pantry.
const A: &str = KETTU;
const B: &str = NORDIC;

struct Floor {
    s: TestServer,
    a_key: String,
    a_product: Product,
    b_product: Product,
    b_notice: InboundNotice,
    b_receipt: Uuid,
    b_order: Order,
    a_webhook: Webhook,
    b_webhook: Webhook,
    b_delivery: WebhookDelivery,
}

/// A subscription of `merchant` to stock changes, POSTed to a port where nothing listens.
async fn subscribe(s: &TestServer, merchant: &str) -> Webhook {
    let body = json!({"merchant_id": merchant, "url": "http://127.0.0.1:9/hooks",
                      "event_types": ["stock_level_changed"]});
    let made: NewWebhook = json_ok(s.admin_post(paths::WEBHOOKS, &body).await).await;
    made.listed
}

/// The first delivery of `webhook` once it was attempted (the worker runs beside the server).
async fn attempted_delivery(s: &TestServer, webhook: &Webhook) -> WebhookDelivery {
    let path = format!("{}/{}/deliveries", paths::WEBHOOKS, webhook.id);
    for _ in 0..600 {
        let log: Vec<WebhookDelivery> = s.admin_get(&path).await;
        if let Some(d) = log.into_iter().find(|d| d.attempts > 0) {
            return d;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("webhook {} got no delivery", webhook.id);
}

fn order_of(merchant: &str, product: &Product) -> Value {
    json!({
        "merchant_id": merchant, "reference": format!("{merchant}-1"),
        "lines": [{"product_id": product.id, "quantity": 1}], "shipping_method": "posti",
        "recipient": {"name": "N", "address": "A", "postcode": "00100", "city": "C",
                      "country": "FI", "email": "customer@example.fi"}
    })
}

fn goods(receipt: Uuid, merchant: &str, product: &Product, location: &str) -> EventBody {
    EventBody::GoodsReceived {
        receipt_id: receipt,
        merchant_id: merchant.into(),
        product_id: product.id.clone(),
        quantity: 2,
        lot: None,
        expiry: None,
        serial: None,
        container: format!("T-{merchant}"),
        location: location.into(),
        condition: GoodsCondition::Good,
        barcode: "0".into(),
    }
}

/// Both merchants with a receipt, stock and an exception (goods scanned to a location that does
/// not exist), pushed by a real device.
async fn floor() -> Floor {
    let s = TestServer::seeded();
    let products: Vec<Product> = s
        .admin_get(&format!("{}?limit=10000", paths::PRODUCTS))
        .await;
    let of = |m: &str| {
        products
            .iter()
            .find(|p| p.merchant_id == m)
            .unwrap()
            .clone()
    };
    let (a_product, b_product) = (of(A), of(B));
    let notices: Vec<InboundNotice> = s.admin_get(paths::INBOUND_NOTICES).await;
    let b_notice = notices.iter().find(|n| n.merchant_id == B).unwrap().clone();
    let a_webhook = subscribe(&s, A).await;
    let b_webhook = subscribe(&s, B).await;
    let mut dev = s.device().await;
    let mut events = Vec::new();
    let mut receipts = Vec::new();
    for (merchant, product) in [(A, &a_product), (B, &b_product)] {
        let r = Uuid::now_v7();
        receipts.push(r);
        events.push(dev.event(&EventBody::ReceiptOpened {
            receipt_id: r,
            merchant_id: merchant.into(),
            notice_id: None,
            dock: "DOCK-1".into(),
        }));
        events.push(dev.event(&goods(r, merchant, product, "DOCK-1")));
        events.push(dev.event(&goods(r, merchant, product, "NO-SUCH-PLACE")));
    }
    let resp = s.push(&dev, &events).await;
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "{}",
        resp.text().await.unwrap()
    );
    let a_key = s
        .new_api_key(json!({"scope": "merchant", "merchant_id": A, "note": "A's ERP"}))
        .await
        .key;
    let mut orders = Vec::new();
    for (m, p) in [(A, &a_product), (B, &b_product)] {
        let o: Order = json_ok(s.admin_post(paths::ORDERS, &order_of(m, p)).await).await;
        orders.push(o);
    }
    let b_delivery = attempted_delivery(&s, &b_webhook).await;
    Floor {
        s,
        a_key,
        a_product,
        b_product,
        b_notice,
        b_receipt: receipts[1],
        b_order: orders.pop().unwrap(),
        a_webhook,
        b_webhook,
        b_delivery,
    }
}

impl Floor {
    fn as_a(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.s
            .client
            .request(method, self.s.url(path))
            .bearer_auth(&self.a_key)
    }

    async fn a_get<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        json_ok(self.as_a(Method::GET, path).send().await.unwrap()).await
    }
}

/// What one call with A's key must come to.
enum Expect {
    /// Refused with this status, nothing changed.
    Refused(StatusCode),
    /// Answered with rows, every one of them A's (checked by the function).
    OnlyA(fn(&Value) -> bool),
    /// Answered with no rows.
    Nothing,
}

#[tokio::test]
async fn a_merchants_key_never_reads_or_changes_another_merchants_data() {
    let f = floor().await;
    let b_receipt = f.b_receipt.to_string();
    let receipt_path = format!("{}/{b_receipt}", paths::RECEIPTS);
    let b_order_id = f.b_order.id.to_string();
    let order_path = format!("{}/{b_order_id}", paths::ORDERS);
    let operator_path = format!("{}/OP-1001", paths::OPERATORS);
    let key_path = format!("{}/{}", paths::API_KEYS, Uuid::now_v7());
    let code_path = format!("{}/{}", paths::ENROLMENT_CODES, Uuid::now_v7());
    let b_webhook_id = f.b_webhook.id.to_string();
    let b_delivery_id = f.b_delivery.id.to_string();
    let webhook_path = format!("{}/{b_webhook_id}", paths::WEBHOOKS);
    let a_hook = json!({"url": "https://a.example/hooks", "event_types": ["order_shipped"]});
    // A return nobody has: 404 alike for another merchant's (returns_flow.rs reads B's).
    let return_id = Uuid::now_v7().to_string();
    let return_path = format!("{}/{return_id}", paths::RETURNS);
    let mut b_product_renamed = serde_json::to_value(&f.b_product).unwrap();
    b_product_renamed["name"] = json!("taken over");
    let mut b_product_as_a = b_product_renamed.clone();
    b_product_as_a["merchant_id"] = json!(A);
    // B's notice id, as A's notice of A's product: the id is taken, so it is refused.
    let mut b_notice_as_a = serde_json::to_value(&f.b_notice).unwrap();
    b_notice_as_a["merchant_id"] = json!(A);
    b_notice_as_a["lines"] = json!([{"product_id": f.a_product.id, "expected_qty": 1}]);
    let b_notice_changed = {
        let mut n = serde_json::to_value(&f.b_notice).unwrap();
        n["reference"] = json!("taken over");
        n
    };

    let merchant_is_a = |v: &Value| v["merchant_id"] == A;
    let id_is_a = |v: &Value| v["id"] == A;
    use Expect::{Nothing, OnlyA, Refused};
    let forbidden = || Refused(StatusCode::FORBIDDEN);
    let bad = || Refused(StatusCode::BAD_REQUEST);
    #[rustfmt::skip]
    let calls: Vec<(Method, String, Option<Value>, Expect)> = vec![
        // Reads: only A's rows, whatever is asked.
        (Method::GET, paths::MERCHANTS.into(), None, OnlyA(id_is_a)),
        (Method::GET, paths::PRODUCTS.into(), None, OnlyA(merchant_is_a)),
        (Method::GET, paths::INBOUND_NOTICES.into(), None, OnlyA(merchant_is_a)),
        (Method::GET, paths::STOCK.into(), None, OnlyA(merchant_is_a)),
        (Method::GET, format!("{}?product_id={}", paths::STOCK, f.b_product.id), None, Nothing),
        (Method::GET, format!("{}?merchant_id={B}", paths::STOCK), None, forbidden()),
        (Method::GET, paths::STOCK_LEVELS.into(), None, OnlyA(merchant_is_a)),
        (Method::GET, format!("{}?product_id={}&locations=true", paths::STOCK_LEVELS,
            f.b_product.id), None, Nothing),
        (Method::GET, paths::RECEIPTS.into(), None, OnlyA(merchant_is_a)),
        (Method::GET, receipt_path.clone(), None, Refused(StatusCode::NOT_FOUND)),
        (Method::GET, paths::EXCEPTIONS.into(), None, OnlyA(merchant_is_a)),
        (Method::GET, paths::ORDERS.into(), None, OnlyA(merchant_is_a)),
        (Method::GET, order_path.clone(), None, Refused(StatusCode::NOT_FOUND)),
        (Method::POST, format!("{order_path}/cancel"), None, Refused(StatusCode::NOT_FOUND)),
        (Method::POST, paths::ORDERS.into(), Some(order_of(B, &f.b_product)), forbidden()),
        (Method::POST, paths::ERASURES.into(),
         Some(json!({"merchant_id": B, "email": "customer@example.fi"})), forbidden()),
        // Webhooks: A's own only; B's subscription and deliveries are as if they did not exist.
        (Method::GET, paths::WEBHOOKS.into(), None, OnlyA(merchant_is_a)),
        (Method::POST, paths::WEBHOOKS.into(),
         Some(json!({"merchant_id": B, "url": "https://a.example/steal",
                     "event_types": ["order_status_changed"]})), forbidden()),
        (Method::GET, webhook_path.clone(), None, Refused(StatusCode::NOT_FOUND)),
        (Method::PUT, webhook_path.clone(), Some(a_hook.clone()), Refused(StatusCode::NOT_FOUND)),
        (Method::DELETE, webhook_path.clone(), None, Refused(StatusCode::NOT_FOUND)),
        (Method::GET, format!("{webhook_path}/deliveries"), None,
         Refused(StatusCode::NOT_FOUND)),
        (Method::POST, format!("{webhook_path}/deliveries/{b_delivery_id}/redeliver"), None,
         Refused(StatusCode::NOT_FOUND)),
        // B's delivery under A's own subscription: not A's either.
        (Method::POST, format!("{}/{}/deliveries/{b_delivery_id}/redeliver", paths::WEBHOOKS,
            f.a_webhook.id), None, Refused(StatusCode::NOT_FOUND)),
        // Writes of B's data: refused whole.
        (Method::POST, paths::PRODUCTS.into(), Some(b_product_renamed.clone()), forbidden()),
        (Method::POST, paths::PRODUCTS.into(), Some(b_product_as_a), bad()),
        (Method::POST, paths::INBOUND_NOTICES.into(), Some(b_notice_changed), forbidden()),
        (Method::POST, paths::INBOUND_NOTICES.into(), Some(b_notice_as_a), bad()),
        // The warehouse's own endpoints: refused.
        (Method::POST, paths::MERCHANTS.into(), Some(json!({"id": B, "name": "taken"})),
         forbidden()),
        (Method::GET, paths::LOCATIONS.into(), None, forbidden()),
        (Method::POST, paths::LOCATIONS.into(), Some(json!({"code": "X-1", "kind": "bin"})),
         forbidden()),
        (Method::GET, paths::OPERATORS.into(), None, forbidden()),
        (Method::POST, paths::OPERATORS.into(),
         Some(json!({"id": "OP-X", "name": "X", "badge": "B-X", "roles": ["receiving"]})),
         forbidden()),
        (Method::DELETE, operator_path.clone(), None, forbidden()),
        (Method::GET, paths::TASKS.into(), None, forbidden()),
        (Method::GET, paths::ENROLMENT_CODES.into(), None, forbidden()),
        (Method::POST, paths::ENROLMENT_CODES.into(), Some(json!({})), forbidden()),
        (Method::DELETE, code_path.clone(), None, forbidden()),
        (Method::GET, paths::API_KEYS.into(), None, forbidden()),
        (Method::GET, paths::DEVICES.into(), None, forbidden()),
        (Method::POST, paths::RELEASE_ORDERS.into(), Some(json!({})), forbidden()),
        (Method::POST, paths::API_KEYS.into(),
         Some(json!({"scope": "merchant", "merchant_id": B})), forbidden()),
        (Method::DELETE, key_path.clone(), None, forbidden()),
        (Method::POST, paths::COUNT_PLANS.into(), Some(json!({"merchant_id": B})), forbidden()),
        // Returns: A's own only (A has none here), B's order's as if it had none.
        (Method::GET, paths::RETURNS.into(), None, Nothing),
        (Method::GET, format!("{}?order_id={b_order_id}", paths::RETURNS), None, Nothing),
        (Method::GET, return_path.clone(), None, Refused(StatusCode::NOT_FOUND)),
    ];

    // Every integration and admin endpoint of the description is tried above.
    let doc: Value = serde_json::from_str(OPENAPI_JSON).unwrap();
    let normal = |p: &str| {
        p.replace(&b_receipt, "{receipt_id}")
            .replace(&b_order_id, "{order_id}")
            .replace("OP-1001", "{operator_id}")
            .replace(&b_webhook_id, "{webhook_id}")
            .replace(&f.a_webhook.id.to_string(), "{webhook_id}")
            .replace(&b_delivery_id, "{delivery_id}")
            .replace(&return_id, "{return_id}")
            .split('?')
            .next()
            .unwrap()
            .to_string()
    };
    for (path, methods) in doc["paths"].as_object().unwrap() {
        if !(path.contains("/integration/") || path.contains("/admin/")) {
            continue;
        }
        for method in methods.as_object().unwrap().keys() {
            let tried = calls.iter().any(|(m, p, _, _)| {
                m.as_str().eq_ignore_ascii_case(method)
                    && (normal(p) == *path
                        || path.ends_with("{key_id}") && p == &key_path
                        || path.ends_with("{code_id}") && p == &code_path)
            });
            assert!(tried, "{method} {path} is not tried with a merchant's key");
        }
    }

    let b_before = b_view(&f).await;
    for (method, path, body, expect) in &calls {
        let mut req = f.as_a(method.clone(), path);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        match expect {
            Refused(want) => {
                assert_eq!(status, *want, "{method} {path}: {text}");
                let err: laituri_protocol::ApiError = serde_json::from_str(&text).unwrap();
                assert!(err.message.len() > 20, "{text}");
                assert!(!text.contains("taken over"), "{text}");
            }
            Nothing => {
                assert_eq!(status, StatusCode::OK, "{method} {path}: {text}");
                assert_eq!(text, "[]", "{method} {path}");
            }
            OnlyA(is_a) => {
                assert_eq!(status, StatusCode::OK, "{method} {path}: {text}");
                let rows: Vec<Value> = serde_json::from_str(&text).unwrap();
                assert!(!rows.is_empty(), "{method} {path} shows A's own rows");
                assert!(
                    rows.iter().all(is_a),
                    "{method} {path} shows another's: {text}"
                );
            }
        }
    }
    assert_eq!(b_view(&f).await, b_before, "nothing of B's changed");
}

/// Everything of merchant B's, as the admin sees it.
async fn b_view(f: &Floor) -> Vec<String> {
    let s = &f.s;
    let mut out = Vec::new();
    let products: Vec<Product> = s.admin_get(paths::PRODUCTS).await;
    let notices: Vec<InboundNotice> = s.admin_get(paths::INBOUND_NOTICES).await;
    let merchants: Vec<Merchant> = s.admin_get(paths::MERCHANTS).await;
    let stock: Vec<StockRow> = s.admin_get(paths::STOCK).await;
    let receipts: Vec<ReceiptView> = s.admin_get(paths::RECEIPTS).await;
    let orders: Vec<Order> = s.admin_get(paths::ORDERS).await;
    let webhooks: Vec<Webhook> = s.admin_get(paths::WEBHOOKS).await;
    for w in webhooks.iter().filter(|w| w.merchant_id == B) {
        out.push(format!("{w:?}"));
        let path = format!("{}/{}/deliveries", paths::WEBHOOKS, w.id);
        let log: Vec<WebhookDelivery> = s.admin_get(&path).await;
        out.extend(log.iter().map(|d| format!("{d:?}")));
    }
    out.extend(
        orders
            .iter()
            .filter(|o| o.merchant_id == B)
            .map(|o| format!("{o:?}")),
    );
    out.extend(
        products
            .iter()
            .filter(|p| p.merchant_id == B)
            .map(|p| format!("{p:?}")),
    );
    out.extend(
        notices
            .iter()
            .filter(|n| n.merchant_id == B)
            .map(|n| format!("{n:?}")),
    );
    out.extend(
        merchants
            .iter()
            .filter(|m| m.id == B)
            .map(|m| format!("{m:?}")),
    );
    out.extend(
        stock
            .iter()
            .filter(|r| r.merchant_id == B)
            .map(|r| format!("{r:?}")),
    );
    out.extend(
        receipts
            .iter()
            .filter(|r| r.merchant_id == B)
            .map(|r| format!("{r:?}")),
    );
    assert!(out.len() > 5, "B has data to protect: {out:?}");
    out
}

#[tokio::test]
async fn a_merchants_key_works_on_its_own_data_and_the_admin_sees_all() {
    let f = floor().await;
    // A's own product, changed with A's key, is stored; the answer is what was stored.
    let mut mine: Product = f
        .a_get::<Vec<Product>>(paths::PRODUCTS)
        .await
        .into_iter()
        .next()
        .unwrap();
    mine.name = "renamed by A".into();
    let resp = f
        .as_a(Method::POST, paths::PRODUCTS)
        .json(&mine)
        .send()
        .await
        .unwrap();
    let stored: Product = json_ok(resp).await;
    assert_eq!(stored.name, "renamed by A");
    let merchants: Vec<Merchant> = f.a_get(paths::MERCHANTS).await;
    assert_eq!(merchants.len(), 1);
    let receipts: Vec<ReceiptView> = f.a_get(paths::RECEIPTS).await;
    assert_eq!(receipts.len(), 1);
    let one: ReceiptView = f
        .a_get(&format!("{}/{}", paths::RECEIPTS, receipts[0].receipt_id))
        .await;
    assert_eq!(one, receipts[0]);
    let exceptions: Vec<ExceptionView> = f.a_get(paths::EXCEPTIONS).await;
    assert_eq!(exceptions.len(), 1);
    assert_eq!(exceptions[0].merchant_id.as_deref(), Some(A));

    // The admin sees both merchants' rows.
    let all: Vec<ExceptionView> = f.s.admin_get(paths::EXCEPTIONS).await;
    assert_eq!(all.len(), 2);
    let stock: Vec<StockRow> = f.s.admin_get(paths::STOCK).await;
    assert!(stock.iter().any(|r| r.merchant_id == A) && stock.iter().any(|r| r.merchant_id == B));
}

#[tokio::test]
async fn keys_are_shown_once_listed_without_the_key_and_revoked_at_once() {
    let f = floor().await;
    let s = &f.s;
    // A stored admin key does what the configured one does.
    let admin2 = s
        .new_api_key(json!({"scope": "admin", "note": "second admin"}))
        .await;
    assert!(admin2.key.starts_with("lk_"));
    let resp = s
        .client
        .get(s.url(paths::API_KEYS))
        .bearer_auth(&admin2.key)
        .send()
        .await
        .unwrap();
    let listed: Vec<ApiKey> = json_ok(resp).await;
    assert_eq!(listed.len(), 2, "A's key and the second admin key");
    assert_eq!(listed[1], admin2.listed, "oldest first");
    let text = serde_json::to_string(&listed).unwrap();
    assert!(!text.contains(&f.a_key) && !text.contains(&admin2.key));

    // Bad requests say what to send.
    for body in [
        json!({"scope": "merchant"}),
        json!({"scope": "admin", "merchant_id": A}),
        json!({"scope": "merchant", "merchant_id": "no-such-shop"}),
        json!({"scope": "everything"}),
    ] {
        api_error(
            s.admin_post(paths::API_KEYS, &body).await,
            StatusCode::BAD_REQUEST,
            "bad_request",
        )
        .await;
    }

    // Revoked: A's key stops working at once, and revoking twice is 404.
    let a_id = listed[0].id;
    let revoke = || {
        s.client
            .delete(s.url(&format!("{}/{a_id}", paths::API_KEYS)))
            .bearer_auth(ADMIN)
            .send()
    };
    assert_eq!(revoke().await.unwrap().status(), StatusCode::NO_CONTENT);
    api_error(
        f.as_a(Method::GET, paths::PRODUCTS).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    api_error(revoke().await.unwrap(), StatusCode::NOT_FOUND, "not_found").await;
    let listed: Vec<ApiKey> = s.admin_get(paths::API_KEYS).await;
    assert!(listed[0].revoked_at_ms.is_some() && listed[1].revoked_at_ms.is_none());

    // A key that was never made, and a device token, are not integration keys.
    let dev = s.device().await;
    for key in ["lk_0000", dev.token.as_str()] {
        let resp = s
            .client
            .get(s.url(paths::STOCK))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        api_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
}

#[tokio::test]
async fn every_listing_pages_with_a_next_link() {
    let f = floor().await;
    let s = &f.s;
    s.new_code(json!({"note": "a second code"})).await;
    for path in [
        paths::STOCK,
        paths::RECEIPTS,
        paths::EXCEPTIONS,
        paths::PRODUCTS,
        paths::ENROLMENT_CODES,
        paths::ORDERS,
    ] {
        let whole: Vec<Value> = s.admin_get(&format!("{path}?limit=10000")).await;
        assert!(whole.len() >= 2, "{path} has rows to page: {whole:?}");
        let mut walked = Vec::new();
        let mut next = Some(format!("{path}?limit=1"));
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            assert!(pages <= whole.len() + 1, "{path} pages end");
            let resp = s.admin(Method::GET, &url).send().await.unwrap();
            next = resp
                .headers()
                .get(reqwest::header::LINK)
                .map(|l| l.to_str().unwrap().to_string())
                .map(|l| {
                    let (uri, rel) = l.split_once("; ").unwrap();
                    assert_eq!(rel, "rel=\"next\"");
                    uri.trim_matches(['<', '>']).to_string()
                });
            let rows: Vec<Value> = json_ok(resp).await;
            assert!(rows.len() <= 1);
            walked.extend(rows);
        }
        assert_eq!(
            walked, whole,
            "{path} walked page by page is the whole listing"
        );
    }
    // A filter stays on every page.
    let resp = s
        .admin(
            Method::GET,
            &format!("{}?merchant_id={A}&limit=1", paths::STOCK),
        )
        .send()
        .await
        .unwrap();
    let link = resp.headers()[reqwest::header::LINK]
        .to_str()
        .unwrap()
        .to_string();
    assert!(link.contains(&format!("merchant_id={A}")), "{link}");
    // A made-up page token is refused with what to do.
    for url in [
        format!("{}?after=zz", paths::STOCK),
        format!("{}?after=x", paths::EXCEPTIONS),
        format!("{}?after=x", paths::RECEIPTS),
    ] {
        let resp = s.admin(Method::GET, &url).send().await.unwrap();
        api_error(resp, StatusCode::BAD_REQUEST, "bad_request").await;
    }
}

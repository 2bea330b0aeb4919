//! The integration API end to end: master data in (one object or an array), reads out, and a
//! whole receipt pushed by a device showing up as stock, receipt, notice status and exceptions.

mod common;

use common::{TestServer, api_error, json_ok};
use laituri_protocol::{
    Change, EventBody, EventOutcome, ExceptionView, GoodsCondition, InboundNotice, Location,
    Merchant, NoticeStatus, Operator, Product, PushResponse, ReceiptLineSummary, ReceiptView,
    StockRow, paths,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

#[tokio::test]
async fn upserts_accept_one_or_many_and_reads_return_them_normalised() {
    let s = TestServer::start();

    // One object in, one object out.
    let one: Merchant = json_ok(
        s.admin_post(paths::MERCHANTS, &json!({"id": "M1", "name": "Mökki Shop"}))
            .await,
    )
    .await;
    assert_eq!(one.rules.over_receipt_tolerance_pct, 0, "rules default");

    // An array in, an array out; GTINs padded to 14 digits, other codes kept.
    let products: Vec<Product> = json_ok(
        s.admin_post(
            paths::PRODUCTS,
            &json!([
                {"id": "P1", "merchant_id": "M1", "name": "Sauna hat",
                 "barcodes": [{"code": "6412345000014"}, {"code": "16412345000011", "pack_qty": 6}]},
                {"id": "P2", "merchant_id": "M1", "name": "Birch whisk",
                 "barcodes": [{"code": "96385074"}, {"code": "036000291452"}, {"code": "SKU-77"}],
                 "track_lot": true}
            ]),
        )
        .await,
    )
    .await;
    assert_eq!(products.len(), 2);
    let listed: Vec<Product> = s.admin_get(paths::PRODUCTS).await;
    assert_eq!(listed, products);
    let codes: Vec<&str> = listed[1].barcodes.iter().map(|b| b.code.as_str()).collect();
    assert_eq!(codes, ["00000096385074", "00036000291452", "SKU-77"]);
    assert_eq!(listed[0].barcodes[0].code, "06412345000014");
    assert_eq!(listed[0].barcodes[1].pack_qty, 6);

    // Operators: the PIN is hashed, never stored or answered in clear.
    let op: Operator = json_ok(
        s.admin_post(
            paths::OPERATORS,
            &json!({"id": "OP-7", "name": "Ville", "badge": "B-7", "pin": "9876", "roles": ["receiving"]}),
        )
        .await,
    )
    .await;
    // Stored as a salted hash for terminals; never shown to integration clients.
    assert_eq!(op.pin_hash, None);
    assert_eq!(op.language, "en");
    let raw: Value = s.admin_get(paths::OPERATORS).await;
    assert!(!raw.to_string().contains("9876"), "{raw}");

    let locs: Vec<Location> = json_ok(
        s.admin_post(
            paths::LOCATIONS,
            &json!([{"code": "DOCK-1", "kind": "dock"}, {"code": "A-01-01", "kind": "bin", "zone": "M1", "walk_order": 10}]),
        )
        .await,
    )
    .await;
    assert_eq!(locs.len(), 2);

    let notice: InboundNotice = json_ok(
        s.admin_post(
            paths::INBOUND_NOTICES,
            &json!({"id": "ASN-1", "merchant_id": "M1", "reference": "REF-1",
                    "ssccs": ["064123450000010017"], "lines": [{"product_id": "P1", "expected_qty": 5}]}),
        )
        .await,
    )
    .await;
    assert_eq!(notice.status, NoticeStatus::Open);

    // Listings page by id.
    let page: Vec<Location> = s.admin_get(&format!("{}?limit=1", paths::LOCATIONS)).await;
    assert_eq!(page.len(), 1);
    let rest: Vec<Location> = s
        .admin_get(&format!("{}?after={}", paths::LOCATIONS, page[0].code))
        .await;
    assert_eq!(rest.len(), 1);
    assert_ne!(rest[0].code, page[0].code);
    let merchants: Vec<Merchant> = s.admin_get(paths::MERCHANTS).await;
    assert_eq!(merchants, vec![one]);
    let notices: Vec<InboundNotice> = s.admin_get(paths::INBOUND_NOTICES).await;
    assert_eq!(notices, vec![notice]);
}

#[tokio::test]
async fn bad_master_data_is_a_400_and_stores_nothing() {
    let s = TestServer::start();
    let _: Value = json_ok(
        s.admin_post(paths::MERCHANTS, &json!({"id": "M1", "name": "One"}))
            .await,
    )
    .await;

    let cases: Vec<(&str, &str, Value)> = vec![
        (
            "product of an unknown merchant",
            paths::PRODUCTS,
            json!([{"id": "P1", "merchant_id": "M1", "name": "ok", "barcodes": []},
                {"id": "P2", "merchant_id": "M404", "name": "x", "barcodes": []}]),
        ),
        (
            "second item has the wrong shape",
            paths::PRODUCTS,
            json!([{"id": "P1", "merchant_id": "M1", "name": "ok", "barcodes": []}, {"id": "P3"}]),
        ),
        ("empty id", paths::MERCHANTS, json!({"id": "", "name": "x"})),
        (
            "unknown location kind",
            paths::LOCATIONS,
            json!({"code": "X", "kind": "roof"}),
        ),
        (
            "notice line of an unknown product",
            paths::INBOUND_NOTICES,
            json!({"id": "N1", "merchant_id": "M1", "reference": "R", "lines": [{"product_id": "P9", "expected_qty": 1}]}),
        ),
        (
            "SSCC of 17 digits",
            paths::INBOUND_NOTICES,
            json!({"id": "N1", "merchant_id": "M1", "reference": "R", "ssccs": ["06412345000001001"], "lines": []}),
        ),
        (
            "one badge for two people",
            paths::OPERATORS,
            json!([{"id": "A", "name": "A", "badge": "B1", "roles": []}, {"id": "B", "name": "B", "badge": "B1", "roles": []}]),
        ),
        ("a number instead of an object", paths::MERCHANTS, json!(42)),
    ];
    for (what, path, body) in cases {
        let resp = s.admin_post(path, &body).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{what}");
        api_error(resp, StatusCode::BAD_REQUEST, "bad_request").await;
    }
    let products: Vec<Product> = s.admin_get(paths::PRODUCTS).await;
    assert!(
        products.is_empty(),
        "a refused batch stores nothing, not even its good items"
    );

    // Broken JSON.
    let resp = s
        .client
        .post(s.url(paths::PRODUCTS))
        .bearer_auth(common::ADMIN)
        .body("[{\"id\": ")
        .send()
        .await
        .unwrap();
    let err = api_error(resp, StatusCode::BAD_REQUEST, "bad_request").await;
    assert!(err.message.contains("not valid JSON"), "{}", err.message);

    // A badge taken by another operator in the database.
    let _: Value = json_ok(
        s.admin_post(
            paths::OPERATORS,
            &json!({"id": "A", "name": "A", "badge": "B1", "roles": []}),
        )
        .await,
    )
    .await;
    let resp = s
        .admin_post(
            paths::OPERATORS,
            &json!({"id": "B", "name": "B", "badge": "B1", "roles": []}),
        )
        .await;
    api_error(resp, StatusCode::BAD_REQUEST, "bad_request").await;

    // Wrong admin key.
    let resp = s
        .client
        .post(s.url(paths::MERCHANTS))
        .bearer_auth("guess")
        .json(&json!({"id": "M2", "name": "Two"}))
        .send()
        .await
        .unwrap();
    api_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

fn gr(
    receipt: Uuid,
    product: &str,
    qty: i64,
    location: &str,
    condition: GoodsCondition,
    lot: &str,
    expiry: &str,
) -> EventBody {
    EventBody::GoodsReceived {
        receipt_id: receipt,
        merchant_id: "nordic-pantry".into(),
        product_id: product.into(),
        quantity: qty,
        lot: Some(lot.into()),
        expiry: Some(expiry.into()),
        serial: None,
        container: if condition.is_quarantine() {
            ""
        } else {
            "T-0003"
        }
        .into(),
        location: location.into(),
        condition,
        barcode: "(01)...".into(),
    }
}

#[tokio::test]
async fn a_receipt_of_fifty_events_moves_stock_to_dock_tote_and_quarantine() {
    let s = TestServer::seeded();
    let mut dev = s.device().await;
    let guide = laituri_server::demo::guide(common::today());
    let asn = &guide.notices[1]; // ASN-1002: lots and expiry dates
    let (a, c) = (&asn.expected[0].product_id, &asn.expected[2].product_id);
    let r = Uuid::now_v7();

    let mut events = vec![dev.event(&EventBody::ReceiptOpened {
        receipt_id: r,
        merchant_id: "nordic-pantry".into(),
        notice_id: Some("ASN-1002".into()),
        dock: "DOCK-1".into(),
    })];
    for i in 0..50 {
        let body = if i < 40 {
            gr(
                r,
                a,
                1,
                "DOCK-1",
                GoodsCondition::Good,
                "A2417",
                "2026-07-13",
            )
        } else if i < 48 {
            gr(
                r,
                c,
                1,
                "DOCK-1",
                GoodsCondition::Good,
                "C1105",
                "2026-06-13",
            )
        } else {
            gr(
                r,
                c,
                1,
                "QUARANTINE",
                GoodsCondition::ShortShelfLife,
                "C0999",
                "2026-04-04",
            )
        };
        events.push(dev.event(&body));
    }
    events.push(dev.event(&EventBody::UnknownBarcode {
        receipt_id: r,
        merchant_id: "nordic-pantry".into(),
        raw: guide.unknown_barcode.clone(),
    }));
    let resp: PushResponse = json_ok(s.push(&dev, &events).await).await;
    assert_eq!(resp.acked_through, 52);
    assert!(
        resp.results
            .iter()
            .all(|r| r.outcome == EventOutcome::Applied),
        "{resp:?}"
    );

    // While open, the receipt shows expected against received so far.
    let open: ReceiptView = s.admin_get(&format!("{}/{r}", paths::RECEIPTS)).await;
    assert!(!open.closed);
    assert_eq!(open.device_id, dev.id);
    let line_c = open.lines.iter().find(|l| &l.product_id == c).unwrap();
    assert_eq!(
        (line_c.expected, line_c.received, line_c.quarantined),
        (4, 10, 2)
    );

    // Stock: the tote at the dock and quarantine, all of Nordic Pantry, none of Kettu.
    let rows: Vec<StockRow> = s
        .admin_get(&format!("{}?merchant_id=nordic-pantry", paths::STOCK))
        .await;
    let find = |loc: &str, product: &str| {
        rows.iter()
            .find(|x| x.location == loc && x.product_id == *product)
            .unwrap_or_else(|| panic!("no stock of {product} at {loc}: {rows:?}"))
    };
    let dock_a = find("DOCK-1", a);
    assert_eq!(dock_a.quantity, 40);
    assert_eq!(dock_a.container.as_deref(), Some("T-0003"));
    assert_eq!(dock_a.lot.as_deref(), Some("A2417"));
    assert_eq!(dock_a.expiry.as_deref(), Some("2026-07-13"));
    assert_eq!(find("DOCK-1", c).quantity, 8);
    let q = find("QUARANTINE", c);
    assert_eq!(
        (q.quantity, q.condition, q.container.clone()),
        (2, GoodsCondition::ShortShelfLife, None)
    );
    assert_eq!(rows.iter().map(|r| r.quantity).sum::<i64>(), 50);
    let kettu: Vec<StockRow> = s
        .admin_get(&format!("{}?merchant_id=kettu-outdoor", paths::STOCK))
        .await;
    assert!(kettu.is_empty());

    // Filters, table-driven: (query, rows expected)
    for (query, n) in [
        ("location=QUARANTINE", 1),
        ("location=DOCK-1", 2),
        (&*format!("product_id={c}"), 2),
        (&*format!("product_id={c}&location=QUARANTINE"), 1),
        ("location=", 3),
        ("location=NOWHERE", 0),
    ] {
        let got: Vec<StockRow> = s.admin_get(&format!("{}?{query}", paths::STOCK)).await;
        assert_eq!(got.len(), n, "{query}");
    }

    // The unknown barcode is an exception for a lead, with the raw code.
    let exceptions: Vec<ExceptionView> = s.admin_get(paths::EXCEPTIONS).await;
    assert_eq!(exceptions.len(), 1);
    assert_eq!(exceptions[0].kind, "unknown_barcode");
    assert!(exceptions[0].message.contains(&guide.unknown_barcode));

    // Closing stores the summary and sends the notice again, closed, through pull.
    let before = s.pull(&dev, 0, Some(5000)).await.next_cursor;
    let summary = vec![ReceiptLineSummary {
        product_id: c.clone(),
        expected: 4,
        received: 10,
        quarantined: 2,
    }];
    let close = dev.event(&EventBody::ReceiptClosed {
        receipt_id: r,
        notice_id: Some("ASN-1002".into()),
        lines: summary.clone(),
    });
    let late = dev.event(&gr(
        r,
        a,
        1,
        "DOCK-1",
        GoodsCondition::Good,
        "A2417",
        "2026-07-13",
    ));
    let resp: PushResponse = json_ok(s.push(&dev, &[close, late]).await).await;
    assert_eq!(resp.results[0].outcome, EventOutcome::Applied);
    assert!(
        matches!(&resp.results[1].outcome, EventOutcome::Rejected { code, .. } if code == "receipt_closed")
    );

    let closed: ReceiptView = s.admin_get(&format!("{}/{r}", paths::RECEIPTS)).await;
    assert!(closed.closed);
    assert_eq!(closed.lines, summary);
    let all: Vec<ReceiptView> = s.admin_get(paths::RECEIPTS).await;
    assert_eq!(all, vec![closed]);

    // Closing announces the closed notice and the putaway work of the totes it filled.
    let after = s.pull(&dev, before, None).await;
    let notices: Vec<_> = after
        .changes
        .iter()
        .filter(|c| !matches!(c.change, Change::Task(_)))
        .collect();
    assert_eq!(notices.len(), 1, "{:?}", after.changes);
    match &notices[0].change {
        Change::InboundNotice(n) => {
            assert_eq!(n.id, "ASN-1002");
            assert_eq!(n.status, NoticeStatus::Closed);
        }
        other => panic!("expected the closed notice, got {other:?}"),
    }
    assert!(after.changes.iter().any(|c| matches!(
        &c.change,
        Change::Task(t) if t.kind == laituri_protocol::TaskKind::Putaway
    )));
    let notices: Vec<InboundNotice> = s.admin_get(paths::INBOUND_NOTICES).await;
    let received = notices.iter().find(|n| n.id == "ASN-1002").unwrap().clone();
    assert_eq!(received.status, NoticeStatus::Closed);

    // A merchant's system sending the received notice again (as merchants' feeds do, with the
    // status it knew) never reopens it: the status is the server's. Changing it is refused.
    let mut resent = serde_json::to_value(&received).unwrap();
    resent["status"] = json!("open");
    let answered: InboundNotice =
        json_ok(s.admin_post(paths::INBOUND_NOTICES, &resent).await).await;
    assert_eq!(
        answered, received,
        "the answer shows what is stored: the server's status, not the one sent"
    );
    let mut changed = resent.clone();
    changed["lines"][0]["expected_qty"] = json!(99);
    let refused = s.admin_post(paths::INBOUND_NOTICES, &changed).await;
    let err = api_error(refused, StatusCode::BAD_REQUEST, "bad_request").await;
    assert!(
        err.message.contains("received and closed"),
        "{}",
        err.message
    );
    let notices: Vec<InboundNotice> = s.admin_get(paths::INBOUND_NOTICES).await;
    assert_eq!(
        notices.iter().find(|n| n.id == "ASN-1002").unwrap(),
        &received,
        "neither post changed the received notice"
    );
    // A new notice sent as "closed" is open until it is received.
    let mut new_one = resent.clone();
    new_one["id"] = json!("ASN-2002");
    new_one["reference"] = json!("ASN-2002");
    new_one["ssccs"] = json!([]);
    new_one["status"] = json!("closed");
    let _: Value = json_ok(s.admin_post(paths::INBOUND_NOTICES, &new_one).await).await;
    let notices: Vec<InboundNotice> = s.admin_get(paths::INBOUND_NOTICES).await;
    assert_eq!(
        notices.iter().find(|n| n.id == "ASN-2002").unwrap().status,
        NoticeStatus::Open
    );

    // Receipt look-ups that fail say why.
    let resp = s
        .client
        .get(s.url(&format!("{}/{}", paths::RECEIPTS, Uuid::now_v7())))
        .bearer_auth(common::ADMIN)
        .send()
        .await
        .unwrap();
    api_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    let resp = s
        .client
        .get(s.url(&format!("{}/not-a-uuid", paths::RECEIPTS)))
        .bearer_auth(common::ADMIN)
        .send()
        .await
        .unwrap();
    api_error(resp, StatusCode::BAD_REQUEST, "bad_request").await;
}

#[tokio::test]
async fn health_needs_no_auth_and_enrolment_codes_can_be_made() {
    let s = TestServer::start();
    let health: Value = json_ok(s.client.get(s.url(paths::HEALTH)).send().await.unwrap()).await;
    assert_eq!(health["status"], "ok");
    assert_eq!(
        health["protocol_version"],
        laituri_protocol::PROTOCOL_VERSION
    );

    // An empty body makes a random code.
    let resp = s
        .admin(reqwest::Method::POST, paths::ENROLMENT_CODES)
        .send();
    let resp = resp.await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let code: laituri_protocol::NewEnrolmentCode = json_ok(resp).await;
    assert_eq!(code.code.len(), 14, "{}", code.code);
    let codes: Vec<laituri_protocol::EnrolmentCode> = s.admin_get(paths::ENROLMENT_CODES).await;
    assert_eq!(codes, vec![code.listed.clone()]);
    let device = Uuid::now_v7();
    let _: laituri_protocol::EnrolResponse = json_ok(s.enrol_with(&code.code, device).await).await;
    let codes: Vec<laituri_protocol::EnrolmentCode> = s.admin_get(paths::ENROLMENT_CODES).await;
    assert_eq!(codes[0].used_by[0].device_id, device);
}

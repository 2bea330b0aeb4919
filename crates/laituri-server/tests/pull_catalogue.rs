//! A catalogue larger than the biggest pull page arrives in bounded pages, in cursor order,
//! and re-sending it unchanged appends nothing.

mod common;

use std::collections::HashSet;

use common::{TestServer, json_ok};
use laituri_protocol::{Change, paths};
use serde_json::{Value, json};

#[tokio::test]
async fn a_catalogue_of_twelve_thousand_products_pulls_in_pages_of_at_most_5000() {
    let s = TestServer::seeded();
    let dev = s.device().await;
    let start = s.pull(&dev, 0, Some(5000)).await.next_cursor;

    let products: Vec<Value> = (0..12_000)
        .map(|n| {
            let body = format!("641111{n:06}");
            let code = laituri_domain::scan::with_check_digit(&body).unwrap();
            json!({"id": format!("BULK-{n:05}"), "merchant_id": "kettu-outdoor",
                   "name": format!("Bulk item {n}"), "barcodes": [{"code": code}]})
        })
        .collect();
    let stored: Vec<Value> = json_ok(
        s.admin_post(paths::PRODUCTS, &Value::Array(products.clone()))
            .await,
    )
    .await;
    assert_eq!(stored.len(), 12_000);

    let mut cursor = start;
    let mut ids = HashSet::new();
    let mut pages = Vec::new();
    loop {
        let page = s.pull(&dev, cursor, Some(5000)).await;
        pages.push(page.changes.len());
        for c in &page.changes {
            assert!(c.cursor > cursor);
            cursor = c.cursor;
            if let Change::Product(p) = &c.change {
                assert_eq!(p.barcodes[0].code.len(), 14);
                ids.insert(p.id.clone());
            }
        }
        if !page.has_more {
            break;
        }
        assert!(pages.len() < 10, "the loop ends");
    }
    assert_eq!(pages, [5000, 5000, 2000]);
    assert_eq!(ids.len(), 12_000);

    // The same catalogue again: nothing changed, nothing to pull.
    let _: Vec<Value> = json_ok(s.admin_post(paths::PRODUCTS, &Value::Array(products)).await).await;
    assert!(s.pull(&dev, cursor, None).await.changes.is_empty());
}

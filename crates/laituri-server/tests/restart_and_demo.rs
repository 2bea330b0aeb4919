//! Durability across restarts, and the demo seed: idempotent, complete, with valid GTINs.

mod common;

use common::{TestServer, json_ok};
use laituri_protocol::{
    EventBody, EventOutcome, GoodsCondition, Location, Merchant, Operator, Product, PushResponse,
    StockRow, paths,
};
use laituri_server::demo;

fn gtin_ok(code: &str) -> bool {
    laituri_domain::scan::verify(code).is_some_and(|(ok, _)| ok)
}
use uuid::Uuid;

#[tokio::test]
async fn a_restart_on_the_same_database_keeps_last_seq_stock_and_tokens() {
    let mut s = TestServer::seeded();
    let mut dev = s.device().await;
    let r = Uuid::now_v7();
    let receive = |qty| EventBody::GoodsReceived {
        receipt_id: r,
        merchant_id: demo::KETTU.into(),
        product_id: "KO-007".into(),
        quantity: qty,
        lot: None,
        expiry: None,
        serial: None,
        container: "T-0002".into(),
        location: "DOCK-2".into(),
        condition: GoodsCondition::Good,
        barcode: "x".into(),
    };
    let opened = EventBody::ReceiptOpened {
        receipt_id: r,
        merchant_id: demo::KETTU.into(),
        notice_id: None,
        dock: "DOCK-2".into(),
    };
    let batch = vec![
        dev.event(&opened),
        dev.event(&receive(5)),
        dev.event(&receive(6)),
    ];
    let _: PushResponse = json_ok(s.push(&dev, &batch).await).await;
    let port = s.handle.as_ref().unwrap().addr().port();

    s.restart();
    assert_eq!(s.handle.as_ref().unwrap().addr().port(), port);

    // The token still works, the batch is still a duplicate, and the stock is still there.
    let again: PushResponse = json_ok(s.push(&dev, &batch).await).await;
    assert_eq!(again.acked_through, 3);
    assert!(
        again
            .results
            .iter()
            .all(|r| matches!(r.outcome, EventOutcome::Duplicate { .. }))
    );
    let rows: Vec<StockRow> = s
        .admin_get(&format!("{}?product_id=KO-007", paths::STOCK))
        .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].quantity, 11);
    let enrolled: laituri_protocol::EnrolResponse =
        json_ok(s.enrol_with(demo::ENROLMENT_CODE, dev.id).await).await;
    assert_eq!(enrolled.last_seq, 3);

    // And it goes on from there.
    dev.token = enrolled.token;
    let next = dev.event(&receive(1));
    let more: PushResponse = json_ok(s.push(&dev, &[next]).await).await;
    assert_eq!(more.acked_through, 4);

    // Twice more, quickly: a restart loop must not trip over its own port or database.
    for _ in 0..2 {
        s.restart();
    }
    let rows: Vec<StockRow> = s
        .admin_get(&format!("{}?product_id=KO-007", paths::STOCK))
        .await;
    assert_eq!(rows[0].quantity, 12);
}

#[tokio::test]
async fn the_demo_seed_is_idempotent_complete_and_its_gtins_are_valid() {
    let s = TestServer::seeded();
    let dev = s.device().await;
    let first = s.pull(&dev, 0, Some(5000)).await;
    assert!(!first.has_more);

    // Seeding again (another day, too) changes nothing and appends nothing to the change log.
    let guide = demo::seed(&s.config, common::today().add_days(3)).unwrap();
    let after = s.pull(&dev, first.next_cursor, None).await;
    assert!(
        after.changes.is_empty(),
        "re-seeding appended {:?}",
        after.changes
    );

    let merchants: Vec<Merchant> = s.admin_get(paths::MERCHANTS).await;
    let names: Vec<&str> = merchants.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["Kettu Outdoor", "Nordic Pantry"]);
    let np = merchants.iter().find(|m| m.id == demo::NORDIC).unwrap();
    assert_eq!(
        (
            np.rules.min_shelf_life_days,
            np.rules.over_receipt_tolerance_pct
        ),
        (60, 10)
    );

    let products: Vec<Product> = s
        .admin_get(&format!("{}?limit=10000", paths::PRODUCTS))
        .await;
    assert!(products.len() >= 200, "{}", products.len());
    for p in &products {
        for b in &p.barcodes {
            assert_eq!(b.code.len(), 14, "stored GTINs are 14 digits: {}", b.code);
            assert!(gtin_ok(&b.code), "{} {}", p.id, b.code);
            assert!(
                b.code[1..].starts_with("64") || b.code.starts_with("164"),
                "{}",
                b.code
            );
        }
    }
    assert!(
        products
            .iter()
            .any(|p| p.barcodes.iter().any(|b| b.pack_qty == 6))
    );
    assert!(
        products
            .iter()
            .any(|p| p.barcodes.iter().any(|b| b.pack_qty == 12))
    );
    assert!(
        products
            .iter()
            .any(|p| p.track_lot && p.track_expiry && p.merchant_id == demo::NORDIC)
    );
    assert!(
        products
            .iter()
            .any(|p| p.track_serial && p.merchant_id == demo::KETTU)
    );

    let locations: Vec<Location> = s.admin_get(paths::LOCATIONS).await;
    for code in [
        "DOCK-1",
        "DOCK-2",
        "QUARANTINE",
        "PACK-1",
        "A-01-01-1",
        "B-03-06-2",
    ] {
        assert!(locations.iter().any(|l| l.code == code), "{code}");
    }
    let operators: Vec<Operator> = s.admin_get(paths::OPERATORS).await;
    let mikko = operators.iter().find(|o| o.badge == "OP-1002").unwrap();
    assert_eq!(mikko.pin_hash, None, "no PIN hash for integration clients");
    assert!(
        operators
            .iter()
            .find(|o| o.badge == "OP-1001")
            .unwrap()
            .pin_hash
            .is_none()
    );

    // Every code the guide tells a person to scan names a product of the right merchant.
    for n in &guide.notices {
        for scan in &n.scans {
            let p = products.iter().find(|p| p.id == scan.product_id).unwrap();
            assert_eq!(p.merchant_id, n.merchant_id);
            let digits: String = if let Some(rest) = scan.code.strip_prefix("(01)") {
                rest[..14].to_string()
            } else {
                format!("{:0>14}", scan.code)
            };
            assert!(
                p.barcodes.iter().any(|b| b.code == digits),
                "{} not on {}",
                scan.code,
                p.id
            );
        }
    }
    assert!(!products.iter().any(|p| {
        p.barcodes
            .iter()
            .any(|b| b.code == format!("{:0>14}", guide.unknown_barcode))
    }));
}

#[tokio::test]
async fn every_pull_answers_the_epoch_and_a_new_epoch_after_a_restore_changes_it() {
    let mut s = TestServer::seeded();
    let dev = s.device().await;
    let first = s.pull(&dev, 0, Some(1)).await.epoch;
    assert_eq!(first.len(), 32, "{first:?}");
    assert_eq!(s.pull(&dev, 0, Some(1)).await.epoch, first);
    // A restart keeps the epoch: the log is the same log.
    s.restart();
    assert_eq!(s.pull(&dev, 0, Some(1)).await.epoch, first);

    // After a restore the operator makes a new epoch (the binary's --new-epoch does this).
    s.handle.take().unwrap().stop();
    let made = s
        .config
        .open_backend()
        .await
        .unwrap()
        .new_epoch()
        .await
        .unwrap();
    assert_ne!(made, first);
    let mut config = s.config.clone();
    config.bind = "127.0.0.1:0".parse().unwrap();
    let handle = laituri_server::ServerHandle::start(config).unwrap();
    s.url = handle.url();
    s.handle = Some(handle);
    assert_eq!(s.pull(&dev, 0, Some(1)).await.epoch, made);
}

#[tokio::test]
async fn the_demo_with_orders_has_stock_reserved_first_expiry_first_and_carts_to_pick() {
    use laituri_protocol::{Order, OrderStatus, StockSummary, Task, TaskKind};
    use laituri_server::demo::outbound;
    let s = TestServer::start();
    // The server plans by its own clock: the food's dates are the real day's.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let today = laituri_server::outbound::load::day_of(now_ms);
    demo::seed_with_orders(&s.config, today).unwrap();
    let before = s.stored_payloads().await.len();
    // Seeding again (another day) books nothing twice and makes no new task.
    demo::seed_with_orders(&s.config, today.add_days(1)).unwrap();
    assert_eq!(s.stored_payloads().await.len(), before);

    let orders: Vec<Order> = s.admin_get(laituri_protocol::paths::ORDERS).await;
    let refs: Vec<&str> = orders.iter().map(|o| o.reference.as_str()).collect();
    for r in outbound::order_references() {
        assert!(refs.contains(&r), "{r} in {refs:?}");
    }
    assert!(
        orders.iter().all(|o| o.status == OrderStatus::Picking),
        "{:?}",
        orders
            .iter()
            .map(|o| (&o.reference, o.status, &o.status_reason))
            .collect::<Vec<_>>()
    );
    let tasks: Vec<Task> = s.admin_get(laituri_protocol::paths::TASKS).await;
    let picks: Vec<&Task> = tasks.iter().filter(|t| t.kind == TaskKind::Pick).collect();
    // Urgent first: Nordic Pantry's urgent order alone, then its other order, then Kettu's
    // cart of three (the kit, the gift, the one that comes up short) and the fourth order.
    let mut sizes: Vec<(String, i32, usize)> = picks
        .iter()
        .map(|t| (t.merchant_id.clone(), t.priority, t.orders.len()))
        .collect();
    sizes.sort();
    assert_eq!(
        sizes,
        vec![
            (demo::KETTU.to_string(), 0, 1),
            (demo::KETTU.to_string(), 0, 3),
            (demo::NORDIC.to_string(), 0, 1),
            (demo::NORDIC.to_string(), 5, 1),
        ]
    );
    let cart = picks.iter().find(|t| t.orders.len() == 3).unwrap();
    let products: Vec<&str> = cart
        .lines
        .iter()
        .map(|l| l.goods.product_id.as_str())
        .collect();
    // The kit is picked as its components; the order worth over 50 EUR gets the gift.
    for p in [
        "KO-011",
        "KO-056",
        "KO-061",
        outbound::GIFT,
        outbound::SHORT_PRODUCT,
    ] {
        assert!(products.contains(&p), "{p} in {products:?}");
    }
    assert!(!products.contains(&outbound::KIT));
    // First expiry first out: Nordic's order takes the early lot; every order gets a leaflet.
    let nordic: Vec<_> = picks
        .iter()
        .filter(|t| t.merchant_id == demo::NORDIC)
        .flat_map(|t| t.lines.iter())
        .collect();
    assert!(
        nordic
            .iter()
            .filter(|l| l.goods.product_id == "NP-016")
            .all(|l| l.goods.lot.as_deref() == Some("L-EARLY"))
    );
    assert_eq!(
        nordic
            .iter()
            .filter(|l| l.goods.product_id == outbound::LEAFLET)
            .count(),
        2
    );
    let levels: Vec<StockSummary> = s
        .admin_get(&format!(
            "{}?product_id={}",
            laituri_protocol::paths::STOCK_LEVELS,
            outbound::SHORT_PRODUCT
        ))
        .await;
    assert_eq!(
        (levels[0].on_hand, levels[0].reserved, levels[0].available),
        (3, 3, 0)
    );
}

//! A poison event never blocks a device's queue: an event the database refuses to store for a
//! reason that does not pass (here a trigger installed in the real database that raises for one
//! product, as a constraint or a value the database does not take would) is rejected on its own,
//! with an exception, and the rest of its batch is applied. Run on each backend.

mod common;

use common::{TestServer, json_ok};
use laituri_protocol::{
    EventBody, EventOutcome, ExceptionView, GoodsCondition, PushResponse, ReceiptView, StockRow,
    paths,
};
use uuid::Uuid;

/// The product whose stock the database refuses.
const POISON: &str = "KO-007";

fn opened(receipt: Uuid) -> EventBody {
    EventBody::ReceiptOpened {
        receipt_id: receipt,
        merchant_id: "kettu-outdoor".into(),
        notice_id: None,
        dock: "DOCK-1".into(),
    }
}

fn goods(receipt: Uuid, product: &str, qty: i64) -> EventBody {
    EventBody::GoodsReceived {
        receipt_id: receipt,
        merchant_id: "kettu-outdoor".into(),
        product_id: product.into(),
        quantity: qty,
        lot: None,
        expiry: None,
        serial: None,
        container: "T-0001".into(),
        location: "DOCK-1".into(),
        condition: GoodsCondition::Good,
        barcode: "6498765000068".into(),
    }
}

async fn stock_of(s: &TestServer, product: &str) -> i64 {
    let rows: Vec<StockRow> = s
        .admin_get(&format!("{}?product_id={product}", paths::STOCK))
        .await;
    rows.iter().map(|r| r.quantity).sum()
}

/// Makes the server's database refuse every stock row of [`POISON`], as a trigger raising.
async fn refuse_poison_stock(s: &TestServer) {
    let sql = if s.pg.is_some() {
        format!(
            "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 IF NEW.product_id = '{POISON}' THEN
                     RAISE EXCEPTION 'stock of {POISON} is not taken here';
                 END IF;
                 RETURN NEW;
             END $$;
             CREATE TRIGGER refuse_poison BEFORE INSERT OR UPDATE ON stock
                 FOR EACH ROW EXECUTE FUNCTION refuse_poison();"
        )
    } else {
        format!(
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON stock
                 WHEN NEW.product_id = '{POISON}'
             BEGIN SELECT RAISE(ABORT, 'stock of {POISON} is not taken here'); END;"
        )
    };
    s.run_sql(&sql).await;
}

fn codes(resp: &PushResponse) -> Vec<String> {
    resp.results
        .iter()
        .map(|r| match r.outcome.effective() {
            EventOutcome::Applied => "applied".to_string(),
            EventOutcome::Rejected { code, .. } | EventOutcome::Partial { code, .. } => {
                code.clone()
            }
            EventOutcome::Duplicate { .. } => "duplicate".to_string(),
        })
        .collect()
}

#[tokio::test]
async fn an_event_the_database_refuses_is_rejected_alone_and_the_queue_moves_on() {
    let s = TestServer::seeded();
    refuse_poison_stock(&s).await;
    let mut dev = s.device().await;
    let r = Uuid::now_v7();
    let batch = vec![
        dev.event(&opened(r)),
        dev.event(&goods(r, "KO-006", 2)),
        dev.event(&goods(r, POISON, 4)),
        dev.event(&goods(r, "KO-006", 3)),
    ];

    let resp: PushResponse = json_ok(s.push(&dev, &batch).await).await;
    assert_eq!(resp.acked_through, 4, "the whole batch is acknowledged");
    assert_eq!(
        codes(&resp),
        ["applied", "applied", "not_applicable", "applied"]
    );
    let EventOutcome::Rejected { reason, .. } = &resp.results[2].outcome else {
        unreachable!()
    };
    assert!(reason.contains("not taken here"), "{reason}");
    assert!(reason.contains("shift lead"), "says what to do: {reason}");
    assert_eq!(stock_of(&s, "KO-006").await, 5);
    assert_eq!(stock_of(&s, POISON).await, 0);
    // Nothing of the refused event is left: the receipt counts only what was stored.
    let receipt: ReceiptView = s.admin_get(&format!("{}/{r}", paths::RECEIPTS)).await;
    let lines: Vec<(&str, i64)> = receipt
        .lines
        .iter()
        .map(|l| (l.product_id.as_str(), l.received))
        .collect();
    assert_eq!(lines, [("KO-006", 5)]);

    let exceptions: Vec<ExceptionView> = s.admin_get(paths::EXCEPTIONS).await;
    assert_eq!(exceptions.len(), 1, "{exceptions:?}");
    assert_eq!(exceptions[0].kind, "not_applicable");
    assert_eq!(exceptions[0].seq, 3);
    assert_eq!(exceptions[0].event_id, batch[2].event_id);
    assert_eq!(exceptions[0].device_id, dev.id);

    // Sent again, as after a lost answer: duplicates, the refused one repeating its rejection.
    let again: PushResponse = json_ok(s.push(&dev, &batch).await).await;
    assert_eq!(again.acked_through, 4);
    assert!(
        again
            .results
            .iter()
            .all(|r| matches!(r.outcome, EventOutcome::Duplicate { .. }))
    );
    assert_eq!(
        codes(&again),
        ["applied", "applied", "not_applicable", "applied"]
    );
    assert_eq!(stock_of(&s, "KO-006").await, 5);
    let exceptions: Vec<ExceptionView> = s.admin_get(paths::EXCEPTIONS).await;
    assert_eq!(exceptions.len(), 1, "a duplicate records nothing new");

    // The queue moves on: the next batch, a poison event alone among good ones again.
    let next = vec![
        dev.event(&goods(r, POISON, 1)),
        dev.event(&goods(r, "KO-006", 1)),
    ];
    let resp: PushResponse = json_ok(s.push(&dev, &next).await).await;
    assert_eq!(resp.acked_through, 6);
    assert_eq!(codes(&resp), ["not_applicable", "applied"]);
    assert_eq!(stock_of(&s, "KO-006").await, 6);
}

/// A text holding a NUL character (which PostgreSQL stores in no text column) is a bad payload
/// of that one event, on each backend, not a failed push.
#[tokio::test]
async fn a_nul_character_rejects_its_event_only() {
    let s = TestServer::seeded();
    let mut dev = s.device().await;
    let r = Uuid::now_v7();
    let mut batch = vec![
        dev.event(&opened(r)),
        dev.event(&goods(r, "KO-006\0", 2)),
        dev.event(&goods(r, "KO-006", 3)),
        dev.event(&goods(r, "KO-006", 4)),
    ];
    batch[3].operator_id = "OP-1001\0".into();

    let resp: PushResponse = json_ok(s.push(&dev, &batch).await).await;
    assert_eq!(resp.acked_through, 4);
    assert_eq!(
        codes(&resp),
        ["applied", "bad_payload", "applied", "bad_payload"]
    );
    assert_eq!(stock_of(&s, "KO-006").await, 3);
    let exceptions: Vec<ExceptionView> = s.admin_get(paths::EXCEPTIONS).await;
    let kinds: Vec<(u64, &str)> = exceptions
        .iter()
        .map(|x| (x.seq, x.kind.as_str()))
        .collect();
    assert_eq!(kinds, [(2, "bad_payload"), (4, "bad_payload")]);
    let again: PushResponse = json_ok(s.push(&dev, &batch).await).await;
    assert_eq!(
        codes(&again),
        ["applied", "bad_payload", "applied", "bad_payload"]
    );
}

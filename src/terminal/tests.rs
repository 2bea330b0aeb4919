//! The terminal core driven as the UI drives it, on a real SQLite file: login, a whole receipt by
//! scans, a commit that fails, and a receipt resumed after a restart.

use laituri_domain::calendar::Date;
use laituri_domain::receiving::{Expect, Message};
use laituri_domain::scan::check_digit;
use laituri_protocol::{
    Change, ChangeRecord, InboundNotice, Location, LocationKind, Merchant, MerchantRules,
    NoticeLine, NoticeStatus, OperatorInput, Product, ProductBarcode, Role,
};

use super::receiving::Action;
use super::*;

/// A GTIN-13 with a correct check digit from a 12-digit payload.
pub fn gtin13(payload: &str) -> String {
    format!("{payload}{}", check_digit(payload).unwrap())
}

pub fn fixtures() -> Vec<Change> {
    let merchant = Merchant {
        id: "M1".into(),
        name: "Nordic Pantry".into(),
        rules: MerchantRules {
            inserts: Vec::new(),
            min_shelf_life_days: 60,
            over_receipt_tolerance_pct: 10,
            returns: Vec::new(),
        },
        zones: vec!["A".into()],
    };
    let product = |id: &str, payload: &str, lot: bool, pack: Option<&str>| Product {
        dims_mm: None,
        kit: Vec::new(),
        volume_ml: None,
        weight_g: None,
        id: id.into(),
        merchant_id: "M1".into(),
        name: format!("Item {id}"),
        barcodes: std::iter::once(ProductBarcode {
            code: format!("0{}", gtin13(payload)),
            pack_qty: 1,
        })
        .chain(pack.map(|p| ProductBarcode {
            code: format!("1{}", gtin13(p)),
            pack_qty: 6,
        }))
        .map(|mut b| {
            // Case codes: the 14-digit form with indicator 1 needs its own check digit.
            let body = &b.code[..13];
            b.code = format!("{body}{}", check_digit(body).unwrap());
            b
        })
        .collect(),
        track_lot: lot,
        track_expiry: lot,
        track_serial: false,
    };
    vec![
        Change::Merchant(merchant),
        Change::Product(product("P1", "641234500001", false, Some("641234500001"))),
        Change::Product(product("P2", "641234500002", true, None)),
        Change::Location(Location {
            box_types: Vec::new(),
            aisle: None,
            bay: None,
            code: "QUARANTINE".into(),
            kind: LocationKind::Quarantine,
            zone: String::new(),
            walk_order: 0,
            capacity: None,
        }),
        Change::Location(Location {
            box_types: Vec::new(),
            aisle: None,
            bay: None,
            code: "DOCK-1".into(),
            kind: LocationKind::Dock,
            zone: "DOCK".into(),
            walk_order: 1,
            capacity: None,
        }),
        Change::Location(Location {
            box_types: Vec::new(),
            aisle: None,
            bay: None,
            code: "A-01".into(),
            kind: LocationKind::Bin,
            zone: "A".into(),
            walk_order: 10,
            capacity: Some(5),
        }),
        Change::Location(Location {
            box_types: Vec::new(),
            aisle: None,
            bay: None,
            code: "A-02".into(),
            kind: LocationKind::Bin,
            zone: "A".into(),
            walk_order: 20,
            capacity: None,
        }),
        Change::Location(Location {
            box_types: Vec::new(),
            aisle: None,
            bay: None,
            code: "B-01".into(),
            kind: LocationKind::Bin,
            zone: "B".into(),
            walk_order: 5,
            capacity: None,
        }),
        Change::Operator(
            OperatorInput {
                id: "aino".into(),
                name: "Aino".into(),
                badge: "OP-1001".into(),
                pin: None,
                roles: vec![Role::Receiving, Role::Putaway, Role::Counting],
                language: "en".into(),
                count_limits: None,
            }
            .into_operator()
            .with_pin_hashed(None),
        ),
        Change::Operator(
            OperatorInput {
                id: "mikko".into(),
                name: "Mikko".into(),
                badge: "OP-1002".into(),
                pin: Some("1234".into()),
                roles: vec![Role::Picking],
                language: "fi".into(),
                count_limits: None,
            }
            .into_operator()
            .with_pin_hashed(None),
        ),
        Change::InboundNotice(InboundNotice {
            id: "ASN-1".into(),
            merchant_id: "M1".into(),
            reference: "ASN-1".into(),
            ssccs: vec!["364123450000000013".into()],
            supplier: "Supplier".into(),
            lines: vec![
                NoticeLine {
                    product_id: "P1".into(),
                    expected_qty: 8,
                },
                NoticeLine {
                    product_id: "P2".into(),
                    expected_qty: 1,
                },
            ],
            status: NoticeStatus::Open,
        }),
    ]
}

fn terminal_at(path: &std::path::Path) -> Terminal {
    let mut store = Store::open(path).unwrap();
    let records: Vec<ChangeRecord> = fixtures()
        .into_iter()
        .enumerate()
        .map(|(i, change)| ChangeRecord {
            cursor: i as u64 + 1,
            change,
        })
        .collect();
    store.apply_changes(&records, records.len() as u64).unwrap();
    Terminal::new(
        store,
        CoreConfig::default(),
        Box::new(|| Date::new(2026, 6, 1).unwrap()),
    )
}

fn tone(reply: Option<Reply>) -> Tone {
    reply.expect("a scan gets an answer").tone
}

#[test]
fn badge_login_with_and_without_pin() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = terminal_at(&dir.path().join("t.sqlite3"));
    assert_eq!(tone(t.scan("NOBODY")), Tone::Error);
    assert_eq!(t.screen(), &Screen::Login);

    assert_eq!(tone(t.scan("OP-1002\r\n")), Tone::Ok);
    assert_eq!(t.screen(), &Screen::Pin);
    assert_eq!(t.enter_pin("0000").tone, Tone::Error);
    assert_eq!(t.enter_pin("1234").tone, Tone::Ok);
    assert_eq!(t.screen(), &Screen::Home);
    assert_eq!(t.lang(), messages::Lang::Fi);
    // Mikko picks; he may not receive.
    assert!(t.open(Screen::ReceivingStart).is_err());

    t.log_out();
    assert_eq!(t.screen(), &Screen::Login);
    t.scan("OP-1002");
    for _ in 0..3 {
        assert_eq!(t.enter_pin("9999").tone, Tone::Error);
    }
    assert_eq!(t.screen(), &Screen::Login, "three wrong PINs: badge again");
    // Scanning the badge again gives no new tries: the badge is locked on this device.
    let again = t.scan("OP-1002").unwrap();
    assert!(
        matches!(again.text, Text::PinLocked { minutes: 5 }),
        "{again:?}"
    );
    assert_eq!(t.screen(), &Screen::Login);
    // Also after a restart of the terminal.
    drop(t);
    let mut t = terminal_at(&dir.path().join("t.sqlite3"));
    assert!(matches!(
        t.scan("OP-1002").unwrap().text,
        Text::PinLocked { .. }
    ));
    // Five minutes after the last wrong PIN, the badge may try again; a right PIN clears the
    // count.
    let expire = |t: &mut Terminal| {
        t.store_mut()
            .write(|tx| {
                tx.execute("UPDATE pin_failures SET last_ms = last_ms - 300001", [])?;
                Ok(())
            })
            .unwrap();
    };
    expire(&mut t);
    assert_eq!(tone(t.scan("OP-1002")), Tone::Ok);
    // The lock is over, but not the count: one more wrong PIN locks again at once.
    assert!(matches!(t.enter_pin("9999").text, Text::PinLocked { .. }));
    assert_eq!(t.screen(), &Screen::Login);
    expire(&mut t);
    assert_eq!(tone(t.scan("OP-1002")), Tone::Ok);
    assert!(matches!(t.enter_pin("1234").text, Text::Welcome { .. }));
    assert_eq!(t.store().pin_failures("mikko").unwrap().0, 0);
    t.log_out();

    assert_eq!(tone(t.scan("OP-1001")), Tone::Ok);
    assert_eq!(t.screen(), &Screen::Home, "no PIN: straight in");
    assert!(t.open(Screen::ReceivingStart).is_ok());
}

#[test]
fn a_notice_received_by_scans_records_every_action_in_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = terminal_at(&dir.path().join("t.sqlite3"));
    t.scan("OP-1001");
    t.open(Screen::ReceivingStart).unwrap();
    // The notice by its SSCC, as printed on the pallet label.
    assert_eq!(tone(t.scan("]C100364123450000000013")), Tone::Ok);
    assert_eq!(t.screen(), &Screen::Receiving);

    let each = format!("0{}", gtin13("641234500001"));
    let case = {
        let body = format!("1{}", &gtin13("641234500001")[..12]);
        format!("{body}{}", check_digit(&body).unwrap())
    };
    let food = gtin13("641234500002");
    let steps: Vec<(String, Tone)> = vec![
        (each[1..].to_string(), Tone::Error), // no tote yet
        ("T-0001".into(), Tone::Ok),
        (each[1..].to_string(), Tone::Ok),
        (each[1..].to_string(), Tone::Ok),
        (format!("]C101{case}"), Tone::Ok), // a case of 6
        (format!("]C1010{food}17270131\x1d10LOT42"), Tone::Ok),
        ("4006381333931".into(), Tone::Error), // a real EAN-13 nobody here sells
        ("]C101123456789012341".into(), Tone::Error), // wrong check digit: unreadable
    ];
    for (raw, want) in &steps {
        let reply = t.scan(raw).unwrap();
        assert_eq!(
            reply.tone,
            *want,
            "{raw:?}: {}",
            reply.text.render(messages::Lang::En)
        );
    }
    let view = t.receiving().unwrap().view(t.store());
    let got: Vec<_> = view
        .lines
        .iter()
        .map(|l| (l.product_id.as_str(), l.expected, l.received))
        .collect();
    assert_eq!(got, vec![("P1", 8, 8), ("P2", 1, 1)]);
    assert_eq!(view.recent.len(), 5);
    let names: Vec<&str> = view
        .recent
        .iter()
        .map(|l| l.product_name.as_str())
        .collect();
    assert_eq!(
        names,
        ["4006381333931", "Item P2", "Item P1", "Item P1", "Item P1"],
        "newest first, the unknown barcode in the log too"
    );

    assert_eq!(t.receiving_action(Action::RequestClose).tone, Tone::Ok);
    assert_eq!(t.receiving_action(Action::Confirm).tone, Tone::Done);

    let types: Vec<_> = t
        .store()
        .pending_batch(100)
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(
        types,
        [
            "receipt_opened",
            "goods_received",
            "goods_received",
            "goods_received",
            "goods_received",
            "unknown_barcode",
            "receipt_closed"
        ]
    );
    assert_eq!(t.store().counts().unwrap().open_exceptions, 1);
    // A closed notice leaves the list of open notices.
    assert!(t.store().open_notices(10).unwrap().is_empty());
}

#[test]
fn lot_and_expiry_are_asked_for_when_the_label_lacks_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = terminal_at(&dir.path().join("t.sqlite3"));
    t.scan("OP-1001");
    t.open(Screen::ReceivingStart).unwrap();
    t.scan("ASN-1");
    t.scan("T-1");
    assert_eq!(tone(t.scan(&gtin13("641234500002"))), Tone::Warning);
    assert_eq!(t.receiving().unwrap().expects(), Expect::Lot);
    assert_eq!(tone(t.scan("LOT-7")), Tone::Warning);
    assert_eq!(t.receiving().unwrap().expects(), Expect::Expiry);
    assert_eq!(
        t.receiving_action(Action::Expiry("2701".into())).tone,
        Tone::Error
    );
    // Expires within the merchant's 60 days: received into quarantine with a warning.
    let r = t.receiving_action(Action::Expiry("260615".into()));
    assert_eq!(r.tone, Tone::Warning, "{r:?}");
    assert!(matches!(
        r.text,
        Text::Receiving(Message::Quarantined { .. })
    ));
    let lines = t
        .store()
        .recent_receipt_lines(t.receiving().unwrap().open_receipt().receipt_id, 5)
        .unwrap();
    assert_eq!(lines[0].condition, "short_shelf_life");
}

#[test]
fn a_failed_commit_changes_nothing_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = terminal_at(&dir.path().join("t.sqlite3"));
    t.scan("OP-1001");
    t.open(Screen::ReceivingStart).unwrap();
    t.scan("ASN-1");
    t.scan("T-1");
    t.store()
        .conn()
        .execute_batch(
            "CREATE TRIGGER full BEFORE INSERT ON outbox BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END;",
        )
        .unwrap();
    let before = t.receiving().unwrap().view(t.store());
    let reply = t.scan(&gtin13("641234500001")).unwrap();
    assert_eq!(reply.tone, Tone::Error);
    assert!(reply.needs_ack());
    let after = t.receiving().unwrap().view(t.store());
    assert_eq!(before, after, "the receipt did not move");
    t.store()
        .conn()
        .execute_batch("DROP TRIGGER full;")
        .unwrap();
    assert_eq!(
        tone(t.scan(&gtin13("641234500001"))),
        Tone::Ok,
        "works again once space is back"
    );
}

#[test]
fn an_open_receipt_resumes_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sqlite3");
    {
        let mut t = terminal_at(&path);
        t.scan("OP-1001");
        t.open(Screen::ReceivingStart).unwrap();
        t.scan("ASN-1");
        t.scan("T-9");
        t.scan(&gtin13("641234500001"));
        t.receiving_action(Action::AddQuantity(2));
        // The battery is pulled here: no logout, no close.
    }
    let mut t = terminal_at(&path);
    t.scan("OP-1001");
    t.open(Screen::Receiving).unwrap();
    assert_eq!(t.screen(), &Screen::Receiving);
    let view = t.receiving().unwrap().view(t.store());
    assert_eq!(view.lines[0].received, 3);
    assert_eq!(view.container.as_deref(), Some("T-9"));
    assert_eq!(tone(t.scan(&gtin13("641234500001"))), Tone::Ok);
}

#[test]
fn scanning_a_notice_on_the_menu_starts_receiving_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = terminal_at(&dir.path().join("t.sqlite3"));
    t.scan("OP-1001");
    assert_eq!(tone(t.scan("NOT-A-NOTICE")), Tone::Warning);
    assert_eq!(t.screen(), &Screen::Home);
    assert_eq!(tone(t.scan("ASN-1")), Tone::Ok);
    assert_eq!(t.screen(), &Screen::Receiving);
}

#[test]
fn another_badge_switches_operator_and_is_never_an_unknown_barcode() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = terminal_at(&dir.path().join("t.sqlite3"));
    t.scan("OP-1001");
    t.open(Screen::ReceivingStart).unwrap();
    t.scan("ASN-1");
    t.scan("T-1");
    assert_eq!(tone(t.scan("OP-1002")), Tone::Ok);
    assert_eq!(t.screen(), &Screen::Pin, "Mikko's badge asks for his PIN");
    assert_eq!(t.store().counts().unwrap().open_exceptions, 0);
    assert_eq!(t.enter_pin("1234").tone, Tone::Ok);
    assert_eq!(t.operator().unwrap().id, "mikko");
    // Aino's receipt stays open on the device and resumes when she is back.
    t.scan("OP-1001");
    assert_eq!(t.operator().unwrap().id, "aino");
    t.open(Screen::Receiving).unwrap();
    assert_eq!(t.screen(), &Screen::Receiving);
}

#[test]
fn a_tote_is_put_away_offline_one_job_at_a_time_and_resumes_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sqlite3");
    let item = gtin13("641234500001");
    {
        let mut t = terminal_at(&path);
        t.scan("OP-1001");
        assert_eq!(tone(t.scan("ASN-1")), Tone::Ok);
        t.scan("T-1");
        for _ in 0..3 {
            assert_eq!(tone(t.scan(&item)), Tone::Ok);
        }
        // A receipt is open: a tote scanned on the menu does not start a second job.
        t.home();
        let reply = t.scan("T-1").unwrap();
        assert!(
            matches!(reply.text, Text::FinishJobFirst { .. }),
            "{reply:?}"
        );
        assert_eq!(t.screen(), &Screen::Home);
        t.open(Screen::Receiving).unwrap();
        t.receiving_action(Action::RequestClose);
        assert_eq!(t.receiving_action(Action::Confirm).tone, Tone::Done);
        t.home();

        // An item of the tote, scanned on the menu, starts putting that tote away.
        assert_eq!(tone(t.scan(&item)), Tone::Ok);
        assert_eq!(t.screen(), &Screen::Putaway);
        let view = t.putaway().unwrap().view();
        assert_eq!(
            view.suggested.as_deref(),
            Some("A-01"),
            "empty bin of the merchant's zone first"
        );
        assert_eq!(view.quantity, Some(3));
        let before = t.store().counts().unwrap().last_seq;
        // Wrong scans record nothing: a dock, a bin of a zone that is nobody's is allowed only
        // with a reason, an unknown code.
        assert_eq!(tone(t.scan("DOCK-1")), Tone::Error);
        assert_eq!(tone(t.scan("NO-SUCH-THING")), Tone::Error);
        assert_eq!(t.store().counts().unwrap().last_seq, before);
        // The battery is pulled here.
    }
    let mut t = terminal_at(&path);
    t.scan("OP-1001");
    t.open(Screen::PutawayStart).unwrap();
    assert_eq!(t.screen(), &Screen::Putaway, "the open putaway resumes");
    assert_eq!(tone(t.scan("A-01")), Tone::Done);
    assert!(t.putaway().unwrap().is_finished());
    assert!(
        t.store()
            .container_contents("T-1")
            .unwrap()
            .iter()
            .all(|r| r.quantity == 0)
    );
    let in_bin: i64 = t
        .store()
        .location_contents("A-01")
        .unwrap()
        .iter()
        .map(|r| r.quantity)
        .sum();
    assert_eq!(in_bin, 3);
    let types: Vec<String> = t
        .store()
        .pending_batch(100)
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .rev()
        .take(2)
        .collect();
    assert_eq!(types, ["putaway_finished", "put_away"]);
    assert_eq!(
        t.store().open_job().unwrap(),
        None,
        "the job ended with the tote"
    );
}

#[test]
fn an_empty_bin_far_along_the_walk_is_found_when_the_first_bins_are_full() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = terminal_at(&dir.path().join("t.sqlite3"));
    // A-01 holds another merchant's goods on the pulled view of stock: it is not empty.
    let level = laituri_protocol::StockLevel {
        merchant_id: "M9".into(),
        product_id: "X".into(),
        location: "A-01".into(),
        container: None,
        lot: None,
        expiry: None,
        condition: laituri_protocol::GoodsCondition::Good,
        quantity: 3,
        by_device: None,
        by_seq: None,
    };
    t.store_mut()
        .apply_changes(
            &[ChangeRecord {
                cursor: 100,
                change: Change::Stock(level),
            }],
            100,
        )
        .unwrap();
    t.scan("OP-1001");
    t.scan("ASN-1");
    t.scan("T-2");
    t.scan(&gtin13("641234500001"));
    t.receiving_action(Action::RequestClose);
    t.receiving_action(Action::Confirm);
    t.home();
    assert_eq!(tone(t.scan("T-2")), Tone::Ok);
    let view = t.putaway().unwrap().view();
    assert_eq!(view.suggested.as_deref(), Some("A-02"), "{:?}", view.prompt);
}

/// A cluster pick task of two orders over the fixtures' bins, with its work packet: two lines
/// of P1 at A-01 (the bin holds exactly what they take), one of P2's lot L1 at A-02.
fn pick_task() -> (laituri_protocol::Task, laituri_protocol::WorkPacket) {
    use laituri_protocol::{
        GoodsCondition, IN_TRANSIT, Lease, Place, StockMove, Task, TaskKind, TaskLine, TaskOrder,
        TaskStatus, WorkPacket,
    };
    let (first, second) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let line =
        |id: &str, order: uuid::Uuid, product: &str, lot: Option<&str>, bin: &str, q| TaskLine {
            goods: StockMove {
                merchant_id: "M1".into(),
                product_id: product.into(),
                quantity: q,
                lot: lot.map(Into::into),
                expiry: lot.map(|_| "2026-12-31".into()),
                serial: None,
                condition: GoodsCondition::Good,
                from: Some(Place::at(bin)),
                to: Some(Place::at(IN_TRANSIT)),
                reason: None,
            },
            order_id: Some(order),
            line_id: Some(id.into()),
        };
    let task = Task {
        task_id: "pick-1".into(),
        kind: TaskKind::Pick,
        merchant_id: "M1".into(),
        priority: 0,
        status: TaskStatus::Open,
        container: None,
        lines: vec![
            // Line ids are each order's own, as the server numbers them.
            line("1", first, "P1", None, "A-01", 2),
            line("1", second, "P1", None, "A-01", 1),
            line("2", first, "P2", Some("L1"), "A-02", 1),
        ],
        leased_to: None,
        reason: None,
        orders: vec![
            TaskOrder {
                order_id: first,
                reference: "#1001".into(),
                slot: 1,
                tote: None,
            },
            TaskOrder {
                order_id: second,
                reference: "#1002".into(),
                slot: 2,
                tote: None,
            },
        ],
    };
    let changes = fixtures();
    let merchant = changes
        .iter()
        .find_map(|c| match c {
            Change::Merchant(m) => Some(m.clone()),
            _ => None,
        })
        .unwrap();
    let products = changes
        .iter()
        .filter_map(|c| match c {
            Change::Product(p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    let packet = WorkPacket {
        task: Task {
            status: TaskStatus::Leased,
            ..task.clone()
        },
        lease: Lease {
            task_id: "pick-1".into(),
            token: 1,
            expires_at_ms: i64::MAX,
        },
        merchant,
        products,
        locations: vec![Location {
            box_types: Vec::new(),
            aisle: None,
            bay: None,
            code: "PACK-1".into(),
            kind: LocationKind::Packing,
            zone: "PACK".into(),
            walk_order: 99,
            capacity: None,
        }],
    };
    (task, packet)
}

/// The pulled stock levels of the fixtures' bins: 3 × P1 at A-01, 5 × P2 of lot L1 at A-02.
fn pick_stock(t: &mut Terminal, task: laituri_protocol::Task) {
    let level = |product: &str, lot: Option<&str>, bin: &str, quantity| {
        Change::Stock(laituri_protocol::StockLevel {
            merchant_id: "M1".into(),
            product_id: product.into(),
            location: bin.into(),
            container: None,
            lot: lot.map(Into::into),
            expiry: lot.map(|_| "2026-12-31".into()),
            condition: laituri_protocol::GoodsCondition::Good,
            quantity,
            by_device: None,
            by_seq: None,
        })
    };
    let changes = [
        level("P1", None, "A-01", 3),
        level("P2", Some("L1"), "A-02", 5),
        Change::Task(task),
    ];
    let records: Vec<ChangeRecord> = changes
        .into_iter()
        .enumerate()
        .map(|(i, change)| ChangeRecord {
            cursor: 200 + i as u64,
            change,
        })
        .collect();
    t.store_mut().apply_changes(&records, 202).unwrap();
}

#[test]
fn a_pick_task_is_picked_from_its_packet_offline_and_resumes_after_a_restart_with_its_totes() {
    use super::picking::Action as Pick;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sqlite3");
    let (p1, p2) = (gtin13("641234500001"), gtin13("641234500002"));
    {
        let mut t = terminal_at(&path);
        let (task, packet) = pick_task();
        pick_stock(&mut t, task);
        t.scan("OP-1002");
        t.enter_pin("1234");
        t.open(Screen::PickingStart).unwrap();
        assert_eq!(t.screen(), &Screen::PickingStart);
        // A label that is no pick task is refused; the batch label asks for the lease.
        assert_eq!(tone(t.scan("pick-9")), Tone::Error);
        let asked = t.scan("pick-1").unwrap();
        assert!(
            matches!(&asked.text, Text::TakingPickTask { task } if task == "#1001, #1002"),
            "{asked:?}"
        );
        assert_eq!(t.store().leases_wanted().unwrap(), ["pick-1"]);
        // One task asked for at a time.
        let second = t.take_task("pick-2");
        assert!(
            matches!(&second.text, Text::StillTaking { task } if task == "#1001, #1002"),
            "{second:?}"
        );
        assert_eq!(t.store().leases_wanted().unwrap(), ["pick-1"]);
        // The sync worker's answer: the packet. From here on no server is needed.
        t.store_mut()
            .answer_wanted("pick-1", Some(&packet), None)
            .unwrap();
        let started = t.lease_answered().unwrap();
        assert_eq!(started.tone, Tone::Ok, "{started:?}");
        assert_eq!(t.screen(), &Screen::Picking);
        let view = t.picking().unwrap().view();
        assert_eq!(view.location.as_deref(), Some("A-01"));
        assert_eq!((view.quantity, view.lines_left, view.cluster), (2, 3, true));

        let before = t.store().counts().unwrap().last_seq;
        assert_eq!(tone(t.scan("A-02")), Tone::Error, "the wrong bin");
        assert_eq!(tone(t.scan("A-01")), Tone::Ok);
        assert_eq!(tone(t.scan(&p2)), Tone::Error, "the wrong item");
        assert_eq!(tone(t.scan(&p1)), Tone::Ok);
        assert_eq!(t.picking_action(Pick::Quantity(9)).tone, Tone::Error);
        assert_eq!(t.picking_action(Pick::Quantity(2)).tone, Tone::Ok);
        assert_eq!(t.store().counts().unwrap().last_seq, before, "nothing yet");
        assert_eq!(tone(t.scan("T-1")), Tone::Ok);
        // The second order's line at the same bin: not into the first order's tote.
        assert_eq!(tone(t.scan(&p1)), Tone::Ok);
        assert_eq!(tone(t.scan("T-1")), Tone::Error);
        assert_eq!(tone(t.scan("T-2")), Tone::Ok);
        // The view expects A-01 empty now: it is not.
        assert_eq!(
            t.picking().unwrap().view().expects,
            laituri_domain::picking::Expect::ZeroCheck
        );
        assert_eq!(t.picking_action(Pick::ZeroCheck(false)).tone, Tone::Warning);
        assert_eq!(
            t.picking().unwrap().view().location.as_deref(),
            Some("A-02")
        );
        // Parked; the battery is pulled.
        assert_eq!(t.picking_action(Pick::Stop).tone, Tone::Warning);
        assert_eq!(t.screen(), &Screen::Home);
    }
    let mut t = terminal_at(&path);
    t.scan("OP-1002");
    t.enter_pin("1234");
    t.open(Screen::PickingStart).unwrap();
    assert_eq!(t.screen(), &Screen::Picking, "the open pick task resumes");
    let view = t.picking().unwrap().view();
    assert_eq!((view.lines_done, view.lines_left), (2, 1));
    let order = view.order.unwrap();
    assert_eq!(
        (order.slot, order.tote.as_deref()),
        (1, Some("T-1")),
        "the first order's tote is still bound"
    );
    assert_eq!(tone(t.scan("A-02")), Tone::Ok);
    assert_eq!(tone(t.scan(&p2)), Tone::Ok);
    assert_eq!(tone(t.scan("T-2")), Tone::Error);
    assert_eq!(tone(t.scan("T-1")), Tone::Ok);
    assert_eq!(tone(t.scan("A-01")), Tone::Error, "totes go to packing");
    assert_eq!(tone(t.scan("PACK-1")), Tone::Done);
    assert!(t.picking().unwrap().is_finished());
    assert_eq!(t.store().open_job().unwrap(), None);
    // The batch label again, before the server heard of the end: not started over.
    t.home();
    t.open(Screen::PickingStart).unwrap();
    let again = t.scan("pick-1").unwrap();
    assert!(
        matches!(&again.text, Text::PickTaskFinishedHere { .. }),
        "{again:?}"
    );
    assert!(t.store().leases_wanted().unwrap().is_empty());

    let events = t.store().pending_batch(100).unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "picked",
            "picked",
            "zero_checked",
            "picked",
            "totes_dropped",
            "pick_finished"
        ]
    );
    let bodies: Vec<laituri_protocol::EventBody> =
        events.iter().map(|e| e.body().unwrap()).collect();
    for b in &bodies {
        assert_eq!(
            b.task().map(|c| c.token),
            Some(1),
            "every event under the lease"
        );
    }
    let laituri_protocol::EventBody::TotesDropped { totes, moves, .. } = &bodies[4] else {
        panic!("{:?}", bodies[4]);
    };
    assert_eq!(totes.len(), 2);
    let into = |tote: &str| -> Vec<(String, Option<String>, i64)> {
        moves
            .iter()
            .filter(|m| m.to.as_ref().and_then(|p| p.container.as_deref()) == Some(tote))
            .map(|m| (m.product_id.clone(), m.lot.clone(), m.quantity))
            .collect()
    };
    assert_eq!(
        into("T-1"),
        [("P1".into(), None, 2), ("P2".into(), Some("L1".into()), 1)]
    );
    assert_eq!(into("T-2"), [("P1".into(), None, 1)]);
    // The local view: the bins gave what was picked, packing holds it.
    let at = |loc: &str| -> i64 {
        t.store()
            .location_contents(loc)
            .unwrap()
            .iter()
            .map(|r| r.quantity)
            .sum()
    };
    assert_eq!((at("A-01"), at("A-02"), at("PACK-1")), (0, 4, 4));
}

#[test]
fn a_pick_lease_whose_job_never_began_begins_when_picking_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sqlite3");
    let mut t = terminal_at(&path);
    let (task, packet) = pick_task();
    pick_stock(&mut t, task);
    t.scan("OP-1002");
    t.enter_pin("1234");
    t.open(Screen::PickingStart).unwrap();
    t.scan("pick-1").unwrap();
    t.store_mut()
        .answer_wanted("pick-1", Some(&packet), None)
        .unwrap();
    // The answer is taken, and the terminal stops before the job begins.
    assert!(t.store_mut().take_answered_lease().unwrap().is_some());
    drop(t);
    let mut t = terminal_at(&path);
    t.scan("OP-1002");
    t.enter_pin("1234");
    assert!(t.picking().is_none());
    t.open(Screen::PickingStart).unwrap();
    assert_eq!(t.screen(), &Screen::Picking, "the held batch begins");
    assert_eq!(t.picking().unwrap().claim().task_id, "pick-1");
}

#[test]
fn a_station_still_catching_up_with_the_server_does_not_start_packing() {
    use laituri_protocol::{Location, PackGoods, PackOrder};
    let dir = tempfile::tempdir().unwrap();
    let mut t = terminal_at(&dir.path().join("t.sqlite3"));
    let order_id = uuid::Uuid::from_u128(77);
    let changes = [
        Change::Location(Location {
            box_types: Vec::new(),
            aisle: None,
            bay: None,
            code: "PACK-1".into(),
            kind: LocationKind::Packing,
            zone: "PACK".into(),
            walk_order: 99,
            capacity: None,
        }),
        Change::Operator(
            OperatorInput {
                id: "pia".into(),
                name: "Pia".into(),
                badge: "OP-1003".into(),
                pin: None,
                roles: vec![Role::Packing],
                language: "en".into(),
                count_limits: None,
            }
            .into_operator()
            .with_pin_hashed(None),
        ),
        Change::PackOrder(PackOrder {
            order_id,
            reference: "#1001".into(),
            merchant_id: "M1".into(),
            shipping_method: "posti-parcel".into(),
            pickup_point: None,
            goods: vec![PackGoods {
                location: "PACK-1".into(),
                tote: "T-7".into(),
                product_id: "P1".into(),
                lot: None,
                expiry: None,
                quantity: 1,
            }],
            inserts: Vec::new(),
            documents: Vec::new(),
        }),
    ];
    let records: Vec<ChangeRecord> = changes
        .into_iter()
        .enumerate()
        .map(|(i, change)| ChangeRecord {
            cursor: 300 + i as u64,
            change,
        })
        .collect();
    t.store_mut().apply_changes(&records, 302).unwrap();
    t.scan("OP-1003");
    t.open(Screen::PackingStart).unwrap();
    let seq = t.store().counts().unwrap().last_seq;
    // The pull has not reached the end of the server's log: the order may be packed elsewhere.
    let r = t.scan("T-7").unwrap();
    assert_eq!(r.text, Text::CatchingUp);
    assert_eq!(*t.screen(), Screen::PackingStart);
    assert_eq!(t.store().counts().unwrap().last_seq, seq);
    // Once it has, the tote starts the packing.
    t.store_mut().set_caught_up(crate::store::now_ms()).unwrap();
    let r = t.scan("T-7").unwrap();
    assert_eq!(*t.screen(), Screen::Packing, "{:?}", r.text);
}

#[test]
fn a_count_expects_the_devices_own_unconfirmed_moves_and_resumes_at_its_bin() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sqlite3");
    let item = gtin13("641234500001");
    {
        let mut t = terminal_at(&path);
        t.scan("OP-1001");
        t.scan("ASN-1");
        t.scan("T-1");
        for _ in 0..3 {
            t.scan(&item);
        }
        t.receiving_action(Action::RequestClose);
        t.receiving_action(Action::Confirm);
        t.home();
        // Three units put away into A-01: moves the server has not confirmed yet.
        t.scan(&item);
        assert_eq!(tone(t.scan("A-01")), Tone::Done);
        t.home();

        t.open(Screen::Counting).unwrap();
        assert_eq!(t.screen(), &Screen::Counting);
        assert_eq!(tone(t.scan("DOCK-1")), Tone::Error, "a dock is not counted");
        assert!(t.counting().is_none());
        assert_eq!(tone(t.scan("A-01")), Tone::Ok);
        assert_eq!(tone(t.scan(&item)), Tone::Ok);
        // The battery is pulled in the middle of the count: nothing of it was recorded.
    }
    let mut t = terminal_at(&path);
    t.scan("OP-1001");
    t.open(Screen::Counting).unwrap();
    let view = t.counting().expect("the count resumes").view();
    assert_eq!(view.location.as_deref(), Some("A-01"));
    assert!(view.lines.is_empty(), "counted again from the start");
    let before = t.store().counts().unwrap().last_seq;
    t.scan(&item);
    t.scan(&item);
    assert_eq!(t.store().counts().unwrap().last_seq, before);
    assert_eq!(t.counting_action(counting::Action::Finish).tone, Tone::Done);
    let recorded = t.store().recent_events("location_counted", 5).unwrap();
    let (
        EventBody::LocationCounted {
            location, lines, ..
        },
        _,
    ) = &recorded[0]
    else {
        panic!("{recorded:?}");
    };
    assert_eq!(location, "A-01");
    assert_eq!(
        (lines[0].counted, lines[0].expected),
        (2, 3),
        "expected: pulled levels plus this device's unconfirmed putaway"
    );
    assert_eq!(t.store().open_job().unwrap(), None);
}

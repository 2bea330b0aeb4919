//! The packing tables: pulled pack orders found by tote and reference and gone with their
//! tombstone, box types kept with their location, a step's journal and events in one
//! transaction, and a label's bytes kept only until it is printed or handled.

use laituri_protocol::{
    BoxType, Change, ChangeRecord, EntityKind, EventBody, Location, LocationKind, PackGoods,
    PackOrder, ParcelLabel, Removed, ShipmentLabels,
};
use uuid::Uuid;

use super::*;

fn pack_order(id: Uuid) -> PackOrder {
    PackOrder {
        order_id: id,
        reference: "K-1".into(),
        merchant_id: "M".into(),
        shipping_method: "posti".into(),
        pickup_point: None,
        goods: vec![PackGoods {
            location: "PACK-1".into(),
            tote: "T-9".into(),
            product_id: "P".into(),
            lot: None,
            expiry: None,
            quantity: 2,
        }],
        inserts: vec![],
        documents: vec!["receipt".into()],
    }
}

fn pull(s: &mut Store, changes: Vec<Change>) {
    let records: Vec<ChangeRecord> = changes
        .into_iter()
        .enumerate()
        .map(|(i, change)| ChangeRecord {
            cursor: i as u64 + 1,
            change,
        })
        .collect();
    let next = records.len() as u64;
    s.apply_changes(&records, next).unwrap();
}

fn labels(id: Uuid, tracking: &str) -> ShipmentLabels {
    ShipmentLabels {
        order_id: id,
        reference: "K-1".into(),
        carrier: "demo".into(),
        parcels: vec![ParcelLabel {
            number: 1,
            tracking_number: tracking.into(),
            tracking_url: format!("https://track.example/{tracking}"),
            zpl: format!("^XA^FDMatti Meikalainen^FS^FD{tracking}^FS^XZ"),
            png_base64: "iVBORw0KGgo=".into(),
        }],
    }
}

fn raw_label(s: &Store, id: Uuid) -> (Option<String>, Option<Vec<u8>>, String) {
    s.conn()
        .query_row(
            "SELECT zpl, png, state FROM parcel_labels WHERE order_id = ?1",
            [id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
}

#[test]
fn a_pulled_pack_order_is_found_by_tote_and_reference_and_goes_with_its_tombstone() {
    let mut s = Store::open_in_memory().unwrap();
    let id = Uuid::now_v7();
    let boxes = vec![BoxType {
        id: "S".into(),
        name: "Small".into(),
        barcode: Some("BOX-S".into()),
        inner_mm: [200, 100, 100],
        max_weight_g: 5000,
        fill_pct: 80,
        tare_g: 100,
    }];
    pull(
        &mut s,
        vec![
            Change::Location(Location {
                code: "PACK-1".into(),
                kind: LocationKind::Packing,
                zone: "PACK".into(),
                walk_order: 1,
                capacity: None,
                aisle: None,
                bay: None,
                box_types: boxes.clone(),
            }),
            Change::PackOrder(pack_order(id)),
        ],
    );
    assert_eq!(s.box_types("PACK-1").unwrap(), boxes);
    assert_eq!(s.pack_orders_in_tote("T-9").unwrap(), vec![id.to_string()]);
    assert_eq!(
        s.pack_order_by_reference("K-1").unwrap().unwrap(),
        pack_order(id)
    );
    assert_eq!(s.pack_orders_waiting(10).unwrap().len(), 1);
    pull(
        &mut s,
        vec![Change::Removed(Removed {
            kind: EntityKind::PackOrder,
            id: id.to_string(),
        })],
    );
    assert!(s.pack_order(&id.to_string()).unwrap().is_none());
    assert!(s.pack_orders_in_tote("T-9").unwrap().is_empty());
}

#[test]
fn a_step_writes_its_journal_and_events_together_and_the_finish_clears_the_journal() {
    let mut s = Store::open_in_memory().unwrap();
    let id = Uuid::now_v7().to_string();
    let job = OpenJob {
        flow: "packing".into(),
        operator_id: "OP".into(),
        key: serde_json::json!({"order_id": id}),
    };
    s.begin_packing(&id, &job).unwrap();
    s.record_packing(
        "OP",
        (&id, "K-1"),
        &[serde_json::json!({"a": 1})],
        &[],
        None,
    )
    .unwrap();
    s.record_packing(
        "OP",
        (&id, "K-1"),
        &[serde_json::json!({"b": 2})],
        &[],
        None,
    )
    .unwrap();
    assert_eq!(
        s.pack_journal(&id).unwrap(),
        vec![serde_json::json!({"a": 1}), serde_json::json!({"b": 2})]
    );
    assert_eq!(s.counts().unwrap().last_seq, 0);
    // A failing write (a full disk) keeps neither journal nor event.
    s.set_max_page_count(1).unwrap();
    let body = EventBody::PackingFinished {
        order_id: Uuid::parse_str(&id).unwrap(),
        location: "PACK-1".into(),
        parcels: 1,
        moves: vec![],
    };
    let big = serde_json::json!({"pad": "x".repeat(200_000)});
    assert!(
        s.record_packing(
            "OP",
            (&id, "K-1"),
            &[big],
            std::slice::from_ref(&body),
            Some(1)
        )
        .is_err()
    );
    s.set_max_page_count(1_000_000).unwrap();
    assert_eq!(s.pack_journal(&id).unwrap().len(), 2);
    assert_eq!(s.counts().unwrap().last_seq, 0);
    s.record_packing("OP", (&id, "K-1"), &[], &[body], Some(1))
        .unwrap();
    assert!(s.pack_journal(&id).unwrap().is_empty());
    assert_eq!(s.counts().unwrap().last_seq, 1);
    assert!(s.open_job().unwrap().is_none());
    assert!(s.packed_here(&id).unwrap());
    let rows = s.station_parcels(10).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state, LabelState::Awaiting);
}

#[test]
fn a_label_is_kept_until_printed_and_a_reprint_asks_the_server_again() {
    let mut s = Store::open_in_memory().unwrap();
    let id = Uuid::now_v7();
    let order = id.to_string();
    s.record_packing("OP", (&order, "K-1"), &[], &[], Some(1))
        .unwrap();
    assert_eq!(s.shipments_to_ask(10).unwrap(), vec![id]);

    s.record_labels(&labels(id, "JJ1FI")).unwrap();
    assert!(s.shipments_to_ask(10).unwrap().is_empty());
    let to_print = s.labels_to_print(10).unwrap();
    assert_eq!(to_print.len(), 1);
    assert!(to_print[0].zpl.contains("JJ1FI"));
    assert!(s.label_png(&order, 1).unwrap().is_some());

    // A failed print keeps the label for a reprint, which prints what the device holds.
    s.label_print_failed(&order, 1, "not_answering", "127.0.0.1:9100")
        .unwrap();
    assert!(s.labels_to_print(10).unwrap().is_empty());
    assert!(matches!(
        &s.station_parcels(10).unwrap()[0].state,
        LabelState::Failed { code, .. } if code == "not_answering"
    ));
    s.reprint_label(&order, 1).unwrap();
    assert_eq!(s.labels_to_print(10).unwrap().len(), 1);
    assert!(s.shipments_to_ask(10).unwrap().is_empty());

    // Printed: the name and address are gone, the tracking number stays.
    s.label_printed(&order, 1, "127.0.0.1:9100").unwrap();
    let (zpl, png, state) = raw_label(&s, id);
    assert_eq!((zpl, png, state.as_str()), (None, None, "printed"));
    let row = &s.station_parcels(10).unwrap()[0];
    assert_eq!(row.tracking_number.as_deref(), Some("JJ1FI"));
    assert_eq!(row.state, LabelState::Printed);

    // The same labels again (a lost answer asked again) change nothing printed.
    s.record_labels(&labels(id, "JJ1FI")).unwrap();
    assert_eq!(raw_label(&s, id).2, "printed");
    // A reprint of a printed label asks the server again, and what it sends prints again.
    s.reprint_label(&order, 1).unwrap();
    assert_eq!(s.shipments_to_ask(10).unwrap(), vec![id]);
    s.record_labels(&labels(id, "JJ1FI")).unwrap();
    let (zpl, _, state) = raw_label(&s, id);
    assert!(zpl.is_some());
    assert_eq!(state, "new");
    s.label_handled(&order, 1).unwrap();
    assert_eq!(raw_label(&s, id), (None, None, "handled".to_string()));
}

#[test]
fn a_refusal_is_kept_with_the_servers_reason() {
    let mut s = Store::open_in_memory().unwrap();
    let id = Uuid::now_v7();
    s.record_packing("OP", (&id.to_string(), "K-1"), &[], &[], Some(2))
        .unwrap();
    s.record_label_refusal(id, "carrier_refused", "postcode unknown")
        .unwrap();
    let rows = s.station_parcels(10).unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.state
        == LabelState::Refused {
            code: "carrier_refused".into(),
            reason: "postcode unknown".into()
        }));
    assert!(s.shipments_to_ask(10).unwrap().is_empty());
}

#[test]
fn base64_reads_padded_and_unpadded_and_refuses_what_is_not() {
    assert_eq!(decode_base64("aGk=").unwrap(), b"hi");
    assert_eq!(decode_base64("aGk").unwrap(), b"hi");
    assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
    assert!(decode_base64("a?b").is_none());
}

//! The demo carrier: S10 check digits against published examples, numbers derived from the
//! key (the same booking twice), tracking URLs, and failing on purpose.

use std::collections::HashSet;
use std::sync::Arc;

use super::*;
use crate::tests::request;

#[test]
fn s10_check_digits_match_the_published_examples_and_both_special_cases() {
    let cases = [
        // The S10 standard's worked example (as Wikipedia gives it): S = 200, 11 - 2 = 9.
        ("47312482", Some(9)),
        // RR123456785.., the number carriers use as their example: S = 204, 11 - 6 = 5.
        ("12345678", Some(5)),
        // S = 0: 11 - 0 = 11, written as 5.
        ("00000000", Some(5)),
        // S = 12: 11 - 1 = 10, written as 0.
        ("02000000", Some(0)),
        // S = 7 (the last weight): 11 - 7 = 4.
        ("00000001", Some(4)),
        // S = 9 * 8 + 9 * 6 + ... = 9 * 44 = 396 = 36 * 11: 11 - 0 = 11, written as 5.
        ("99999999", Some(5)),
        ("1234567", None),
        ("123456789", None),
        ("1234567a", None),
        ("", None),
        ("１２３４５６７８", None),
        ("-1234567", None),
    ];
    for (serial, want) in cases {
        assert_eq!(s10_check_digit(serial), want, "{serial:?}");
    }
}

#[test]
fn s10_identifiers_are_checked_whole() {
    let cases = [
        ("RB473124829GB", true),
        ("RR123456785FI", true),
        ("JJ123456785FI", true),
        ("CA000000005SE", true),
        ("JJ123456784FI", false),
        ("JJ12345678 5FI", false),
        ("jj123456785FI", false),
        ("JJ123456785fi", false),
        ("JJ123456785F1", false),
        ("J1123456785FI", false),
        ("JJ1234567855FI", false),
        ("JJ12345678XFI", false),
        ("JJ1234567é5FI", false),
        ("JJ12345é785FI", false),
        ("", false),
    ];
    for (code, want) in cases {
        assert_eq!(is_valid_s10(code), want, "{code:?}");
    }
}

#[test]
fn tracking_numbers_are_valid_s10_and_derived_from_key_and_parcel() {
    let carrier = DemoCarrier::new();
    let mut seen = HashSet::new();
    for i in 0..1_000 {
        let key = format!("order-{i}");
        for parcel in 1..=3 {
            let number = carrier.tracking_number(&key, parcel);
            assert!(is_valid_s10(&number), "{number}");
            assert!(
                number.starts_with("JJ") && number.ends_with("FI"),
                "{number}"
            );
            assert_eq!(
                number,
                DemoCarrier::failing(1).tracking_number(&key, parcel)
            );
            assert!(seen.insert(number.clone()), "{number} given twice");
        }
    }
    assert_ne!(
        carrier.tracking_number("a", 12),
        carrier.tracking_number("a1", 2),
        "key and parcel are kept apart"
    );
    assert_ne!(carrier.shipment_id("a"), carrier.shipment_id("b"));
    assert!(carrier.shipment_id("a").starts_with("DEMO-"));
}

#[test]
fn tracking_urls_come_from_the_base() {
    let n = "JJ123456785FI";
    assert_eq!(
        DemoCarrier::new().tracking_url(n),
        "https://tracking.example.invalid/JJ123456785FI"
    );
    let c = DemoCarrier::new()
        .with_tracking_base("https://t.example.invalid/?id={tracking_number}&l=fi");
    assert_eq!(
        c.tracking_url(n),
        "https://t.example.invalid/?id=JJ123456785FI&l=fi"
    );
    let c = DemoCarrier::new().with_tracking_base("https://t.example.invalid/track/");
    assert_eq!(
        c.tracking_url(n),
        "https://t.example.invalid/track/JJ123456785FI"
    );
}

#[tokio::test]
async fn booking_the_same_key_twice_gives_the_same_shipment() {
    let carrier = DemoCarrier::new();
    let request = request();
    let first = carrier.book(&request).await.unwrap();
    assert_eq!(first.carrier, "demo");
    assert_eq!(first.parcels.len(), 2);
    for (booked, spec) in first.parcels.iter().zip(&request.parcels) {
        assert_eq!(booked.number, spec.number);
        assert!(is_valid_s10(&booked.tracking_number));
        assert_eq!(
            booked.tracking_number,
            carrier.tracking_number(&request.idempotency_key, spec.number)
        );
        assert_eq!(
            booked.tracking_url,
            format!(
                "https://tracking.example.invalid/{}",
                booked.tracking_number
            )
        );
        assert!(booked.label.zpl.contains(&booked.tracking_number));
        assert!(booked.label.png.starts_with(b"\x89PNG\r\n\x1a\n"));
    }
    assert_ne!(
        first.parcels[0].tracking_number,
        first.parcels[1].tracking_number
    );
    // Another carrier value, the same key: the same shipment, labels and all.
    let again = DemoCarrier::new().book(&request).await.unwrap();
    assert_eq!(again, first);
    // Another order: other numbers.
    let mut other = request.clone();
    other.idempotency_key = "another order".into();
    let other = carrier.book(&other).await.unwrap();
    assert_ne!(other.shipment_id, first.shipment_id);
    assert_ne!(
        other.parcels[0].tracking_number,
        first.parcels[0].tracking_number
    );
}

#[tokio::test]
async fn the_demo_orders_shipping_method_books_as_demo_parcel() {
    let mut request = request();
    request.service = "posti-parcel".into();
    let booking = DemoCarrier::new().book(&request).await.unwrap();
    assert!(booking.parcels[0].label.zpl.contains("Demo Parcel"));
}

#[tokio::test]
async fn a_request_it_would_refuse_is_rejected_without_booking() {
    let mut request = request();
    request.parcels[1].weight_g = 0;
    let err = DemoCarrier::new().book(&request).await.unwrap_err();
    assert!(err.is_permanent());
    assert_eq!(err.reason(), "parcel 2 weighs 0 g: weigh it");
}

#[tokio::test]
async fn a_failing_carrier_is_unavailable_n_times_then_books() {
    let carrier = DemoCarrier::failing(2);
    let request = request();
    for left in [1, 0] {
        let err = carrier.book(&request).await.unwrap_err();
        assert!(matches!(err, CarrierError::Unavailable { .. }), "{err}");
        assert!(!err.is_permanent());
        assert_eq!(carrier.failures_left(), left);
    }
    let booking = carrier.book(&request).await.unwrap();
    assert_eq!(booking, DemoCarrier::new().book(&request).await.unwrap());
    assert_eq!(carrier.failures_left(), 0);
    // An unavailable carrier does not look at the request: it is not there to look.
    let mut bad = request.clone();
    bad.service = "teleport".into();
    let carrier = DemoCarrier::failing(1);
    assert!(!carrier.book(&bad).await.unwrap_err().is_permanent());
    assert!(carrier.book(&bad).await.unwrap_err().is_permanent());
}

#[tokio::test]
async fn it_is_held_as_a_shared_carrier() {
    let carrier: Arc<dyn Carrier> = Arc::new(DemoCarrier::new());
    assert_eq!(carrier.id(), "demo");
    let codes: Vec<&str> = carrier.services().iter().map(|s| s.code.as_str()).collect();
    assert_eq!(codes, ["demo-parcel", "demo-pickup"]);
    let mut request = request();
    request.service = "demo-pickup".into();
    request.pickup_point = Some("PP-70100-3".into());
    assert_eq!(carrier.check(&request).unwrap().code, "demo-pickup");
    let booking = carrier.book(&request).await.unwrap();
    assert!(
        booking.parcels[0]
            .label
            .zpl
            .contains("Pickup point: PP-70100-3")
    );
}

//! The checks before a booking: a case table of what a carrier refuses, each error saying what
//! to fix and none naming the customer.

use super::*;

/// The personal values of the test request: none may appear in any error.
const PERSONAL: [&str; 7] = [
    "Maija Meikäläinen",
    "Salaisuus Oy",
    "Piilokuja 7",
    "B 12",
    "Kuopio",
    "+358 40 1234567",
    "maija@example.invalid",
];

pub(crate) fn recipient() -> Address {
    Address {
        name: "Maija Meikäläinen".into(),
        company: Some("Salaisuus Oy".into()),
        address: "Piilokuja 7".into(),
        address2: Some("B 12".into()),
        postcode: "70100".into(),
        city: "Kuopio".into(),
        country: "FI".into(),
        phone: Some("+358 40 1234567".into()),
        email: Some("maija@example.invalid".into()),
    }
}

pub(crate) fn sender() -> Address {
    Address {
        name: "Laituri Demo 3PL".into(),
        company: None,
        address: "Varastotie 1".into(),
        address2: None,
        postcode: "01510".into(),
        city: "Vantaa".into(),
        country: "FI".into(),
        phone: None,
        email: None,
    }
}

pub(crate) fn request() -> ShipmentRequest {
    ShipmentRequest {
        idempotency_key: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
        reference: "WEB-1001".into(),
        service: "demo-parcel".into(),
        pickup_point: None,
        sender: sender(),
        recipient: recipient(),
        parcels: vec![
            ParcelSpec {
                number: 1,
                weight_g: 2_350,
                dims_mm: Some([400, 300, 200]),
            },
            ParcelSpec {
                number: 2,
                weight_g: 800,
                dims_mm: None,
            },
        ],
        cash_on_delivery: None,
    }
}

fn services() -> Vec<Service> {
    DemoCarrier::new().services().to_vec()
}

#[test]
fn a_complete_request_passes_and_names_its_service() {
    let services = services();
    let service = check_request(&services, &request()).unwrap();
    assert_eq!(service.code, "demo-parcel");
    // The demo orders' shipping method, in any case and with spaces around it.
    for code in ["posti-parcel", " POSTI-PARCEL ", "Demo-Parcel"] {
        let mut r = request();
        r.service = code.into();
        assert_eq!(check_request(&services, &r).unwrap().code, "demo-parcel");
    }
    let mut r = request();
    r.service = "demo-pickup".into();
    r.pickup_point = Some("PP-00100-12".into());
    r.parcels.truncate(1);
    assert_eq!(check_request(&services, &r).unwrap().code, "demo-pickup");
    // Limits are inclusive.
    let mut r = request();
    r.parcels[0].weight_g = 30_000;
    r.recipient.name = "N".repeat(MAX_LINE);
    r.recipient.city = "C".repeat(MAX_CITY);
    assert!(check_request(&services, &r).is_ok());
    // Optional fields may be absent, and Swedish postcodes come in two forms.
    let mut r = request();
    r.recipient = Address {
        company: None,
        address2: None,
        phone: None,
        email: None,
        postcode: "114 55".into(),
        country: "SE".into(),
        ..recipient()
    };
    assert!(check_request(&services, &r).is_ok());
    r.recipient.postcode = "11455".into();
    assert!(check_request(&services, &r).is_ok());
    // A country this crate knows no postcode form of.
    r.recipient.country = "GB".into();
    r.recipient.postcode = "SW1A 1AA".into();
    assert!(check_request(&services, &r).is_ok());
}

type Change = fn(&mut ShipmentRequest);

#[test]
fn what_a_carrier_would_refuse_is_rejected_with_what_to_fix() {
    let cases: &[(&str, Change, &str)] = &[
        (
            "unknown service",
            |r| r.service = "teleport".into(),
            "\"teleport\" is not a service of this carrier: use one of demo-parcel, demo-pickup",
        ),
        (
            "no key",
            |r| r.idempotency_key = " ".into(),
            "the idempotency key (the order's id) is missing",
        ),
        (
            "no reference",
            |r| r.reference = String::new(),
            "the reference (the shop's order number) is missing",
        ),
        (
            "reference too long",
            |r| r.reference = "R".repeat(101),
            "is 101 characters long: the carrier takes at most 100",
        ),
        (
            "no postcode",
            |r| r.recipient.postcode = String::new(),
            "the recipient's postcode is missing",
        ),
        (
            "blank city",
            |r| r.recipient.city = "  ".into(),
            "the recipient's city is missing",
        ),
        (
            "no country",
            |r| r.recipient.country = String::new(),
            "the recipient's country is missing",
        ),
        (
            "no name",
            |r| r.recipient.name = String::new(),
            "the recipient's name is missing",
        ),
        (
            "no address",
            |r| r.recipient.address = String::new(),
            "the recipient's address is missing",
        ),
        (
            "country in small letters",
            |r| r.recipient.country = "fi".into(),
            "the recipient's country is not an ISO 3166-1 alpha-2 code",
        ),
        (
            "country of three letters",
            |r| r.recipient.country = "FIN".into(),
            "alpha-2 code: send two capital letters such as FI",
        ),
        (
            "short Finnish postcode",
            |r| r.recipient.postcode = "7010".into(),
            "the recipient's postcode is not a postcode of FI: it has 5 digits",
        ),
        (
            "letters in a Finnish postcode",
            |r| r.recipient.postcode = "7010A".into(),
            "not a postcode of FI",
        ),
        (
            "short Swedish postcode",
            |r| {
                r.recipient.country = "SE".into();
                r.recipient.postcode = "1145".into()
            },
            "not a postcode of SE: it has 5 digits, as 12345 or 123 45",
        ),
        (
            "misplaced space",
            |r| {
                r.recipient.country = "SE".into();
                r.recipient.postcode = "11 455".into()
            },
            "not a postcode of SE",
        ),
        (
            "Norwegian postcode",
            |r| {
                r.recipient.country = "NO".into();
                r.recipient.postcode = "01501".into()
            },
            "not a postcode of NO: it has 4 digits",
        ),
        (
            "odd characters",
            |r| {
                r.recipient.country = "GB".into();
                r.recipient.postcode = "SW1A/1AA".into()
            },
            "only letters, digits, spaces and hyphens",
        ),
        (
            "postcode too long",
            |r| {
                r.recipient.country = "GB".into();
                r.recipient.postcode = "12345678901".into()
            },
            "the recipient's postcode is 11 characters long: the carrier takes at most 10",
        ),
        (
            "line break in a name",
            |r| r.recipient.name = "Maija\nMeikäläinen".into(),
            "the recipient's name contains a line break or another control character: remove it",
        ),
        (
            "tab in an address",
            |r| r.recipient.address2 = Some("B\t12".into()),
            "the recipient's second address line contains a line break",
        ),
        (
            "name too long",
            |r| r.recipient.name = "N".repeat(41),
            "the recipient's name is 41 characters long: the carrier takes at most 40",
        ),
        (
            "city too long",
            |r| r.recipient.city = "C".repeat(36),
            "the recipient's city is 36 characters long: the carrier takes at most 35",
        ),
        (
            "company too long",
            |r| r.recipient.company = Some("C".repeat(41)),
            "the recipient's company is 41 characters long",
        ),
        (
            "not an e-mail",
            |r| r.recipient.email = Some("maija.example.invalid".into()),
            "the recipient's e-mail address is not an e-mail address",
        ),
        (
            "no sender postcode",
            |r| r.sender.postcode = String::new(),
            "the sender's postcode (the warehouse's address) is missing",
        ),
        (
            "no sender country",
            |r| r.sender.country = "X".into(),
            "the sender's country (the warehouse's address) is not an ISO",
        ),
        (
            "no parcels",
            |r| r.parcels.clear(),
            "a shipment has 1 to 99 parcels; this one has 0",
        ),
        (
            "too many parcels",
            |r| {
                r.parcels = (1..=100)
                    .map(|n| ParcelSpec {
                        number: n,
                        weight_g: 100,
                        dims_mm: None,
                    })
                    .collect()
            },
            "a shipment has 1 to 99 parcels; this one has 100",
        ),
        (
            "numbered from 0",
            |r| r.parcels[0].number = 0,
            "parcel 1 of 2 is numbered 0: number the parcels 1 to 2 in order",
        ),
        (
            "numbered twice",
            |r| r.parcels[1].number = 1,
            "parcel 2 of 2 is numbered 1",
        ),
        (
            "weightless",
            |r| r.parcels[1].weight_g = 0,
            "parcel 2 weighs 0 g: weigh it",
        ),
        (
            "too heavy",
            |r| r.parcels[0].weight_g = 30_001,
            "parcel 1 weighs 30.01 kg, over the 30.00 kg Demo Parcel takes: split it or choose another shipping method",
        ),
        (
            "flat",
            |r| r.parcels[0].dims_mm = Some([400, 0, 200]),
            "parcel 1 has a side of 0 mm",
        ),
        (
            "pickup service without a point",
            |r| r.service = "demo-pickup".into(),
            "Demo Pickup delivers to a pickup point: the order names none",
        ),
        (
            "blank pickup point",
            |r| {
                r.service = "demo-pickup".into();
                r.pickup_point = Some(" ".into())
            },
            "the pickup point code is missing",
        ),
        (
            "door service with a point",
            |r| r.pickup_point = Some("PP-1".into()),
            "Demo Parcel delivers to the door: the order names a pickup point",
        ),
        (
            "pickup abroad",
            |r| {
                r.service = "demo-pickup".into();
                r.pickup_point = Some("PP-1".into());
                r.recipient.country = "SE".into();
                r.recipient.postcode = "11455".into()
            },
            "Demo Pickup does not deliver to the recipient's country: it delivers to FI",
        ),
        (
            "pickup too heavy",
            |r| {
                r.service = "demo-pickup".into();
                r.pickup_point = Some("PP-1".into());
                r.parcels[0].weight_g = 20_001
            },
            "over the 20.00 kg Demo Pickup takes",
        ),
        (
            "cash on a pickup",
            |r| {
                r.service = "demo-pickup".into();
                r.pickup_point = Some("PP-1".into());
                r.cash_on_delivery = Some(CashOnDelivery {
                    amount_minor: 1000,
                    currency: "EUR".into(),
                })
            },
            "Demo Pickup does not collect cash on delivery",
        ),
        (
            "no amount",
            |r| {
                r.cash_on_delivery = Some(CashOnDelivery {
                    amount_minor: 0,
                    currency: "EUR".into(),
                })
            },
            "the cash-on-delivery amount must be above zero",
        ),
        (
            "bad currency",
            |r| {
                r.cash_on_delivery = Some(CashOnDelivery {
                    amount_minor: 1250,
                    currency: "eur".into(),
                })
            },
            "the cash-on-delivery currency is not an ISO 4217 code",
        ),
    ];
    let services = services();
    for (case, change, want) in cases {
        let mut r = request();
        change(&mut r);
        let err = check_request(&services, &r).expect_err(case);
        assert!(err.is_permanent(), "{case}: {err}");
        assert!(
            err.reason().contains(want),
            "{case}: {:?} does not say {want:?}",
            err.reason()
        );
        let shown = err.to_string();
        for personal in PERSONAL {
            assert!(
                !shown.contains(personal),
                "{case}: {shown:?} names {personal:?}"
            );
        }
        // The value that is wrong is not repeated either (a long name is personal data too).
        assert!(
            !shown.contains("NNNN") && !shown.contains("CCCC"),
            "{case}: {shown}"
        );
    }
}

#[test]
fn a_hostile_service_code_is_quoted_short_and_escaped() {
    let mut r = request();
    r.service = format!("x\n{}", "y".repeat(500));
    let reason = check_request(&services(), &r).unwrap_err().to_string();
    assert!(!reason.contains('\n'), "{reason}");
    assert!(reason.len() < 300, "{reason}");
}

#[test]
fn errors_know_whether_trying_again_can_help() {
    let rejected = CarrierError::Rejected {
        reason: "parcel 1 weighs 0 g: weigh it".into(),
    };
    let unavailable = CarrierError::Unavailable {
        reason: "timed out".into(),
    };
    assert!(rejected.is_permanent());
    assert!(!unavailable.is_permanent());
    assert_eq!(
        rejected.to_string(),
        "the carrier refused the shipment: parcel 1 weighs 0 g: weigh it"
    );
    assert_eq!(
        unavailable.to_string(),
        "the carrier is not available: timed out; try again later"
    );
    assert_eq!(unavailable.reason(), "timed out");
}

#[test]
fn a_printed_request_shows_no_address() {
    let shown = format!("{:?}", request());
    for personal in PERSONAL {
        assert!(!shown.contains(personal), "{shown}");
    }
    assert!(shown.contains("WEB-1001"), "{shown}");
}

#[test]
fn weights_are_written_in_kilograms_rounded_up_to_ten_grams() {
    for (g, want) in [
        (0, "0.00 kg"),
        (1, "0.01 kg"),
        (10, "0.01 kg"),
        (11, "0.02 kg"),
        (2_350, "2.35 kg"),
        (30_000, "30.00 kg"),
        (30_001, "30.01 kg"),
        (u32::MAX, "4294967.30 kg"),
    ] {
        assert_eq!(kilograms(g), want, "{g} g");
    }
}

//! The PNG label's barcode scans as its tracking number: the labels of a demo booking, and of
//! the longest tracking number a label takes, are read by a real barcode reader (zbar, as
//! `zbarimg`), as the terminal's barcode sheet is. Without zbar the test fails: it does not
//! pass without having read anything.

use std::process::Command;

use laituri_carrier::label::{LabelContent, MAX_TRACKING};
use laituri_carrier::{Address, Carrier, DemoCarrier, ParcelSpec, ShipmentRequest};

fn address(name: &str, postcode: &str, city: &str) -> Address {
    Address {
        name: name.into(),
        address: "Esimerkkikatu 1".into(),
        postcode: postcode.into(),
        city: city.into(),
        country: "FI".into(),
        ..Address::default()
    }
}

fn request() -> ShipmentRequest {
    ShipmentRequest {
        idempotency_key: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
        reference: "WEB-1001".into(),
        service: "posti-parcel".into(),
        pickup_point: None,
        sender: address("Laituri Demo 3PL", "01510", "Vantaa"),
        recipient: address("Åsa Öberg-Mäkelä", "00100", "Helsinki"),
        parcels: (1..=3)
            .map(|number| ParcelSpec {
                number,
                weight_g: 1_000 * number,
                dims_mm: None,
            })
            .collect(),
        cash_on_delivery: None,
    }
}

/// What zbar reads in a PNG, one line per barcode.
fn zbar(png: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("label.png");
    std::fs::write(&path, png).unwrap();
    let out = Command::new("zbarimg")
        .args(["--nodbus", "-q", "--raw"])
        .arg(&path)
        .output()
        .expect("zbarimg is installed (scripts/setup-debian.sh installs zbar-tools)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn every_parcels_label_scans_as_its_tracking_number() {
    let booking = DemoCarrier::new().book(&request()).await.unwrap();
    assert_eq!(booking.parcels.len(), 3);
    for parcel in &booking.parcels {
        assert_eq!(
            zbar(&parcel.label.png),
            std::slice::from_ref(&parcel.tracking_number),
            "parcel {}",
            parcel.number
        );
    }
}

#[test]
fn the_longest_tracking_number_scans_too() {
    let request = request();
    // At 40 characters the bars are one dot a module: the narrowest the label draws.
    for tracking in [
        "1Z999AA10123456784".to_string(),
        "A-1".into(),
        "9".repeat(MAX_TRACKING),
    ] {
        let label = LabelContent {
            request: &request,
            parcel: &request.parcels[0],
            service_name: "Demo Parcel",
            carrier_name: DemoCarrier::NAME,
            tracking_number: &tracking,
        }
        .png()
        .unwrap();
        assert_eq!(zbar(&label), std::slice::from_ref(&tracking));
    }
}

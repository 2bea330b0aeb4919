//! Writes the demo carrier's label of an invented order, as PNG and as ZPL, to look at or to
//! send to a printer: `cargo run -p laituri-carrier --example sample_label -- label.png`
//! writes `label.png` and `label.zpl`. The customer is invented; no real person's data.

use laituri_carrier::{Address, Carrier, DemoCarrier, ParcelSpec, ShipmentRequest};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let png_path = std::env::args()
        .nth(1)
        .ok_or("usage: sample_label OUT.png (the ZPL goes beside it as OUT.zpl)")?;
    let request = ShipmentRequest {
        idempotency_key: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
        reference: "WEB-1001".into(),
        service: "posti-parcel".into(),
        pickup_point: None,
        sender: Address {
            name: "Laituri Demo 3PL".into(),
            address: "Varastotie 1".into(),
            postcode: "01510".into(),
            city: "Vantaa".into(),
            country: "FI".into(),
            ..Address::default()
        },
        recipient: Address {
            name: "Åsa Öberg-Mäkelä".into(),
            company: Some("Esimerkki Oy".into()),
            address: "Esimerkkikatu 1 A 2".into(),
            postcode: "00100".into(),
            city: "Helsinki".into(),
            country: "FI".into(),
            ..Address::default()
        },
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
    };
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let booking = runtime.block_on(DemoCarrier::new().book(&request))?;
    let parcel = &booking.parcels[0];
    std::fs::write(&png_path, &parcel.label.png)?;
    std::fs::write(
        std::path::Path::new(&png_path).with_extension("zpl"),
        &parcel.label.zpl,
    )?;
    println!("{} {}", parcel.tracking_number, parcel.tracking_url);
    Ok(())
}

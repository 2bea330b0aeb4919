//! The built-in demo carrier: books without a network, for the demo warehouse and the tests.
//!
//! What it owns: two services (`demo-parcel` to the door, up to 30 kg, cash on delivery, any
//! country; `demo-pickup` to a pickup point in Finland, up to 20 kg), which also answer to the
//! shipping method the demo's orders use (`posti-parcel`); tracking numbers in the UPU S10
//! format ([`s10_check_digit`], [`is_valid_s10`]); tracking URLs from a configurable base; and a
//! way to make it fail ([`DemoCarrier::failing`]) so the server's retry path can be tested.
//!
//! Tracking numbers are `JJ`, eight digits, the S10 check digit and `FI`, e.g. `JJ123456785FI`.
//! The eight digits are the first eight bytes of SHA-256 over the idempotency key and the
//! parcel's number, modulo 10^8: the same key books the same numbers again, with no state, as
//! the seam's idempotency asks. The service indicators `JA`..`JZ` are reserved by the S10
//! standard and never assigned, so a demo number is never a real parcel's. Two different
//! orders' parcels share a number with a chance of about one in 10^8 per pair: fine for a demo,
//! and the reason a real carrier hands its numbers out instead.
//!
//! What it never does: log, keep what it was sent, or put the recipient in an error.

use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use crate::label::LabelContent;
use crate::{BookedParcel, Booking, Carrier, CarrierError, Service, ShipmentRequest};

/// The tracking URL of a parcel when no other base is set; `{tracking_number}` is replaced.
pub const DEFAULT_TRACKING_BASE: &str = "https://tracking.example.invalid/{tracking_number}";
/// The placeholder of a tracking URL base.
pub const TRACKING_PLACEHOLDER: &str = "{tracking_number}";

/// The S10 weights of the eight serial digits, left to right.
const S10_WEIGHTS: [u32; 8] = [8, 6, 4, 2, 3, 5, 9, 7];
/// The demo's service indicator (reserved in S10, so never a real item's) and country.
const SERVICE_INDICATOR: &str = "JJ";
const COUNTRY: &str = "FI";

/// The demo carrier. [`DemoCarrier::new`] books every valid request;
/// [`DemoCarrier::failing`] first answers `Unavailable` a given number of times.
#[derive(Debug)]
pub struct DemoCarrier {
    services: Vec<Service>,
    tracking_base: String,
    failures_left: AtomicU32,
}

impl Default for DemoCarrier {
    fn default() -> Self {
        Self::new()
    }
}

impl DemoCarrier {
    /// The carrier's id, stored with its bookings.
    pub const ID: &'static str = "demo";
    /// The name its labels print.
    pub const NAME: &'static str = "Laituri demo carrier";

    /// A demo carrier that books every valid request.
    pub fn new() -> Self {
        DemoCarrier {
            services: vec![
                Service {
                    code: "demo-parcel".into(),
                    aliases: vec!["posti-parcel".into()],
                    name: "Demo Parcel".into(),
                    max_weight_g: 30_000,
                    needs_pickup_point: false,
                    cash_on_delivery: true,
                    countries: Vec::new(),
                },
                Service {
                    code: "demo-pickup".into(),
                    aliases: Vec::new(),
                    name: "Demo Pickup".into(),
                    max_weight_g: 20_000,
                    needs_pickup_point: true,
                    cash_on_delivery: false,
                    countries: vec!["FI".into()],
                },
            ],
            tracking_base: DEFAULT_TRACKING_BASE.into(),
            failures_left: AtomicU32::new(0),
        }
    }

    /// A demo carrier that answers [`CarrierError::Unavailable`] to the first `n` bookings
    /// (before looking at them), then books as [`DemoCarrier::new`] does.
    pub fn failing(n: u32) -> Self {
        let carrier = Self::new();
        carrier.failures_left.store(n, Ordering::SeqCst);
        carrier
    }

    /// The same carrier with tracking URLs made from `base`: `{tracking_number}` in it is
    /// replaced by the number, or the number is appended when it has no placeholder.
    pub fn with_tracking_base(mut self, base: impl Into<String>) -> Self {
        self.tracking_base = base.into();
        self
    }

    /// How many bookings it will still refuse as unavailable.
    pub fn failures_left(&self) -> u32 {
        self.failures_left.load(Ordering::SeqCst)
    }

    /// The tracking number of parcel `parcel` of the shipment booked under `idempotency_key`.
    pub fn tracking_number(&self, idempotency_key: &str, parcel: u32) -> String {
        let digest = Sha256::new()
            .chain_update(b"laituri-demo-carrier/parcel\0")
            .chain_update(idempotency_key.as_bytes())
            .chain_update([0])
            .chain_update(parcel.to_be_bytes())
            .finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        let serial = u64::from_be_bytes(first) % 100_000_000;
        let serial = format!("{serial:08}");
        let check = s10_check_digit(&serial).unwrap_or(0);
        format!("{SERVICE_INDICATOR}{serial}{check}{COUNTRY}")
    }

    /// The tracking URL of a tracking number.
    pub fn tracking_url(&self, tracking_number: &str) -> String {
        if self.tracking_base.contains(TRACKING_PLACEHOLDER) {
            self.tracking_base
                .replace(TRACKING_PLACEHOLDER, tracking_number)
        } else {
            format!("{}{tracking_number}", self.tracking_base)
        }
    }

    /// The shipment id of the shipment booked under `idempotency_key`.
    pub fn shipment_id(&self, idempotency_key: &str) -> String {
        let digest = Sha256::new()
            .chain_update(b"laituri-demo-carrier/shipment\0")
            .chain_update(idempotency_key.as_bytes())
            .finalize();
        let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        format!("DEMO-{hex}")
    }
}

#[async_trait]
impl Carrier for DemoCarrier {
    fn id(&self) -> &str {
        Self::ID
    }

    fn services(&self) -> &[Service] {
        &self.services
    }

    async fn book(&self, request: &ShipmentRequest) -> Result<Booking, CarrierError> {
        if self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(CarrierError::Unavailable {
                reason: "the demo carrier was set to fail this booking".into(),
            });
        }
        let service = self.check(request)?;
        let mut parcels = Vec::with_capacity(request.parcels.len());
        for parcel in &request.parcels {
            let tracking_number = self.tracking_number(&request.idempotency_key, parcel.number);
            let label = LabelContent {
                request,
                parcel,
                service_name: &service.name,
                carrier_name: Self::NAME,
                tracking_number: &tracking_number,
            }
            .render()
            // The demo's numbers always make a label; should one ever not, trying again
            // would not help.
            .map_err(|e| CarrierError::Rejected {
                reason: e.to_string(),
            })?;
            parcels.push(BookedParcel {
                number: parcel.number,
                tracking_url: self.tracking_url(&tracking_number),
                tracking_number,
                label,
            });
        }
        Ok(Booking {
            carrier: Self::ID.into(),
            shipment_id: self.shipment_id(&request.idempotency_key),
            parcels,
        })
    }
}

/// The UPU S10 check digit of an eight-digit serial number: the digits weighted 8 6 4 2 3 5 9 7
/// and summed, `11 - sum mod 11`, with 10 written as 0 and 11 as 5. `None` unless `serial` is
/// exactly eight ASCII digits.
pub fn s10_check_digit(serial: &str) -> Option<u8> {
    if serial.len() != 8 || !serial.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = serial
        .bytes()
        .zip(S10_WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    Some(match 11 - sum % 11 {
        10 => 0,
        11 => 5,
        c => c as u8,
    })
}

/// Whether `code` is a UPU S10 identifier: two capital letters, eight digits, the right check
/// digit and two capital letters (the issuing country), 13 characters with no spaces.
pub fn is_valid_s10(code: &str) -> bool {
    let b = code.as_bytes();
    if b.len() != 13 {
        return false;
    }
    let letters = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_uppercase);
    if !letters(0..2) || !letters(11..13) || !b[10].is_ascii_digit() {
        return false;
    }
    code.get(2..10).and_then(s10_check_digit) == Some(b[10] - b'0')
}

#[cfg(test)]
mod tests;

//! The carrier seam: book a shipment of an order's parcels with a carrier and get back a
//! tracking number, a tracking URL and a printable label for each parcel.
//!
//! What this crate owns:
//! - [`Carrier`], the trait every carrier plugs in behind (the server holds an
//!   `Arc<dyn Carrier>` per carrier), and the types that cross it: [`ShipmentRequest`] in,
//!   [`Booking`] out, [`CarrierError`] when it fails.
//! - The checks a server runs before it books ([`check_request`] and the checks it is made of):
//!   a request the carrier would refuse is refused here, with what to fix, before a network call.
//! - [`demo::DemoCarrier`], the built-in carrier of the demo and the tests, and
//!   [`label`], the 4x6 in shipping label of one parcel as ZPL II and as PNG.
//!
//! What it never does: put personal data in an error or a log line. A shipment carries the
//! recipient's name, address, phone and e-mail (personal data under the GDPR); a
//! [`CarrierError`] names the field that is wrong ("the recipient's postcode ..."), never its
//! value, so an error can be logged, stored in an exception and shown to a shift lead. The
//! `Debug` of [`Address`] hides its fields for the same reason: a request printed by mistake
//! does not leak the customer. This crate logs nothing and keeps no state but the demo
//! carrier's failure counter.
//!
//! Idempotency: a request's `idempotency_key` is the order's id. Booking the same key twice must
//! give the same shipment (the server retries a booking whose answer it did not get); every
//! carrier behind the trait keeps that promise, the demo one by deriving its numbers from the
//! key.
//!
//! Crates, and why each:
//! - `async-trait`: carriers are HTTP APIs, so `book` is async, and the trait must stay
//!   object-safe to be held as `Arc<dyn Carrier>`, as the server's storage traits are.
//! - `thiserror`: the error type, as in every library of the workspace.
//! - `sha2`: the demo carrier derives tracking numbers from the idempotency key without state.
//! - `barcoders`: the Code 128 module pattern of the tracking number (the terminal's labels use
//!   it too), so the PNG's bars are the encoder's, not hand-written tables.
//! - `png`: writes the 1-bit PNG label; an image library would bring decoders and formats the
//!   label never needs.
//! - `font8x8`: a public-domain 8x8 bitmap font with Latin-1 (ä ö å), scaled for the PNG's text;
//!   a vector font renderer would be megabytes for a label.

use async_trait::async_trait;

pub mod demo;
pub mod label;

pub use demo::DemoCarrier;

/// The longest name, company or address line a label prints (carriers' APIs take 35 to 40).
pub const MAX_LINE: usize = 40;
/// The longest city.
pub const MAX_CITY: usize = 35;
/// The longest postcode.
pub const MAX_POSTCODE: usize = 10;
/// The longest phone number.
pub const MAX_PHONE: usize = 30;
/// The longest e-mail address (RFC 5321's path limit).
pub const MAX_EMAIL: usize = 254;
/// The longest idempotency key, reference, service code or pickup point code.
pub const MAX_KEY: usize = 100;
/// The most parcels one shipment may have.
pub const MAX_PARCELS: usize = 99;

/// A postal address: the warehouse's (sender) or the customer's (recipient).
///
/// Its `Debug` shows no field: an address is personal data and must not reach a log by a
/// stray `{:?}`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Address {
    pub name: String,
    pub company: Option<String>,
    pub address: String,
    pub address2: Option<String>,
    pub postcode: String,
    pub city: String,
    /// ISO 3166-1 alpha-2, in capitals, e.g. `FI`.
    pub country: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl std::fmt::Debug for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Address { .. }")
    }
}

/// One parcel of a shipment, as the packer weighed and measured it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParcelSpec {
    /// 1-based: the parcels of a shipment are numbered 1, 2, ..., n in order.
    pub number: u32,
    pub weight_g: u32,
    /// Length, width and height in millimetres, when measured.
    pub dims_mm: Option<[u32; 3]>,
}

/// An amount the carrier collects from the recipient on delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CashOnDelivery {
    /// In minor units of `currency` (cents).
    pub amount_minor: i64,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
}

/// What the server asks a carrier to book: one order's parcels to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentRequest {
    /// The order's id. Booking the same key twice gives the same shipment.
    pub idempotency_key: String,
    /// The merchant's order number, printed on the label.
    pub reference: String,
    /// The shipping method code the merchant's shop sent, e.g. `posti-parcel`.
    pub service: String,
    /// The pickup point the customer chose, for services that deliver to one.
    pub pickup_point: Option<String>,
    /// The warehouse.
    pub sender: Address,
    pub recipient: Address,
    pub parcels: Vec<ParcelSpec>,
    pub cash_on_delivery: Option<CashOnDelivery>,
}

/// A booked shipment: what the server stores and reports to the merchant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    /// The carrier's [`Carrier::id`].
    pub carrier: String,
    /// The carrier's id of the shipment.
    pub shipment_id: String,
    /// One per parcel of the request, in the request's order.
    pub parcels: Vec<BookedParcel>,
}

/// One booked parcel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookedParcel {
    /// The request's [`ParcelSpec::number`].
    pub number: u32,
    pub tracking_number: String,
    pub tracking_url: String,
    pub label: Label,
}

/// A parcel's shipping label, 4x6 in at 203 dpi: ZPL II for a label printer, PNG for a screen.
#[derive(Clone, PartialEq, Eq)]
pub struct Label {
    pub zpl: String,
    pub png: Vec<u8>,
}

impl std::fmt::Debug for Label {
    // A label prints the recipient's address: its Debug shows sizes only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Label")
            .field("zpl_bytes", &self.zpl.len())
            .field("png_bytes", &self.png.len())
            .finish()
    }
}

/// A service a carrier offers (a shipping method).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// The code a request names, e.g. `demo-parcel`.
    pub code: String,
    /// Other codes that mean this service: the names merchants' shops send for it.
    pub aliases: Vec<String>,
    /// What the label prints, e.g. `Demo Parcel`.
    pub name: String,
    /// The heaviest parcel it takes.
    pub max_weight_g: u32,
    /// It delivers to a pickup point, which the request must name.
    pub needs_pickup_point: bool,
    /// It collects cash on delivery.
    pub cash_on_delivery: bool,
    /// The recipient countries it delivers to (ISO alpha-2); empty: any.
    pub countries: Vec<String>,
}

impl Service {
    /// Whether a request's service code means this service (its code or an alias, ignoring
    /// case and surrounding spaces).
    pub fn answers_to(&self, code: &str) -> bool {
        let code = code.trim();
        self.code.eq_ignore_ascii_case(code)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(code))
    }
}

/// The service among `services` that a request's code names.
pub fn find_service<'a>(services: &'a [Service], code: &str) -> Option<&'a Service> {
    services.iter().find(|s| s.answers_to(code))
}

/// Why a carrier did not book. The reason says what to fix or what happened, and never contains
/// the recipient's name, address, phone or e-mail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CarrierError {
    /// Permanent: the same request will be refused again (unknown service, a bad postcode or
    /// country, a parcel too heavy). Someone must change the order or the parcels.
    #[error("the carrier refused the shipment: {reason}")]
    Rejected { reason: String },
    /// Transient: the carrier could not answer now (down, timed out, busy). Try again later.
    #[error("the carrier is not available: {reason}; try again later")]
    Unavailable { reason: String },
}

impl CarrierError {
    /// Whether trying the same request again cannot help.
    pub fn is_permanent(&self) -> bool {
        matches!(self, CarrierError::Rejected { .. })
    }

    /// The reason, without the kind.
    pub fn reason(&self) -> &str {
        match self {
            CarrierError::Rejected { reason } | CarrierError::Unavailable { reason } => reason,
        }
    }

    fn rejected(reason: impl Into<String>) -> Self {
        CarrierError::Rejected {
            reason: reason.into(),
        }
    }
}

/// A carrier: books shipments and answers with tracking numbers and labels.
///
/// An implementation talks to the carrier's API; it must keep booking idempotent by
/// [`ShipmentRequest::idempotency_key`], answer [`CarrierError::Unavailable`] for anything
/// worth trying again and [`CarrierError::Rejected`] only when the request itself is wrong,
/// and keep personal data out of its errors and logs.
#[async_trait]
pub trait Carrier: Send + Sync {
    /// A short stable id, e.g. `demo`: stored with each booking.
    fn id(&self) -> &str;

    /// The services it offers.
    fn services(&self) -> &[Service];

    /// Books the shipment, or answers the same booking again for a key it booked before.
    async fn book(&self, request: &ShipmentRequest) -> Result<Booking, CarrierError>;

    /// Checks a request against this carrier's services without booking:
    /// [`check_request`] over [`Carrier::services`].
    fn check(&self, request: &ShipmentRequest) -> Result<&Service, CarrierError> {
        check_request(self.services(), request)
    }
}

/// Whose address a check speaks of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Sender,
    Recipient,
}

impl Party {
    fn field(self, name: &str) -> String {
        match self {
            Party::Sender => format!("the sender's {name} (the warehouse's address)"),
            Party::Recipient => format!("the recipient's {name}"),
        }
    }
}

/// Checks a whole request against a carrier's services: the service exists and takes this
/// destination, pickup point and cash on delivery; both addresses are complete; the parcels are
/// numbered 1..n and weigh more than nothing and at most the service's maximum. Answers the
/// service the request names.
pub fn check_request<'a>(
    services: &'a [Service],
    request: &ShipmentRequest,
) -> Result<&'a Service, CarrierError> {
    check_text(
        "the idempotency key (the order's id)",
        &request.idempotency_key,
        MAX_KEY,
        true,
    )?;
    check_text(
        "the reference (the shop's order number)",
        &request.reference,
        MAX_KEY,
        true,
    )?;
    let service = find_service(services, &request.service).ok_or_else(|| {
        let known: Vec<&str> = services.iter().map(|s| s.code.as_str()).collect();
        CarrierError::rejected(format!(
            "the shipping method {} is not a service of this carrier: use one of {}",
            quote(&request.service),
            known.join(", ")
        ))
    })?;
    check_address(Party::Sender, &request.sender)?;
    check_address(Party::Recipient, &request.recipient)?;
    if !service.countries.is_empty() && !service.countries.contains(&request.recipient.country) {
        return Err(CarrierError::rejected(format!(
            "{} does not deliver to the recipient's country: it delivers to {}; choose another \
             shipping method",
            service.name,
            service.countries.join(", ")
        )));
    }
    match (&request.pickup_point, service.needs_pickup_point) {
        (None, true) => {
            return Err(CarrierError::rejected(format!(
                "{} delivers to a pickup point: the order names none; send the pickup point the \
                 customer chose",
                service.name
            )));
        }
        (Some(_), false) => {
            return Err(CarrierError::rejected(format!(
                "{} delivers to the door: the order names a pickup point; choose a pickup \
                 service or send no pickup point",
                service.name
            )));
        }
        (Some(point), true) => check_text("the pickup point code", point, MAX_KEY, true)?,
        (None, false) => {}
    }
    if let Some(cod) = &request.cash_on_delivery {
        if !service.cash_on_delivery {
            return Err(CarrierError::rejected(format!(
                "{} does not collect cash on delivery: choose another shipping method",
                service.name
            )));
        }
        check_cash_on_delivery(cod)?;
    }
    check_parcels(service, &request.parcels)?;
    Ok(service)
}

/// Checks that an address is complete and printable: name, address, postcode, city and country
/// present, no line too long for a label, no control characters, a country of two capital
/// letters and a postcode of that country's form where this crate knows it.
pub fn check_address(party: Party, a: &Address) -> Result<(), CarrierError> {
    check_text(&party.field("name"), &a.name, MAX_LINE, true)?;
    check_opt(&party.field("company"), a.company.as_deref(), MAX_LINE)?;
    check_text(&party.field("address"), &a.address, MAX_LINE, true)?;
    check_opt(
        &party.field("second address line"),
        a.address2.as_deref(),
        MAX_LINE,
    )?;
    check_text(&party.field("postcode"), &a.postcode, MAX_POSTCODE, true)?;
    check_text(&party.field("city"), &a.city, MAX_CITY, true)?;
    check_opt(&party.field("phone number"), a.phone.as_deref(), MAX_PHONE)?;
    check_opt(
        &party.field("e-mail address"),
        a.email.as_deref(),
        MAX_EMAIL,
    )?;
    if a.country.trim().is_empty() {
        return Err(CarrierError::rejected(format!(
            "{} is missing",
            party.field("country")
        )));
    }
    if a.country.len() != 2 || !a.country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(CarrierError::rejected(format!(
            "{} is not an ISO 3166-1 alpha-2 code: send two capital letters such as FI",
            party.field("country")
        )));
    }
    if let Some(form) = postcode_form(&a.country, a.postcode.trim()) {
        return Err(CarrierError::rejected(format!(
            "{} is not a postcode of {}: it has {form}",
            party.field("postcode"),
            a.country
        )));
    }
    if let Some(email) = &a.email
        && !email.contains('@')
    {
        return Err(CarrierError::rejected(format!(
            "{} is not an e-mail address",
            party.field("e-mail address")
        )));
    }
    Ok(())
}

/// Checks the parcels against the service: 1 to [`MAX_PARCELS`] parcels numbered 1..n in order,
/// each heavier than 0 g and at most the service's maximum, measured sides (when given) above
/// zero.
pub fn check_parcels(service: &Service, parcels: &[ParcelSpec]) -> Result<(), CarrierError> {
    if parcels.is_empty() || parcels.len() > MAX_PARCELS {
        return Err(CarrierError::rejected(format!(
            "a shipment has 1 to {MAX_PARCELS} parcels; this one has {}",
            parcels.len()
        )));
    }
    for (i, p) in parcels.iter().enumerate() {
        let want = i as u32 + 1;
        if p.number != want {
            return Err(CarrierError::rejected(format!(
                "parcel {want} of {} is numbered {}: number the parcels 1 to {} in order",
                parcels.len(),
                p.number,
                parcels.len()
            )));
        }
        if p.weight_g == 0 {
            return Err(CarrierError::rejected(format!(
                "parcel {want} weighs 0 g: weigh it"
            )));
        }
        if p.weight_g > service.max_weight_g {
            return Err(CarrierError::rejected(format!(
                "parcel {want} weighs {}, over the {} {} takes: split it or choose another \
                 shipping method",
                kilograms(p.weight_g),
                kilograms(service.max_weight_g),
                service.name
            )));
        }
        if p.dims_mm.is_some_and(|d| d.contains(&0)) {
            return Err(CarrierError::rejected(format!(
                "parcel {want} has a side of 0 mm: measure it again or send no dimensions"
            )));
        }
    }
    Ok(())
}

/// Checks a cash-on-delivery amount: above zero, in a currency of three capital letters.
pub fn check_cash_on_delivery(cod: &CashOnDelivery) -> Result<(), CarrierError> {
    if cod.amount_minor <= 0 {
        return Err(CarrierError::rejected(
            "the cash-on-delivery amount must be above zero",
        ));
    }
    if cod.currency.len() != 3 || !cod.currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(CarrierError::rejected(
            "the cash-on-delivery currency is not an ISO 4217 code: send three capital letters \
             such as EUR",
        ));
    }
    Ok(())
}

/// A weight as a label and a message write it: `2.35 kg`.
pub fn kilograms(weight_g: u32) -> String {
    let tens = weight_g.div_ceil(10);
    format!("{}.{:02} kg", tens / 100, tens % 100)
}

/// Checks one text field. `what` is the field's description; the value is never quoted.
fn check_text(what: &str, value: &str, max: usize, required: bool) -> Result<(), CarrierError> {
    if value.trim().is_empty() {
        if required {
            return Err(CarrierError::rejected(format!("{what} is missing")));
        }
        return Ok(());
    }
    let chars = value.chars().count();
    if chars > max {
        return Err(CarrierError::rejected(format!(
            "{what} is {chars} characters long: the carrier takes at most {max}"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(CarrierError::rejected(format!(
            "{what} contains a line break or another control character: remove it"
        )));
    }
    Ok(())
}

fn check_opt(what: &str, value: Option<&str>, max: usize) -> Result<(), CarrierError> {
    value.map_or(Ok(()), |v| check_text(what, v, max, false))
}

/// What a postcode of `country` looks like, when `postcode` does not look like it; `None` when
/// it does or this crate does not know the country's form (then only its characters are
/// checked).
fn postcode_form(country: &str, postcode: &str) -> Option<&'static str> {
    let digits = |n: usize| postcode.len() == n && postcode.bytes().all(|b| b.is_ascii_digit());
    match country {
        "FI" | "AX" | "DE" | "EE" | "FR" | "IT" | "ES" => (!digits(5)).then_some("5 digits"),
        "SE" => {
            let joined: String = postcode.split(' ').collect();
            let spaced = postcode.len() == 6 && postcode.as_bytes()[3] == b' ';
            let ok = joined.len() == 5
                && joined.bytes().all(|b| b.is_ascii_digit())
                && (postcode.len() == 5 || spaced);
            (!ok).then_some("5 digits, as 12345 or 123 45")
        }
        "NO" | "DK" | "AT" | "BE" | "CH" => (!digits(4)).then_some("4 digits"),
        _ => (!postcode
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'-'))
        .then_some("only letters, digits, spaces and hyphens"),
    }
}

/// A caller's code (never personal data) quoted for a message, cut to a sane length.
fn quote(code: &str) -> String {
    let cut: String = code.chars().take(40).collect();
    format!("{cut:?}")
}

#[cfg(test)]
mod tests;

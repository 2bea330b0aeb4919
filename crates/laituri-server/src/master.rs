//! Checks and normalisation of master data arriving through the integration API.
//!
//! It owns the shape rules that need no database: non-empty ids, GTINs padded to 14 digits
//! ([`laituri_domain::scan::master_data_key`]), PINs turned into hashes, SSCCs of 18 digits. Rules that need the
//! database (the merchant of a product exists, a badge is not taken) live in the store's upserts.
//! It must never keep a PIN in clear past [`prepare_operators`], and never do I/O.

use laituri_protocol::{
    InboundNotice, Location, Merchant, Operator, OperatorInput, Product, ProductBarcode,
};

use laituri_domain::scan as gtin;

fn require(value: &str, what: &str, index: usize) -> Result<(), String> {
    if value.trim().is_empty() {
        Err(format!(
            "item {index}: {what} is empty: every item needs a non-empty {what}"
        ))
    } else {
        Ok(())
    }
}

pub fn prepare_merchants(items: Vec<Merchant>) -> Result<Vec<Merchant>, String> {
    for (i, m) in items.iter().enumerate() {
        require(&m.id, "id", i)?;
        require(&m.name, "name", i)?;
    }
    Ok(items)
}

/// Normalises barcodes (GTINs to 14 digits) and drops repeats of the same code.
pub fn prepare_products(items: Vec<Product>) -> Result<Vec<Product>, String> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, mut p)| {
            require(&p.id, "id", i)?;
            require(&p.merchant_id, "merchant_id", i)?;
            let mut barcodes: Vec<ProductBarcode> = Vec::with_capacity(p.barcodes.len());
            for b in p.barcodes {
                if b.code.trim().is_empty() {
                    return Err(format!(
                        "item {i} (product {}): a barcode is empty: remove it or send its code",
                        p.id
                    ));
                }
                if b.pack_qty == 0 {
                    return Err(format!(
                        "item {i} (product {}): barcode {} has pack_qty 0: a code counts as at \
                         least 1 unit; send 1 for a unit code or the case's content",
                        p.id, b.code
                    ));
                }
                let code = gtin::master_data_key(&b.code);
                match barcodes.iter().find(|x| x.code == code) {
                    Some(x) if x.pack_qty != b.pack_qty => {
                        return Err(format!(
                            "item {i} (product {}): barcode {code} appears with pack_qty {} and \
                             {}: one code counts one quantity; keep one of them",
                            p.id, x.pack_qty, b.pack_qty
                        ));
                    }
                    Some(_) => {}
                    None => barcodes.push(ProductBarcode {
                        code,
                        pack_qty: b.pack_qty,
                    }),
                }
            }
            p.barcodes = barcodes;
            Ok(p)
        })
        .collect()
}

pub fn prepare_locations(items: Vec<Location>) -> Result<Vec<Location>, String> {
    for (i, l) in items.iter().enumerate() {
        require(&l.code, "code", i)?;
    }
    Ok(items)
}

/// Hashes PINs with [`laituri_protocol::pin_hash`]; the clear PIN goes no further than here.
/// An empty PIN means "no PIN".
pub fn prepare_operators(items: Vec<OperatorInput>) -> Result<Vec<Operator>, String> {
    let mut out: Vec<Operator> = Vec::with_capacity(items.len());
    for (i, mut o) in items.into_iter().enumerate() {
        require(&o.id, "id", i)?;
        require(&o.badge, "badge", i)?;
        require(&o.name, "name", i)?;
        if o.pin.as_deref().is_some_and(|p| p.is_empty()) {
            o.pin = None;
        }
        if let Some(pin) = &o.pin {
            // Typed on a terminal's keypad: digits only.
            if !(4..=12).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "item {i} (operator {}): a PIN is 4 to 12 digits, typed on the terminal's \
                     keypad",
                    o.id
                ));
            }
            // A lead resolves exceptions and approves counts: a guess must cost more.
            if o.roles.contains(&laituri_protocol::Role::Lead) && pin.len() < 6 {
                return Err(format!(
                    "item {i} (operator {}): a shift lead's PIN needs at least 6 digits",
                    o.id
                ));
            }
        }
        if let Some(other) = out.iter().find(|x| x.badge == o.badge && x.id != o.id) {
            return Err(format!(
                "item {i}: badge {} is also given to operator {}: one badge logs in one person",
                o.badge, other.id
            ));
        }
        out.push(o.into_operator());
    }
    Ok(out)
}

pub fn prepare_notices(items: Vec<InboundNotice>) -> Result<Vec<InboundNotice>, String> {
    for (i, n) in items.iter().enumerate() {
        require(&n.id, "id", i)?;
        require(&n.merchant_id, "merchant_id", i)?;
        require(&n.reference, "reference", i)?;
        for s in &n.ssccs {
            if s.len() != 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "item {i} (notice {}): SSCC {s:?} is not 18 digits: send the SSCC without \
                     its (00) prefix",
                    n.id
                ));
            }
        }
        for l in &n.lines {
            require(&l.product_id, "line product_id", i)?;
            if l.expected_qty < 0 {
                return Err(format!(
                    "item {i} (notice {}): product {} expects {} units: expected quantities \
                     cannot be negative",
                    n.id, l.product_id, l.expected_qty
                ));
            }
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use laituri_protocol::Role;

    use super::*;

    fn product(codes: &[(&str, u32)]) -> Product {
        Product {
            dims_mm: None,
            kit: Vec::new(),
            volume_ml: None,
            weight_g: None,
            id: "P1".into(),
            merchant_id: "M1".into(),
            name: "Thing".into(),
            barcodes: codes
                .iter()
                .map(|(c, q)| ProductBarcode {
                    code: c.to_string(),
                    pack_qty: *q,
                })
                .collect(),
            track_lot: false,
            track_expiry: false,
            track_serial: false,
        }
    }

    #[test]
    fn product_barcodes_are_normalised_and_deduplicated() {
        // (barcodes sent, codes stored or Err when the product is refused)
        type Case<'a> = (&'a [(&'a str, u32)], Result<&'a [&'a str], ()>);
        let cases: &[Case] = &[
            (&[("6291041500213", 1)], Ok(&["06291041500213"])),
            (
                &[("6291041500213", 1), ("06291041500213", 1)],
                Ok(&["06291041500213"]),
            ),
            (
                &[("96385074", 1), ("SKU-7", 1)],
                Ok(&["00000096385074", "SKU-7"]),
            ),
            (&[("6291041500213", 1), ("06291041500213", 6)], Err(())),
            (&[("6291041500213", 0)], Err(())),
            (&[("  ", 1)], Err(())),
        ];
        for (codes, expect) in cases {
            let got = prepare_products(vec![product(codes)]).map(|ps| {
                ps[0]
                    .barcodes
                    .iter()
                    .map(|b| b.code.clone())
                    .collect::<Vec<_>>()
            });
            match expect {
                Ok(e) => assert_eq!(got.unwrap(), *e, "{codes:?}"),
                Err(()) => assert!(got.is_err(), "{codes:?}"),
            }
        }
    }

    #[test]
    fn operator_pins_are_hashed_and_never_kept() {
        let input = OperatorInput {
            id: "OP-1".into(),
            name: "Aino".into(),
            badge: "B1".into(),
            pin: Some("1234".into()),
            roles: vec![Role::Receiving],
            language: "fi".into(),
            count_limits: None,
        };
        let mut no_pin = input.clone();
        no_pin.id = "OP-2".into();
        no_pin.badge = "B2".into();
        no_pin.pin = Some(String::new());
        let ops = prepare_operators(vec![input.clone(), no_pin]).unwrap();
        // Hashed by the store: on the way there, the PIN is never serialised.
        assert_eq!(ops[0].pin.as_deref(), Some("1234"));
        assert!(!serde_json::to_string(&ops).unwrap().contains("1234"));
        assert_eq!(ops[1].pin, None);
        let stored = ops[0].clone().with_pin_hashed(None);
        let hash = stored.pin_hash.clone().unwrap();
        assert!(laituri_protocol::pin_matches(&hash, "1234"));
        // The same PIN again keeps the stored hash; another PIN gets a new one.
        let again = prepare_operators(vec![input.clone()]).unwrap().remove(0);
        assert_eq!(
            again.with_pin_hashed(Some(&hash)).pin_hash,
            Some(hash.clone())
        );
        let mut other = input.clone();
        other.pin = Some("4321".into());
        let changed = prepare_operators(vec![other]).unwrap().remove(0);
        assert_ne!(changed.with_pin_hashed(Some(&hash)).pin_hash, Some(hash));
        // PINs are digits; a lead's has at least six.
        let mut letters = input.clone();
        letters.pin = Some("12ab".into());
        assert!(prepare_operators(vec![letters]).is_err());
        let mut lead = input;
        lead.roles.push(laituri_protocol::Role::Lead);
        assert!(prepare_operators(vec![lead.clone()]).is_err());
        lead.pin = Some("123456".into());
        assert!(prepare_operators(vec![lead]).is_ok());
    }
}

//! Label recognition, one module for every flow: what a scanned label is on this floor.
//!
//! A badge, a tote or license plate, a location, an inbound notice (by reference or pallet
//! SSCC), a product (by any of its barcodes), or nothing known. Flows ask here instead of each
//! guessing from prefixes; what a label *means* in a step stays the flow's decision. Only point
//! look-ups on indexes.

use laituri_domain::scan::{Scan, ScanKind, ScanProblem};

use super::CoreConfig;
use crate::store::{LocationRow, NoticeRow, OperatorRow, ProductMatch, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Label {
    Badge(OperatorRow),
    /// A tote or license-plate label, or the SSCC of a pallet that is no notice's.
    Container(String),
    Location(LocationRow),
    Notice(NoticeRow),
    /// Products (of any merchant) with this barcode, and the code that matched.
    Product {
        code: String,
        matches: Vec<ProductMatch>,
    },
    /// A valid scan that matches nothing on this device.
    Unknown(String),
    /// A misread: the scan broke its own rules (check digit, lengths).
    Unreadable(ScanProblem),
}

/// The code to look a product up by: a GTIN-14 when the scan has one, else the text as printed.
pub fn product_code(scan: &Scan) -> String {
    let text = scan
        .reading(ScanKind::Plain)
        .and_then(|s| s.text())
        .map(str::trim);
    scan.reading(ScanKind::Gtin)
        .and_then(|s| s.gtin14())
        .or(scan.gtin14())
        .map(str::to_string)
        .or_else(|| text.map(str::to_string))
        .unwrap_or_else(|| scan.data.clone())
}

/// Units a product's scan stands for: its barcode's pack (a case code counts its pack) times
/// the count a GS1 label carries.
pub fn units(m: &ProductMatch, scan: &Scan) -> i64 {
    i64::from(m.pack_qty) * i64::from(scan.count().unwrap_or(1).max(1))
}

/// The product of `merchant` among the products a shared barcode names, else the first.
pub fn of_merchant<'a>(matches: &'a [ProductMatch], merchant: Option<&str>) -> &'a ProductMatch {
    matches
        .iter()
        .find(|m| Some(m.merchant_id.as_str()) == merchant)
        .unwrap_or(&matches[0])
}

/// What `scan` is on this device.
pub fn recognise(store: &Store, config: &CoreConfig, scan: &Scan) -> Result<Label, StoreError> {
    let text = scan
        .reading(ScanKind::Plain)
        .and_then(|s| s.text())
        .map(str::trim)
        .unwrap_or("");
    if !text.is_empty()
        && config
            .container_prefixes
            .iter()
            .any(|p| text.starts_with(p.as_str()))
    {
        return Ok(Label::Container(text.to_string()));
    }
    if !text.is_empty() {
        if let Some(loc) = store.location(text)? {
            return Ok(Label::Location(loc));
        }
        if let Some(op) = store.operator_by_badge(text)? {
            return Ok(Label::Badge(op));
        }
    }
    let notice_code = scan.sscc().unwrap_or(text);
    if !notice_code.is_empty()
        && let Some(n) = store.notice_by_code(notice_code)?
    {
        return Ok(Label::Notice(n));
    }
    if let Some(sscc) = scan.sscc()
        && scan.gtin14().is_none()
    {
        return Ok(Label::Container(sscc.to_string()));
    }
    if !scan.valid {
        return Ok(Label::Unreadable(
            scan.errors
                .first()
                .cloned()
                .unwrap_or(ScanProblem::NothingScanned),
        ));
    }
    let code = product_code(scan);
    let matches = store.products_by_barcode(&code)?;
    if !matches.is_empty() {
        return Ok(Label::Product { code, matches });
    }
    Ok(Label::Unknown(scan.data.clone()))
}

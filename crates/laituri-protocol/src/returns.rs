//! Customers' returns: what a returns desk records of a returned parcel, the merchants' rules
//! for what becomes of returned goods, and the shipped orders a terminal keeps to find a return's
//! order.
//!
//! A return is recorded as one event at its finish ([`crate::EventBody::ReturnReceived`]): per
//! line the goods, the reason, what was done with them ([`ReturnAction`]), and whether they were
//! not part of the order (`unexpected`), missing from the parcel (`missing`) or could not be
//! restocked (`blocked`), with the stock moves that bring the goods in. A [`ReturnableOrder`]
//! is the one place a customer's name reaches a terminal: through the change log, kept until
//! `keep_until_ms` and removed by an erasure (a [`crate::Removed`] of kind
//! [`crate::EntityKind::ReturnableOrder`]); never in an event, an exception or a log.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::OrderLine;

/// Why the customer sent the goods back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnReason {
    /// The customer did not want it (a change of mind, the wrong size).
    Unwanted,
    /// It is broken or does not work.
    Defective,
    /// The customer got something else than they ordered.
    WrongItem,
    /// The parcel could not be delivered or was not collected.
    Undeliverable,
}

impl ReturnReason {
    pub const ALL: [ReturnReason; 4] = [
        ReturnReason::Unwanted,
        ReturnReason::Defective,
        ReturnReason::WrongItem,
        ReturnReason::Undeliverable,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ReturnReason::Unwanted => "unwanted",
            ReturnReason::Defective => "defective",
            ReturnReason::WrongItem => "wrong_item",
            ReturnReason::Undeliverable => "undeliverable",
        }
    }
    pub fn parse(s: &str) -> Option<ReturnReason> {
        ReturnReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// What becomes of returned goods (their disposition).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnAction {
    /// Back into sellable stock: into the returns tote, then put away into a bin.
    Restock,
    /// To the quarantine location, for a person to inspect.
    Quarantine,
    /// Thrown away: the goods enter and leave the warehouse's stock at once.
    Dispose,
    /// Kept at the returns location for the merchant to collect.
    BackToMerchant,
}

impl ReturnAction {
    pub const ALL: [ReturnAction; 4] = [
        ReturnAction::Restock,
        ReturnAction::Quarantine,
        ReturnAction::Dispose,
        ReturnAction::BackToMerchant,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ReturnAction::Restock => "restock",
            ReturnAction::Quarantine => "quarantine",
            ReturnAction::Dispose => "dispose",
            ReturnAction::BackToMerchant => "back_to_merchant",
        }
    }
    pub fn parse(s: &str) -> Option<ReturnAction> {
        ReturnAction::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Why goods meant for restocking were not restocked (they went to quarantine instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestockBlock {
    /// The barcode is no product of the merchant's: nothing can be booked into stock.
    UnknownProduct,
    /// A rule of the merchant forbids restocking these goods.
    MerchantRule,
}

impl RestockBlock {
    pub fn as_str(self) -> &'static str {
        match self {
            RestockBlock::UnknownProduct => "unknown_product",
            RestockBlock::MerchantRule => "merchant_rule",
        }
    }
}

/// One line of a return: `quantity` units of one product (or of an unknown barcode), with why
/// they came back and what was done with them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnedLine {
    /// The merchant's product; `None` for a barcode that is no product of the merchant's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// The scan, as it may be recorded ([`crate::recorded_scan`]), for an unknown barcode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barcode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    /// ISO date (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
    pub quantity: i64,
    /// `None` only for a missing line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ReturnReason>,
    /// What was done with the goods; `None` only for a missing line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<ReturnAction>,
    /// The goods were not part of the order (or more of them than it shipped).
    #[serde(default)]
    pub unexpected: bool,
    /// Units of the order that were not in the returned parcel.
    #[serde(default)]
    pub missing: bool,
    /// Meant for restocking and not restocked, and why; `action` says where they went instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked: Option<RestockBlock>,
}

/// A merchant's rule for returned goods: goods returned for `reason` (any when `None`) of one of
/// `products` (any when empty) get `action`. A `forced` rule decides; any other suggests, and
/// the person at the returns desk may choose otherwise. The first rule that matches applies.
///
/// "Defective goods back to the merchant": `{reason: defective, action: back_to_merchant,
/// forced: true}`. "Food is never restocked": `{products: [the food products], action:
/// quarantine, forced: true}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ReturnReason>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<String>,
    pub action: ReturnAction,
    #[serde(default)]
    pub forced: bool,
}

impl ReturnRule {
    pub fn matches(&self, reason: ReturnReason, product_id: Option<&str>) -> bool {
        self.reason.is_none_or(|r| r == reason)
            && (self.products.is_empty()
                || product_id.is_some_and(|p| self.products.iter().any(|x| x == p)))
    }
}

/// A shipped order as a returns desk needs it to find a return's order: by the return label or
/// tracking code, the order number, or the customer's name. Holds the customer's name: personal
/// data, which the terminal keeps only until `keep_until_ms` and forgets when a removal of it
/// arrives (the merchant erased it, or the order was returned whole).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnableOrder {
    pub order_id: Uuid,
    pub merchant_id: String,
    pub reference: String,
    /// `None` when the order has no name to show (erased before it shipped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_name: Option<String>,
    /// Tracking numbers of its parcels (what a return label or a parcel's code shows).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tracking: Vec<String>,
    /// What was shipped: the order's demand (kits as components, inserts included).
    pub lines: Vec<OrderLine>,
    /// Server time, Unix milliseconds.
    pub shipped_at_ms: i64,
    /// The terminal forgets the order after this (the warehouse's retention of returnable
    /// orders, 30 days unless it sets another).
    pub keep_until_ms: i64,
}

/// A return as the integration API shows it (`GET RETURNS`): no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnView {
    pub return_id: Uuid,
    /// Ascending in the order returns were recorded: `?after=` of the next page.
    pub id: u64,
    pub merchant_id: String,
    pub order_id: Uuid,
    pub reference: String,
    pub location: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tote: Option<String>,
    pub lines: Vec<ReturnedLine>,
    /// Server time, Unix milliseconds.
    pub received_at_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_and_actions_read_back_as_written() {
        for r in ReturnReason::ALL {
            assert_eq!(ReturnReason::parse(r.as_str()), Some(r));
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.as_str())
            );
        }
        for a in ReturnAction::ALL {
            assert_eq!(ReturnAction::parse(a.as_str()), Some(a));
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                format!("\"{}\"", a.as_str())
            );
        }
    }

    #[test]
    fn a_rule_matches_its_reason_and_products() {
        let rule: ReturnRule =
            serde_json::from_str(r#"{"reason":"defective","action":"back_to_merchant"}"#).unwrap();
        assert!(!rule.forced);
        assert!(rule.matches(ReturnReason::Defective, Some("P1")));
        assert!(rule.matches(ReturnReason::Defective, None));
        assert!(!rule.matches(ReturnReason::Unwanted, Some("P1")));
        let food = ReturnRule {
            reason: None,
            products: vec!["FOOD".into()],
            action: ReturnAction::Quarantine,
            forced: true,
        };
        assert!(food.matches(ReturnReason::Unwanted, Some("FOOD")));
        assert!(!food.matches(ReturnReason::Unwanted, Some("SHOE")));
        assert!(!food.matches(ReturnReason::Unwanted, None));
    }

    #[test]
    fn a_line_of_an_older_shape_still_reads() {
        let line: ReturnedLine =
            serde_json::from_str(r#"{"product_id":"P1","quantity":1}"#).unwrap();
        assert!(!line.unexpected && !line.missing && line.blocked.is_none());
    }
}

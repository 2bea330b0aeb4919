//! Stock moves: the one shape in which every physical event says where goods went.
//!
//! DESIGN.md section 3, point 10: a receipt moves goods from nowhere into a tote at the dock, a
//! putaway from the tote into a bin, a pick from a bin into a tote, shipping out of the
//! warehouse. Flows differ in their bookkeeping; the server applies their moves through one path.
//! A move is a delta (never an absolute level) and its quantity is always positive: the direction
//! is in `from` and `to`.

use serde::{Deserialize, Serialize};

use crate::GoodsCondition;

/// The location of goods in a tote between a pick and the drop at packing. A picker's cart has
/// no label of its own: a pick moves goods from a bin into `IN_TRANSIT` in the order's tote, and
/// the drop moves each tote from here to the packing location scanned. Every server knows it
/// without master data, and no master data may define it.
pub const IN_TRANSIT: &str = "IN-TRANSIT";

/// Where goods are: a location, and the container (tote, license plate) at it if any.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Place {
    pub location: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
}

impl Place {
    pub fn at(location: impl Into<String>) -> Place {
        Place {
            location: location.into(),
            container: None,
        }
    }

    pub fn in_container(location: impl Into<String>, container: impl Into<String>) -> Place {
        Place {
            location: location.into(),
            container: Some(container.into()),
        }
    }
}

/// `quantity` units of one product of one merchant (with one lot, expiry, serial and condition)
/// went from `from` to `to`. `from: None` is goods entering the warehouse (a receipt),
/// `to: None` goods leaving it (shipping, disposal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockMove {
    pub merchant_id: String,
    pub product_id: String,
    pub quantity: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    /// ISO date (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    pub condition: GoodsCondition,
    pub from: Option<Place>,
    pub to: Option<Place>,
    /// Why the move was made when it is not the flow's plain course (a count variance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl StockMove {
    /// The same goods, another quantity and route: a putaway of part of a tote's line.
    pub fn same_goods(&self, quantity: i64, from: Option<Place>, to: Option<Place>) -> StockMove {
        StockMove {
            quantity,
            from,
            to,
            reason: None,
            ..self.clone()
        }
    }
}

/// One row of stock as terminals pull it: a level, never a delta, with the event that last
/// changed it. `by_device`/`by_seq` tell a terminal which of its own events this snapshot already
/// contains, so its local view counts its own not-yet-seen moves exactly once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    pub merchant_id: String,
    pub product_id: String,
    pub location: String,
    #[serde(default)]
    pub container: Option<String>,
    #[serde(default)]
    pub lot: Option<String>,
    #[serde(default)]
    pub expiry: Option<String>,
    pub condition: GoodsCondition,
    pub quantity: i64,
    #[serde(default)]
    pub by_device: Option<uuid::Uuid>,
    #[serde(default)]
    pub by_seq: Option<u64>,
}

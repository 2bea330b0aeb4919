//! Counts: what a blind count of a location states, an operator's limits for applying a count
//! without a lead, a count waiting for a lead's approval, and the plan that makes count tasks.
//!
//! A count states quantities, not moves: the counter does not know what the server holds, and
//! the server holds what the floor did since the device last pulled. So a [`LocationCounted`]
//! event carries what was counted (and what the device's own view held, for the record); the
//! server compares the count with its level when it applies the event, records the variance and
//! turns it into stock moves with reason [`COUNT_REASON`] through its one path of stock moves.
//! A variance beyond the counter's [`CountLimits`] waits as a [`PendingCount`] until a lead's
//! [`CountDecided`] applies exactly the recorded variance (picks in between stay counted) or
//! rejects it (nothing changes, and a recount task is opened).
//!
//! [`LocationCounted`]: crate::EventBody::LocationCounted
//! [`CountDecided`]: crate::EventBody::CountDecided

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::GoodsCondition;

/// The reason of every stock move a count makes.
pub const COUNT_REASON: &str = "count";

/// How far a count may differ from the stock before a lead must approve it, set per operator.
/// A count outside either limit waits for a lead; with no limit set, any difference does (as a
/// warehouse that sets nothing has said nothing may pass unseen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountLimits {
    /// The most units a line may differ by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_quantity: Option<u32>,
    /// The most a line may differ by, in percent of the stock expected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_percent: Option<u32>,
}

/// What a counter found of one kind of goods at the location: one product of one merchant, lot,
/// expiry, condition and container. Goods of the location the count names no line of were not
/// there (counted 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountLine {
    pub merchant_id: String,
    pub product_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    /// ISO date (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
    #[serde(default = "good")]
    pub condition: GoodsCondition,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Units counted, 0 or more.
    pub counted: i64,
    /// What the device's stock view held when the count was finished (never shown to the
    /// counter): for the record; the server counts against its own level.
    #[serde(default)]
    pub expected: i64,
}

fn good() -> GoodsCondition {
    GoodsCondition::Good
}

/// One line of a count as the server recorded it: the goods, what was counted, the server's
/// level when the count was applied and the variance (counted - level) it books.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountVariance {
    pub merchant_id: String,
    pub product_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
    pub condition: GoodsCondition,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    pub counted: i64,
    pub level: i64,
    pub variance: i64,
}

/// A count whose variance waits for a lead, as every device pulls it (a lead's terminal lists
/// them). Removed from the devices when a lead decided it. Names goods and places only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCount {
    pub count_id: Uuid,
    pub location: String,
    /// The lines that differ from the stock (variance not 0).
    pub lines: Vec<CountVariance>,
}

/// `POST COUNT_PLANS` (admin): a lead's plan of counts. Every filter given must match; a plan
/// with none counts every bin that holds stock. One count task is made per location and
/// merchant of the stock there, unless one is open already: asking twice makes no more tasks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountPlan {
    /// Bins of this zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// Bins of this aisle (of the zone, when one is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aisle: Option<u32>,
    /// Bins holding this merchant's goods (their tasks name only this merchant's goods).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_id: Option<String>,
    /// Bins holding any of these products.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<String>,
    /// Bins not counted in this many days (never counted included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_counted_days: Option<u32>,
}

/// The answer to a [`CountPlan`]: the tasks made, and the locations left out because a count of
/// them was open already.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountPlanSummary {
    pub created: Vec<String>,
    pub already_open: Vec<String>,
}

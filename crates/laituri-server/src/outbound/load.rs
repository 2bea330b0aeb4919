//! How a backend fills a [`Snapshot`]: the same few asks on both, in the same order, inside the
//! planner's transaction.

use std::collections::BTreeMap;

use laituri_domain::calendar::Date;
use laituri_protocol::{Location, Merchant, Product};
use uuid::Uuid;

use super::{BinStock, PickRow, Snapshot, wanted_products};
use crate::orders::OrderRow;
use crate::store::StoreError;

/// How deep kits are followed when their components are loaded.
const KIT_ROUNDS: usize = 4;

/// The rows a planner reads, asked of one transaction.
#[allow(async_fn_in_trait)]
pub trait Source {
    /// Orders new, on hold or reserved, and those picking whose picking came up short or
    /// whose reservations are not all released (the others have nothing to plan).
    async fn active_orders(&mut self) -> Result<Vec<OrderRow>, StoreError>;
    async fn merchants(&mut self) -> Result<Vec<Merchant>, StoreError>;
    async fn products(&mut self, ids: &[String]) -> Result<Vec<Product>, StoreError>;
    /// Good stock of these products in bins, outside containers, with the bins.
    async fn bin_stock(
        &mut self,
        product_ids: &[String],
    ) -> Result<(Vec<BinStock>, Vec<Location>), StoreError>;
    /// Every reservation of these orders, and the open ones of these products.
    async fn picks(
        &mut self,
        order_ids: &[Uuid],
        product_ids: &[String],
    ) -> Result<Vec<PickRow>, StoreError>;
}

/// The snapshot for a run at `now_ms`, the warehouse's day being `today`.
pub async fn snapshot<S: Source>(
    src: &mut S,
    today: Date,
    now_ms: i64,
) -> Result<Snapshot, StoreError> {
    let orders = src.active_orders().await?;
    if orders.is_empty() {
        return Ok(Snapshot {
            today: Some(today),
            now_ms,
            ..Snapshot::default()
        });
    }
    let merchants: BTreeMap<String, Merchant> = src
        .merchants()
        .await?
        .into_iter()
        .map(|m| (m.id.clone(), m))
        .collect();
    let mut products: BTreeMap<String, Product> = BTreeMap::new();
    for _ in 0..KIT_ROUNDS {
        let missing: Vec<String> = wanted_products(&orders, &merchants, &products)
            .into_iter()
            .filter(|id| !products.contains_key(id))
            .collect();
        if missing.is_empty() {
            break;
        }
        let found = src.products(&missing).await?;
        if found.is_empty() {
            break;
        }
        products.extend(found.into_iter().map(|p| (p.id.clone(), p)));
    }
    let product_ids: Vec<String> = products.keys().cloned().collect();
    let (stock, bins) = src.bin_stock(&product_ids).await?;
    let order_ids: Vec<Uuid> = orders.iter().map(|o| o.id).collect();
    let picks = src.picks(&order_ids, &product_ids).await?;
    Ok(Snapshot {
        today: Some(today),
        now_ms,
        orders,
        picks,
        stock,
        products,
        merchants,
        locations: bins.into_iter().map(|l| (l.code.clone(), l)).collect(),
    })
}

/// The warehouse's day at `now_ms` (UTC).
pub fn day_of(now_ms: i64) -> Date {
    Date::from_day_number(now_ms.div_euclid(86_400_000))
}

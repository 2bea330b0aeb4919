//! The local view of stock: what the device pulled from the server plus its own moves that the
//! pulled snapshot does not contain yet, each counted exactly once.
//!
//! Every event that moves goods writes its moves to `local_moves` in the same transaction as the
//! outbox row (see [`Store::append_event`]). A pull page that contains stock changed by this
//! device's seq `S` means the server's levels include every move of seq `<= S` (a device's events
//! are applied in seq order), so those local rows are dropped in the same transaction, as far as
//! the server has recorded this device's events (a database restored from a backup may see seqs
//! of its id that are the other history's events); rejected events' moves are dropped when the
//! rejection arrives. Seqs of a level are mapped to local seqs through the device ids this
//! database pushed under ([`super::Lineage`]). Reads are point look-ups on indexes,
//! bounded by a LIMIT where a place could hold many rows.

use laituri_protocol::{EventBody, GoodsCondition, StockLevel, StockMove};
use rusqlite::{Transaction, params};

use super::{Result, Store};

/// How many rows a look-up of one place or one product returns at most.
pub const PLACE_ROWS: u32 = 200;

/// Stock of one kind of goods in one place, as the device sees it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockRowLocal {
    pub merchant_id: String,
    pub product_id: String,
    pub location: String,
    pub container: Option<String>,
    pub lot: Option<String>,
    pub expiry: Option<String>,
    pub condition: GoodsCondition,
    pub quantity: i64,
    /// The part of `quantity` that is this device's moves the server has not shown back yet
    /// (0 when the row is all pulled): "saved on the device, not yet confirmed".
    pub pending: i64,
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("")
}

fn none_if_empty(s: String) -> Option<String> {
    if s.is_empty() { None } else { Some(s) }
}

/// The union of pulled levels and unseen own moves, summed per stock key, for one filter.
/// `{where_pulled}`, `{where_to}` and `{where_from}` are conditions on the three sources.
fn view_sql(where_pulled: &str, where_to: &str, where_from: &str) -> String {
    format!(
        "SELECT merchant_id, product_id, location, container, lot, expiry, condition, sum(q) AS quantity,
                sum(l) AS pending FROM (
            SELECT merchant_id, product_id, location, container, lot, expiry, condition, quantity AS q,
                   0 AS l
              FROM stock_pulled WHERE {where_pulled}
            UNION ALL
            SELECT merchant_id, product_id, to_location, to_container, lot, expiry, condition, quantity,
                   quantity
              FROM local_moves WHERE to_location IS NOT NULL AND ({where_to})
            UNION ALL
            SELECT merchant_id, product_id, from_location, from_container, lot, expiry, condition, -quantity,
                   -quantity
              FROM local_moves WHERE from_location IS NOT NULL AND ({where_from})
         ) GROUP BY merchant_id, product_id, location, container, lot, expiry, condition
         HAVING sum(q) <> 0
         ORDER BY location, container, product_id, lot, expiry LIMIT ?2"
    )
}

fn row_local(r: &rusqlite::Row) -> rusqlite::Result<StockRowLocal> {
    let condition: String = r.get(6)?;
    Ok(StockRowLocal {
        merchant_id: r.get(0)?,
        product_id: r.get(1)?,
        location: r.get(2)?,
        container: none_if_empty(r.get(3)?),
        lot: none_if_empty(r.get(4)?),
        expiry: none_if_empty(r.get(5)?),
        condition: GoodsCondition::parse(&condition).unwrap_or(GoodsCondition::Damaged),
        quantity: r.get(7)?,
        pending: r.get(8)?,
    })
}

/// Writes an event's stock moves to the local view. Called by the outbox's `append` in the same
/// transaction as the event, so no flow can record an event and forget its moves.
pub(crate) fn record_moves(tx: &Transaction, seq: u64, body: &EventBody) -> Result<()> {
    let mut ins = tx.prepare_cached(
            "INSERT INTO local_moves (seq, idx, merchant_id, product_id, lot, expiry, serial, condition,
                                      from_location, from_container, to_location, to_container, quantity)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
    for (idx, m) in body.moves().iter().enumerate() {
        let StockMove {
            merchant_id,
            product_id,
            quantity,
            lot,
            expiry,
            serial,
            condition,
            from,
            to,
            reason: _,
        } = m;
        ins.execute(params![
            seq as i64,
            idx as i64,
            merchant_id,
            product_id,
            opt(lot),
            opt(expiry),
            opt(serial),
            condition.as_str(),
            from.as_ref().map(|p| p.location.as_str()),
            from.as_ref().map_or("", |p| opt(&p.container)),
            to.as_ref().map(|p| p.location.as_str()),
            to.as_ref().map_or("", |p| opt(&p.container)),
            quantity,
        ])?;
    }
    Ok(())
}

impl Store {
    /// What a tote or license plate holds now, wherever it is.
    pub fn container_contents(&self, container: &str) -> Result<Vec<StockRowLocal>> {
        let sql = view_sql("container = ?1", "to_container = ?1", "from_container = ?1");
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let rows = stmt.query_map(params![container, PLACE_ROWS], row_local)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// What a location holds now (loose and in containers).
    pub fn location_contents(&self, location: &str) -> Result<Vec<StockRowLocal>> {
        let sql = view_sql("location = ?1", "to_location = ?1", "from_location = ?1");
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let rows = stmt.query_map(params![location, PLACE_ROWS], row_local)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Where a product of a merchant is now.
    pub fn product_places(
        &self,
        merchant_id: &str,
        product_id: &str,
    ) -> Result<Vec<StockRowLocal>> {
        let sql = view_sql(
            "product_id = ?1 AND merchant_id = ?3",
            "product_id = ?1 AND merchant_id = ?3",
            "product_id = ?1 AND merchant_id = ?3",
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let rows = stmt.query_map(params![product_id, PLACE_ROWS, merchant_id], row_local)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The highest seq of this device whose stock effects the pulled stock contains.
    pub fn stock_seen_seq(&self) -> Result<u64> {
        let s: i64 =
            self.conn()
                .query_row("SELECT stock_seen_seq FROM device WHERE id = 1", [], |r| {
                    r.get(0)
                })?;
        Ok(s as u64)
    }
}

/// Replaces one pulled stock level; when it was changed by this database's own event (under any
/// of its device ids), the local moves up to that seq are now part of the pulled levels and are
/// dropped.
pub(crate) fn apply_stock_level(tx: &Transaction, level: &StockLevel) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO stock_pulled (merchant_id, product_id, location, container, lot, expiry, condition, quantity)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        level.merchant_id,
        level.product_id,
        level.location,
        opt(&level.container),
        opt(&level.lot),
        opt(&level.expiry),
        level.condition.as_str(),
        level.quantity
    ])?;
    if level.quantity == 0 {
        tx.prepare_cached("DELETE FROM stock_pulled WHERE quantity = 0 AND merchant_id = ?1 AND product_id = ?2 AND location = ?3 AND container = ?4 AND lot = ?5 AND expiry = ?6 AND condition = ?7")?
            .execute(params![
                level.merchant_id,
                level.product_id,
                level.location,
                opt(&level.container),
                opt(&level.lot),
                opt(&level.expiry),
                level.condition.as_str(),
            ])?;
    }
    if let (Some(device), Some(seq)) = (level.by_device, level.by_seq)
        && let Some(local) = super::continuation::own_local_seq(tx, device, seq)?
    {
        tx.prepare_cached(
            "UPDATE device SET stock_seen_seq = max(stock_seen_seq, ?1) WHERE id = 1",
        )?
        .execute([local as i64])?;
        drop_seen_moves(tx)?;
    }
    Ok(())
}

/// Drops the own moves the pulled levels contain: those of events up to `stock_seen_seq` that
/// the server recorded (`acked_through`). The second bound matters after a database was
/// restored from a backup: until the terminal learns that its history differs, a level the other
/// history changed names a seq of this device id that is another event than the local one.
pub(crate) fn drop_seen_moves(tx: &Transaction) -> Result<()> {
    tx.prepare_cached(
        "DELETE FROM local_moves
         WHERE seq <= (SELECT min(stock_seen_seq, acked_through) FROM device WHERE id = 1)",
    )?
    .execute([])?;
    Ok(())
}

/// The server rejected an event: its moves never happened on the server's books.
pub(crate) fn drop_moves_of(tx: &Transaction, seq: u64) -> Result<()> {
    tx.prepare_cached("DELETE FROM local_moves WHERE seq = ?1")?
        .execute([seq as i64])?;
    Ok(())
}

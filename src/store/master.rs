//! Master data on the device: applying pulled changes, and the look-ups a scan needs.
//!
//! Look-ups are point queries on a primary key or index; lists are bounded by a LIMIT. Pulled
//! changes (a page, or a slice of one) are applied together with their new cursor in one
//! transaction, so a crash never leaves the cursor ahead of the data.

use laituri_protocol::{
    Change, ChangeRecord, EntityKind, InboundNotice, NoticeLine, NoticeStatus, Removed, Role,
};
use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::{Result, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantRow {
    pub id: String,
    pub name: String,
    pub min_shelf_life_days: u32,
    pub over_receipt_tolerance_pct: u32,
    /// Storage zones of the merchant, in order of preference.
    pub zones: Vec<String>,
    /// What becomes of returned goods, first match first.
    pub return_rules: Vec<laituri_protocol::ReturnRule>,
}

impl MerchantRow {
    fn from_row(r: &Row) -> rusqlite::Result<MerchantRow> {
        let zones: String = r.get("zones")?;
        Ok(MerchantRow {
            id: r.get("id")?,
            name: r.get("name")?,
            min_shelf_life_days: r.get("min_shelf_life_days")?,
            over_receipt_tolerance_pct: r.get("over_receipt_tolerance")?,
            zones: serde_json::from_str(&zones).unwrap_or_default(),
            return_rules: serde_json::from_str(&r.get::<_, String>("return_rules")?)
                .unwrap_or_default(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRow {
    pub id: String,
    pub name: String,
    pub badge: String,
    pub pin_hash: Option<String>,
    pub roles: Vec<String>,
    pub language: String,
}

impl OperatorRow {
    fn from_row(r: &Row) -> rusqlite::Result<OperatorRow> {
        let roles: String = r.get("roles")?;
        Ok(OperatorRow {
            id: r.get("id")?,
            name: r.get("name")?,
            badge: r.get("badge")?,
            pin_hash: r.get("pin_hash")?,
            roles: roles
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            language: r.get("language")?,
        })
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.iter().any(|r| r == role.as_str() || r == "lead")
    }
}

/// A product matched by one of its barcodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductMatch {
    pub product_id: String,
    pub merchant_id: String,
    pub name: String,
    pub pack_qty: u32,
    pub track_lot: bool,
    pub track_expiry: bool,
    pub track_serial: bool,
}

impl ProductMatch {
    fn from_row(r: &Row) -> rusqlite::Result<ProductMatch> {
        Ok(ProductMatch {
            product_id: r.get("id")?,
            merchant_id: r.get("merchant_id")?,
            name: r.get("name")?,
            pack_qty: r.get("pack_qty")?,
            track_lot: r.get("track_lot")?,
            track_expiry: r.get("track_expiry")?,
            track_serial: r.get("track_serial")?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRow {
    pub id: String,
    pub merchant_id: String,
    pub reference: String,
    pub supplier: String,
    pub open: bool,
    pub lines: Vec<NoticeLine>,
}

impl NoticeRow {
    fn from_row(r: &Row) -> rusqlite::Result<NoticeRow> {
        let lines: String = r.get("lines_json")?;
        let status: String = r.get("status")?;
        Ok(NoticeRow {
            id: r.get("id")?,
            merchant_id: r.get("merchant_id")?,
            reference: r.get("reference")?,
            supplier: r.get("supplier")?,
            open: status == "open",
            lines: serde_json::from_str(&lines).unwrap_or_default(),
        })
    }
}

impl Store {
    /// Applies one page of pulled changes and the cursor after it, in one transaction.
    ///
    /// A page from another epoch than the one the cursor belongs to (the server's database was
    /// restored from a backup) must not be applied on top: the caller starts again from cursor 0
    /// with [`Store::restart_pull`].
    pub fn apply_changes(&mut self, changes: &[ChangeRecord], next_cursor: u64) -> Result<()> {
        self.write(|tx| {
            for record in changes {
                apply_change(tx, &record.change)?;
            }
            tx.execute(
                "UPDATE device SET pull_cursor = ?1 WHERE id = 1",
                [next_cursor as i64],
            )?;
            Ok(())
        })
    }

    /// Splits a pulled page into slices of at most `slice` changes, each with the cursor to
    /// commit with it: the cursor of its last change, and the page's `next_cursor` for the last
    /// slice (or for an empty page). Applying the slices in order with [`Store::apply_changes`]
    /// leaves the same store and cursor as applying the page at once, but holds the write lock
    /// for a few hundred changes at a time, so a scan's commit never waits behind a whole page.
    ///
    /// A crash between slices is safe: the cursor committed with a slice is that of its last
    /// change, and the server sends the changes after a cursor, so the next pull starts with the
    /// first change not applied. Applying a change again would be harmless anyway: every change
    /// replaces a row with the server's state (stock as levels, never deltas).
    pub fn pull_slices(
        changes: &[ChangeRecord],
        next_cursor: u64,
        slice: usize,
    ) -> Vec<(&[ChangeRecord], u64)> {
        if changes.is_empty() {
            return vec![(changes, next_cursor)];
        }
        let mut out: Vec<(&[ChangeRecord], u64)> = changes
            .chunks(slice.max(1))
            .map(|c| (c, c[c.len() - 1].cursor.min(next_cursor)))
            .collect();
        if let Some(last) = out.last_mut() {
            last.1 = next_cursor;
        }
        out
    }

    /// Applies one slice of a pulled page (see [`Store::pull_slices`]) with its cursor, like
    /// [`Store::apply_changes`], but commits without waiting for the disk (`synchronous=NORMAL`
    /// for this one transaction; the connection is back to FULL after it). Safe for pulled data
    /// only: a slice lost to a power cut takes its cursor with it, so the next pull fetches it
    /// again, and the next FULL commit (any scan) makes it durable anyway, WAL frames being
    /// written in order. It spares the sync worker an fsync per slice, which on a busy disk
    /// made a pull in slices several times slower.
    pub fn apply_pulled_slice(&mut self, changes: &[ChangeRecord], cursor: u64) -> Result<()> {
        self.conn().pragma_update(None, "synchronous", "NORMAL")?;
        let applied = self.apply_changes(changes, cursor);
        self.conn().pragma_update(None, "synchronous", "FULL")?;
        applied
    }

    /// The epoch of the change log the pull cursor belongs to ('' before the first pull).
    pub fn pull_epoch(&self) -> Result<String> {
        Ok(self
            .conn()
            .query_row("SELECT pull_epoch FROM device WHERE id = 1", [], |r| {
                r.get(0)
            })?)
    }

    /// Records the epoch the cursor belongs to (the first pull, or a server that had none).
    pub fn set_pull_epoch(&mut self, epoch: &str) -> Result<()> {
        self.conn()
            .execute("UPDATE device SET pull_epoch = ?1 WHERE id = 1", [epoch])?;
        Ok(())
    }

    /// Starts pulling again from cursor 0 under `epoch`: pulled stock and tasks are dropped (the
    /// new log brings them again); master data is overwritten as it arrives. The device's own
    /// unconfirmed moves stay.
    pub fn restart_pull(&mut self, epoch: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute_batch(
                "DELETE FROM stock_pulled; DELETE FROM tasks; DELETE FROM pack_orders;
                 DELETE FROM pack_totes;",
            )?;
            tx.execute(
                "UPDATE device SET pull_cursor = 0, pull_epoch = ?1, caught_up_ms = NULL WHERE id = 1",
                [epoch],
            )?;
            Ok(())
        })
    }

    /// Records that the pull reached the end of the server's change log at `at_ms`.
    pub fn set_caught_up(&mut self, at_ms: i64) -> Result<()> {
        self.conn()
            .execute("UPDATE device SET caught_up_ms = ?1 WHERE id = 1", [at_ms])?;
        Ok(())
    }

    /// When the pull last reached the end of the server's change log (device clock), if ever:
    /// what the terminal shows of stock is at least this old, plus its own actions.
    pub fn caught_up_ms(&self) -> Result<Option<i64>> {
        Ok(self
            .conn()
            .query_row("SELECT caught_up_ms FROM device WHERE id = 1", [], |r| {
                r.get(0)
            })?)
    }

    pub fn pull_cursor(&self) -> Result<u64> {
        let c: i64 =
            self.conn()
                .query_row("SELECT pull_cursor FROM device WHERE id = 1", [], |r| {
                    r.get(0)
                })?;
        Ok(c as u64)
    }

    pub fn operator_by_badge(&self, badge: &str) -> Result<Option<OperatorRow>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT * FROM operators WHERE badge = ?1")?
            .query_row([badge], OperatorRow::from_row)
            .optional()?)
    }

    /// Wrong PINs of an operator on this device in a row, and when the last one was typed.
    pub fn pin_failures(&self, operator_id: &str) -> Result<(u32, i64)> {
        Ok(self
            .conn()
            .prepare_cached("SELECT failures, last_ms FROM pin_failures WHERE operator_id = ?1")?
            .query_row([operator_id], |r| Ok((r.get::<_, u32>(0)?, r.get(1)?)))
            .optional()?
            .unwrap_or((0, 0)))
    }

    /// One more wrong PIN; answers how many in a row now.
    pub fn record_pin_failure(&mut self, operator_id: &str, now_ms: i64) -> Result<u32> {
        self.write(|tx| {
            Ok(tx
                .prepare_cached(
                    "INSERT INTO pin_failures (operator_id, failures, last_ms) VALUES (?1, 1, ?2)
                     ON CONFLICT (operator_id) DO UPDATE SET
                         failures = failures + 1, last_ms = excluded.last_ms
                     RETURNING failures",
                )?
                .query_row(params![operator_id, now_ms], |r| r.get(0))?)
        })
    }

    /// A right PIN: the count starts again.
    pub fn clear_pin_failures(&mut self, operator_id: &str) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached("DELETE FROM pin_failures WHERE operator_id = ?1")?
                .execute([operator_id])?;
            Ok(())
        })
    }

    pub fn merchant(&self, id: &str) -> Result<Option<MerchantRow>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT * FROM merchants WHERE id = ?1")?
            .query_row([id], MerchantRow::from_row)
            .optional()?)
    }

    /// Merchants for the blind-receipt menu; a warehouse serves tens, the LIMIT keeps it bounded.
    pub fn merchants(&self, limit: u32) -> Result<Vec<MerchantRow>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT * FROM merchants ORDER BY name LIMIT ?1")?;
        let rows = stmt.query_map([limit], MerchantRow::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Products with this barcode, of any merchant (a GTIN can be shared by two merchants' goods).
    pub fn products_by_barcode(&self, code: &str) -> Result<Vec<ProductMatch>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT p.*, b.pack_qty FROM barcodes b JOIN products p ON p.id = b.product_id
             WHERE b.code = ?1 ORDER BY p.id LIMIT 16",
        )?;
        let rows = stmt.query_map([code], ProductMatch::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn product_name(&self, id: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT name FROM products WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?)
    }

    /// What a screen calls a merchant: its name, or its id when this device does not know it.
    pub fn merchant_label(&self, id: &str) -> Result<String> {
        Ok(self
            .merchant(id)?
            .map_or_else(|| id.to_string(), |m| m.name))
    }

    /// What a screen calls a product: its name, or its id when this device does not know it.
    pub fn product_label(&self, id: &str) -> Result<String> {
        Ok(self.product_name(id)?.unwrap_or_else(|| id.to_string()))
    }

    pub fn product_tracking(&self, id: &str) -> Result<Option<ProductMatch>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT p.*, 1 AS pack_qty FROM products p WHERE p.id = ?1")?
            .query_row([id], ProductMatch::from_row)
            .optional()?)
    }

    /// Open notices for the receiving menu, bounded.
    pub fn open_notices(&self, limit: u32) -> Result<Vec<NoticeRow>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT * FROM notices WHERE status = 'open'
             AND id NOT IN (SELECT notice_id FROM receipts WHERE notice_id IS NOT NULL AND status = 'closed')
             ORDER BY id LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], NoticeRow::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn notice(&self, id: &str) -> Result<Option<NoticeRow>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT * FROM notices WHERE id = ?1")?
            .query_row([id], NoticeRow::from_row)
            .optional()?)
    }

    /// The notice whose reference or one of whose SSCCs was scanned.
    pub fn notice_by_code(&self, code: &str) -> Result<Option<NoticeRow>> {
        let by_ref = self
            .conn()
            .prepare_cached("SELECT * FROM notices WHERE reference = ?1 OR id = ?1 LIMIT 1")?
            .query_row([code], NoticeRow::from_row)
            .optional()?;
        if by_ref.is_some() {
            return Ok(by_ref);
        }
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT n.* FROM notice_ssccs s JOIN notices n ON n.id = s.notice_id WHERE s.sscc = ?1",
            )?
            .query_row([code], NoticeRow::from_row)
            .optional()?)
    }

    /// The code of the first location of this kind in walking order, e.g. the quarantine area.
    pub fn first_location_of_kind(&self, kind: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT code FROM locations WHERE kind = ?1 ORDER BY walk_order, code LIMIT 1",
            )?
            .query_row([kind], |r| r.get(0))
            .optional()?)
    }
}

pub(crate) fn apply_change(tx: &Transaction, change: &Change) -> Result<()> {
    match change {
        Change::Merchant(m) => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO merchants (id, name, min_shelf_life_days, over_receipt_tolerance, zones,
                     return_rules)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                m.id,
                m.name,
                m.rules.min_shelf_life_days,
                m.rules.over_receipt_tolerance_pct,
                serde_json::to_string(&m.zones)?,
                serde_json::to_string(&m.rules.returns)?
            ])?;
        }
        Change::Product(p) => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO products (id, merchant_id, name, track_lot, track_expiry, track_serial,
                     weight_g, volume_ml, dims_mm)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                p.id,
                p.merchant_id,
                p.name,
                p.track_lot,
                p.track_expiry,
                p.track_serial,
                p.weight_g,
                p.volume_ml,
                p.dims_mm.map(|d| serde_json::json!(d).to_string())
            ])?;
            tx.prepare_cached("DELETE FROM barcodes WHERE product_id = ?1")?
                .execute([&p.id])?;
            let mut ins = tx.prepare_cached(
                "INSERT OR REPLACE INTO barcodes (code, product_id, merchant_id, pack_qty) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for b in &p.barcodes {
                ins.execute(params![b.code, p.id, p.merchant_id, b.pack_qty.max(1)])?;
            }
        }
        Change::Location(l) => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO locations (code, kind, zone, walk_order, capacity, box_types)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                l.code,
                l.kind.as_str(),
                l.zone,
                l.walk_order,
                l.capacity,
                serde_json::to_string(&l.box_types)?
            ])?;
        }
        Change::Operator(o) => {
            let roles: Vec<&str> = o.roles.iter().map(|r| r.as_str()).collect();
            // A badge moved to another operator: the old holder loses it.
            tx.prepare_cached("DELETE FROM operators WHERE badge = ?1 AND id <> ?2")?
                .execute([&o.badge, &o.id])?;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO operators (id, name, badge, pin_hash, roles, language)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                o.id,
                o.name,
                o.badge,
                o.pin_hash,
                roles.join(","),
                o.language
            ])?;
        }
        Change::InboundNotice(n) => apply_notice(tx, n)?,
        Change::Task(t) => super::tasks::apply_task(tx, t)?,
        Change::Stock(level) => super::stock::apply_stock_level(tx, level)?,
        Change::WorkPacket(p) => super::tasks::apply_packet(tx, p)?,
        Change::PackOrder(p) => super::packing::apply_pack_order(tx, p)?,
        Change::PendingCount(c) => super::counting::apply_pending_count(tx, c)?,
        Change::ReturnableOrder(o) => super::returns::apply_returnable(tx, o)?,
        Change::Removed(Removed { kind, id }) => {
            let sql = match kind {
                EntityKind::Merchant => "DELETE FROM merchants WHERE id = ?1",
                EntityKind::Product => "DELETE FROM products WHERE id = ?1",
                EntityKind::Location => "DELETE FROM locations WHERE code = ?1",
                EntityKind::Operator => "DELETE FROM operators WHERE id = ?1",
                EntityKind::InboundNotice => "DELETE FROM notices WHERE id = ?1",
                EntityKind::Task => "DELETE FROM tasks WHERE task_id = ?1",
                EntityKind::WorkPacket => {
                    super::tasks::lose_lease(tx, id, "released")?;
                    return Ok(());
                }
                EntityKind::PackOrder => return super::packing::remove_pack_order(tx, id),
                EntityKind::PendingCount => {
                    return super::counting::remove_pending_count(tx, id);
                }
                EntityKind::ReturnableOrder => return super::returns::remove_returnable(tx, id),
            };
            tx.prepare_cached(sql)?.execute([id])?;
            if *kind == EntityKind::Product {
                tx.prepare_cached("DELETE FROM barcodes WHERE product_id = ?1")?
                    .execute([id])?;
            }
        }
    }
    Ok(())
}

fn apply_notice(tx: &Transaction, n: &InboundNotice) -> Result<()> {
    let status = match n.status {
        NoticeStatus::Open => "open",
        NoticeStatus::Closed => "closed",
    };
    tx.prepare_cached(
        "INSERT OR REPLACE INTO notices (id, merchant_id, reference, supplier, status, lines_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        n.id,
        n.merchant_id,
        n.reference,
        n.supplier,
        status,
        serde_json::to_string(&n.lines).map_err(StoreError::from)?
    ])?;
    tx.prepare_cached("DELETE FROM notice_ssccs WHERE notice_id = ?1")?
        .execute([&n.id])?;
    let mut ins =
        tx.prepare_cached("INSERT OR REPLACE INTO notice_ssccs (sscc, notice_id) VALUES (?1, ?2)")?;
    for s in &n.ssccs {
        ins.execute([s, &n.id])?;
    }
    Ok(())
}

/// A location as the terminal knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationRow {
    pub code: String,
    pub kind: String,
    pub zone: String,
    pub walk_order: u32,
    pub capacity: Option<i64>,
}

impl LocationRow {
    fn from_row(r: &Row) -> rusqlite::Result<LocationRow> {
        Ok(LocationRow {
            code: r.get("code")?,
            kind: r.get("kind")?,
            zone: r.get("zone")?,
            walk_order: r.get("walk_order")?,
            capacity: r.get("capacity")?,
        })
    }
}

impl Store {
    pub fn location(&self, code: &str) -> Result<Option<LocationRow>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT * FROM locations WHERE code = ?1")?
            .query_row([code], LocationRow::from_row)
            .optional()?)
    }

    /// The first `limit` bins of a zone, in walking order, that hold nothing on this device's
    /// view of stock: no pulled level and no move of this device into them. One query that walks
    /// the zone's index and stops at `limit`, however full the zone is.
    pub fn empty_bins_of_zone(&self, zone: &str, limit: u32) -> Result<Vec<LocationRow>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT l.* FROM locations l
             WHERE l.zone = ?1 AND l.kind = 'bin'
               AND NOT EXISTS (SELECT 1 FROM stock_pulled s
                               WHERE s.location = l.code AND s.quantity <> 0)
               AND NOT EXISTS (SELECT 1 FROM local_moves m WHERE m.to_location = l.code)
             ORDER BY l.walk_order, l.code LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![zone, limit], LocationRow::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Bins of a zone in walking order, at most `limit`.
    pub fn bins_of_zone(&self, zone: &str, limit: u32) -> Result<Vec<LocationRow>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT * FROM locations WHERE zone = ?1 AND kind = 'bin' ORDER BY walk_order, code LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![zone, limit], LocationRow::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The merchant whose zones include `zone`, if any.
    pub fn zone_owner(&self, zone: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT m.id FROM merchants m, json_each(m.zones) z WHERE z.value = ?1 LIMIT 1",
            )?
            .query_row([zone], |r| r.get(0))
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use laituri_protocol::{
        GoodsCondition, Location, LocationKind, Merchant, Product, ProductBarcode, StockLevel,
    };

    use super::*;

    fn page() -> Vec<ChangeRecord> {
        let mut changes = vec![Change::Merchant(Merchant {
            id: "M1".into(),
            name: "Merchant".into(),
            rules: Default::default(),
            zones: vec!["Z1".into()],
        })];
        for i in 0..23 {
            changes.push(Change::Product(Product {
                dims_mm: None,
                kit: Vec::new(),
                volume_ml: None,
                weight_g: None,
                id: format!("P{i}"),
                merchant_id: "M1".into(),
                name: format!("Product {i}"),
                barcodes: vec![ProductBarcode {
                    code: format!("640{i:010}"),
                    pack_qty: 1,
                }],
                track_lot: false,
                track_expiry: false,
                track_serial: false,
            }));
            changes.push(Change::Location(Location {
                box_types: Vec::new(),
                aisle: None,
                bay: None,
                code: format!("B-{i:02}"),
                kind: LocationKind::Bin,
                zone: "Z1".into(),
                walk_order: i,
                capacity: Some(50),
            }));
            changes.push(Change::Stock(StockLevel {
                merchant_id: "M1".into(),
                product_id: format!("P{i}"),
                location: format!("B-{i:02}"),
                container: None,
                lot: None,
                expiry: None,
                condition: GoodsCondition::Good,
                quantity: i64::from(i) + 1,
                by_device: None,
                by_seq: None,
            }));
        }
        // A later change of the same product and a level dropped to zero, in the same page.
        changes.push(Change::Product(Product {
            dims_mm: None,
            kit: Vec::new(),
            volume_ml: None,
            weight_g: None,
            id: "P3".into(),
            merchant_id: "M1".into(),
            name: "Product 3, renamed".into(),
            barcodes: vec![],
            track_lot: false,
            track_expiry: false,
            track_serial: false,
        }));
        changes.push(Change::Stock(StockLevel {
            merchant_id: "M1".into(),
            product_id: "P4".into(),
            location: "B-04".into(),
            container: None,
            lot: None,
            expiry: None,
            condition: GoodsCondition::Good,
            quantity: 0,
            by_device: None,
            by_seq: None,
        }));
        changes
            .into_iter()
            .enumerate()
            .map(|(i, change)| ChangeRecord {
                cursor: 100 + 2 * i as u64,
                change,
            })
            .collect()
    }

    /// Every row of the tables a pull writes, as text, in a fixed order.
    fn dump(s: &Store) -> Vec<String> {
        let mut out = Vec::new();
        for (table, order) in [
            ("merchants", "id"),
            ("products", "id"),
            ("barcodes", "code"),
            ("locations", "code"),
            ("stock_pulled", "product_id, location"),
        ] {
            let mut stmt = s
                .conn()
                .prepare(&format!("SELECT * FROM {table} ORDER BY {order}"))
                .unwrap();
            let n = stmt.column_count();
            let rows = stmt
                .query_map([], |r| {
                    let cells: Vec<String> = (0..n)
                        .map(|i| match r.get_ref(i).unwrap() {
                            rusqlite::types::ValueRef::Text(t) => {
                                format!("{:?}", String::from_utf8_lossy(t))
                            }
                            v => format!("{v:?}"),
                        })
                        .collect();
                    Ok(format!("{table}: {}", cells.join(" | ")))
                })
                .unwrap();
            out.extend(rows.map(|r| r.unwrap()));
        }
        out
    }

    #[test]
    fn a_page_applied_in_slices_leaves_the_same_store_and_cursor() {
        let page = page();
        let next_cursor = 1_000;
        let mut whole = Store::open_in_memory().unwrap();
        whole.apply_changes(&page, next_cursor).unwrap();

        for slice in [1, 7, 50, page.len(), 10 * page.len()] {
            let mut sliced = Store::open_in_memory().unwrap();
            let slices = Store::pull_slices(&page, next_cursor, slice);
            assert_eq!(slices.len(), page.len().div_ceil(slice));
            let mut cursors = Vec::new();
            for (part, cursor) in slices {
                sliced.apply_changes(part, cursor).unwrap();
                assert_eq!(sliced.pull_cursor().unwrap(), cursor);
                cursors.push(cursor);
            }
            assert!(cursors.windows(2).all(|w| w[0] < w[1]), "slice {slice}");
            assert_eq!(sliced.pull_cursor().unwrap(), next_cursor, "slice {slice}");
            assert_eq!(dump(&sliced), dump(&whole), "slice {slice}");
        }
        assert_eq!(whole.pull_cursor().unwrap(), next_cursor);
        let rows = dump(&whole);
        assert!(rows.iter().any(|r| r.contains("Product 3, renamed")));
        assert!(
            !rows
                .iter()
                .any(|r| r.starts_with("stock_pulled") && r.contains("\"B-04\""))
        );
    }

    #[test]
    fn a_crash_between_slices_resumes_after_the_last_slice_committed() {
        let page = page();
        let next_cursor = 1_000;
        let mut whole = Store::open_in_memory().unwrap();
        whole.apply_changes(&page, next_cursor).unwrap();

        // The first two slices commit; then the terminal dies. The next pull asks for the changes
        // after the committed cursor, which the server answers with the rest of the log.
        let mut s = Store::open_in_memory().unwrap();
        for (part, cursor) in Store::pull_slices(&page, next_cursor, 10)
            .into_iter()
            .take(2)
        {
            s.apply_changes(part, cursor).unwrap();
        }
        let resumed = s.pull_cursor().unwrap();
        assert_eq!(resumed, page[19].cursor);
        let rest: Vec<ChangeRecord> = page
            .iter()
            .filter(|r| r.cursor > resumed)
            .cloned()
            .collect();
        assert_eq!(rest.len(), page.len() - 20);
        for (part, cursor) in Store::pull_slices(&rest, next_cursor, 10) {
            s.apply_changes(part, cursor).unwrap();
        }
        assert_eq!(dump(&s), dump(&whole));
        assert_eq!(s.pull_cursor().unwrap(), next_cursor);

        // Applying the whole page once more (a lost answer, pulled again) changes nothing.
        for (part, cursor) in Store::pull_slices(&page, next_cursor, 10) {
            s.apply_changes(part, cursor).unwrap();
        }
        assert_eq!(dump(&s), dump(&whole));
    }

    #[test]
    fn a_pulled_slice_leaves_the_connection_durable() {
        let page = page();
        let mut whole = Store::open_in_memory().unwrap();
        whole.apply_changes(&page, 1_000).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("t.sqlite3")).unwrap();
        for (part, cursor) in Store::pull_slices(&page, 1_000, 20) {
            s.apply_pulled_slice(part, cursor).unwrap();
            let sync: i64 = s
                .conn()
                .query_row("PRAGMA synchronous", [], |r| r.get(0))
                .unwrap();
            assert_eq!(sync, 2, "FULL again after the slice");
        }
        assert_eq!(dump(&s), dump(&whole));
        assert_eq!(s.pull_cursor().unwrap(), 1_000);
    }

    #[test]
    fn an_empty_page_still_moves_the_cursor() {
        let mut s = Store::open_in_memory().unwrap();
        let slices = Store::pull_slices(&[], 42, 200);
        assert_eq!(slices.len(), 1);
        for (part, cursor) in slices {
            s.apply_changes(part, cursor).unwrap();
        }
        assert_eq!(s.pull_cursor().unwrap(), 42);
    }
}

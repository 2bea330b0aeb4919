//! Returns on the device: the shipped orders a returns desk finds a return's order by (pulled
//! through the change log).
//!
//! A returnable order is the one place a customer's name is on a terminal. It is kept in its own
//! column (the stored JSON has no name), found by a point look-up or a bounded prefix search,
//! never logged, and deleted with `secure_delete` on (see [`super::Store::open`]): when the
//! server's removal arrives (the merchant erased the customer's data, or the order came back
//! whole), and when its `keep_until_ms` (the warehouse's retention) has passed, which needs no
//! server: [`Store::forget_expired_returnables`] runs after every sync round, and look-ups never
//! answer an expired order.

use laituri_protocol::ReturnableOrder;
use rusqlite::{Transaction, params};

use super::{Result, Store};

/// The most orders a search by name answers.
pub const NAME_MATCHES: usize = 20;

pub(crate) fn apply_returnable(tx: &Transaction, o: &ReturnableOrder) -> Result<()> {
    let id = o.order_id.to_string();
    let stored = ReturnableOrder {
        customer_name: None,
        ..o.clone()
    };
    tx.prepare_cached(
        "INSERT OR REPLACE INTO returnable_orders (order_id, merchant_id, reference,
             customer_name, name_key, keep_until_ms, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        id,
        o.merchant_id,
        o.reference,
        o.customer_name,
        o.customer_name.as_deref().map(name_key),
        o.keep_until_ms,
        serde_json::to_string(&stored)?
    ])?;
    tx.prepare_cached("DELETE FROM returnable_tracking WHERE order_id = ?1")?
        .execute([&id])?;
    let mut ins = tx.prepare_cached(
        "INSERT OR IGNORE INTO returnable_tracking (code, order_id) VALUES (?1, ?2)",
    )?;
    for code in &o.tracking {
        ins.execute(params![code, id])?;
    }
    Ok(())
}

pub(crate) fn remove_returnable(tx: &Transaction, order_id: &str) -> Result<()> {
    tx.prepare_cached("DELETE FROM returnable_tracking WHERE order_id = ?1")?
        .execute([order_id])?;
    tx.prepare_cached("DELETE FROM returnable_orders WHERE order_id = ?1")?
        .execute([order_id])?;
    Ok(())
}

/// How a name is compared: trimmed, lower-cased.
fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

fn from_stored(data: &str, name: Option<String>) -> Result<ReturnableOrder> {
    let mut o: ReturnableOrder = serde_json::from_str(data)?;
    o.customer_name = name;
    Ok(o)
}

impl Store {
    /// The returnable order a scanned or typed `code` names, at `now_ms`: a tracking number (a
    /// return label, a parcel's code) or the order number.
    pub fn returnable_by_code(&self, code: &str, now_ms: i64) -> Result<Option<ReturnableOrder>> {
        let code = code.trim();
        let mut stmt = self.conn().prepare_cached(
            "SELECT o.data, o.customer_name FROM returnable_orders o
             WHERE o.keep_until_ms > ?2
               AND (o.order_id IN (SELECT order_id FROM returnable_tracking WHERE code = ?1)
                    OR o.reference = ?1)
             ORDER BY o.keep_until_ms DESC LIMIT 1",
        )?;
        let mut rows = stmt.query(params![code, now_ms])?;
        match rows.next()? {
            Some(r) => Ok(Some(from_stored(&r.get::<_, String>(0)?, r.get(1)?)?)),
            None => Ok(None),
        }
    }

    /// Returnable orders whose customer's name starts with `name` (without case), newest
    /// first, at most [`NAME_MATCHES`].
    pub fn returnables_by_name(&self, name: &str, now_ms: i64) -> Result<Vec<ReturnableOrder>> {
        let key = name_key(name);
        if key.is_empty() {
            return Ok(Vec::new());
        }
        // A prefix range on the index: [key, key + U+10FFFF).
        let upper = format!("{key}\u{10FFFF}");
        let mut stmt = self.conn().prepare_cached(
            "SELECT data, customer_name FROM returnable_orders
             WHERE name_key >= ?1 AND name_key < ?2 AND keep_until_ms > ?3
             ORDER BY keep_until_ms DESC LIMIT ?4",
        )?;
        let rows = stmt.query_map(params![key, upper, now_ms, NAME_MATCHES as i64], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (data, name) = row?;
            out.push(from_stored(&data, name)?);
        }
        Ok(out)
    }

    /// Deletes the returnable orders whose retention ended by `now_ms`; answers how many.
    pub fn forget_expired_returnables(&mut self, now_ms: i64) -> Result<usize> {
        self.write(|tx| {
            tx.prepare_cached(
                "DELETE FROM returnable_tracking WHERE order_id IN
                     (SELECT order_id FROM returnable_orders WHERE keep_until_ms <= ?1)",
            )?
            .execute([now_ms])?;
            Ok(tx
                .prepare_cached("DELETE FROM returnable_orders WHERE keep_until_ms <= ?1")?
                .execute([now_ms])?)
        })
    }
}

#[cfg(test)]
mod tests {
    use laituri_protocol::{Change, ChangeRecord, EntityKind, OrderLine, Removed, ReturnableOrder};
    use uuid::Uuid;

    use super::super::Store;

    const DAY: i64 = 86_400_000;
    const NOW: i64 = 1_773_563_400_000;

    fn returnable(reference: &str, name: &str, tracking: &str) -> ReturnableOrder {
        ReturnableOrder {
            order_id: Uuid::now_v7(),
            merchant_id: "M1".into(),
            reference: reference.into(),
            customer_name: Some(name.into()),
            tracking: vec![tracking.into()],
            lines: vec![OrderLine {
                product_id: "P1".into(),
                quantity: 2,
            }],
            shipped_at_ms: NOW,
            keep_until_ms: NOW + 30 * DAY,
        }
    }

    fn pull(store: &mut Store, changes: Vec<Change>) {
        let base = store.pull_cursor().unwrap();
        let records: Vec<ChangeRecord> = changes
            .into_iter()
            .enumerate()
            .map(|(i, change)| ChangeRecord {
                cursor: base + i as u64 + 1,
                change,
            })
            .collect();
        let cursor = base + records.len() as u64;
        store.apply_pulled_slice(&records, cursor).unwrap();
    }

    fn names_on_file(store: &Store) -> i64 {
        store
            .conn()
            .query_row(
                "SELECT count(*) FROM returnable_orders WHERE customer_name IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .unwrap()
    }

    #[test]
    fn an_order_is_found_by_tracking_code_reference_or_name() {
        let mut store = Store::open_in_memory().unwrap();
        let a = returnable("K-1", "Matti Meikäläinen", "JJFI0001");
        let b = returnable("K-2", "Maija Mehiläinen", "JJFI0002");
        pull(
            &mut store,
            vec![
                Change::ReturnableOrder(a.clone()),
                Change::ReturnableOrder(b.clone()),
            ],
        );
        assert_eq!(
            store.returnable_by_code("JJFI0001", NOW).unwrap(),
            Some(a.clone())
        );
        assert_eq!(
            store.returnable_by_code(" K-2 ", NOW).unwrap(),
            Some(b.clone())
        );
        assert_eq!(store.returnable_by_code("K-3", NOW).unwrap(), None);
        let by_name = store.returnables_by_name("maija", NOW).unwrap();
        assert_eq!(by_name, vec![b.clone()]);
        assert_eq!(store.returnables_by_name("ma", NOW).unwrap().len(), 2);
        assert!(store.returnables_by_name("  ", NOW).unwrap().is_empty());
        // The stored JSON holds no name: only its column does.
        let data: String = store
            .conn()
            .query_row(
                "SELECT data FROM returnable_orders WHERE reference = 'K-1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!data.contains("Matti"), "{data}");
    }

    #[test]
    fn an_erasure_removes_the_order_and_its_name_from_the_device() {
        let mut store = Store::open_in_memory().unwrap();
        let a = returnable("K-1", "Matti Meikäläinen", "JJFI0001");
        pull(&mut store, vec![Change::ReturnableOrder(a.clone())]);
        assert_eq!(names_on_file(&store), 1);
        pull(
            &mut store,
            vec![Change::Removed(Removed {
                kind: EntityKind::ReturnableOrder,
                id: a.order_id.to_string(),
            })],
        );
        assert_eq!(store.returnable_by_code("JJFI0001", NOW).unwrap(), None);
        assert!(store.returnables_by_name("matti", NOW).unwrap().is_empty());
        assert_eq!(names_on_file(&store), 0);
        let tracking: i64 = store
            .conn()
            .query_row("SELECT count(*) FROM returnable_tracking", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tracking, 0);
    }

    #[test]
    fn retention_drops_the_order_with_or_without_a_server() {
        let mut store = Store::open_in_memory().unwrap();
        let old = ReturnableOrder {
            keep_until_ms: NOW + DAY,
            ..returnable("K-1", "Matti Meikäläinen", "JJFI0001")
        };
        let new = returnable("K-2", "Maija Mehiläinen", "JJFI0002");
        pull(
            &mut store,
            vec![
                Change::ReturnableOrder(old.clone()),
                Change::ReturnableOrder(new.clone()),
            ],
        );
        let later = NOW + 2 * DAY;
        // Past its retention a look-up no longer finds it, before anything is deleted.
        assert_eq!(store.returnable_by_code("JJFI0001", later).unwrap(), None);
        assert!(
            store
                .returnables_by_name("matti", later)
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.forget_expired_returnables(later).unwrap(), 1);
        assert_eq!(names_on_file(&store), 1);
        assert_eq!(
            store.returnable_by_code("JJFI0002", later).unwrap(),
            Some(new)
        );
        assert_eq!(store.forget_expired_returnables(later).unwrap(), 0);
    }
}

//! Counts on the device: the counts waiting for a shift lead's approval, as pulled, and a lead's
//! decision of one, recorded as its event with the count taken off the list in one transaction.
//! Look-ups are bounded by a LIMIT.

use laituri_protocol::{EventBody, PendingCount};
use rusqlite::{Transaction, params};
use uuid::Uuid;

use super::{Result, Store};

/// How many pending counts a lead's list shows at most.
pub const PENDING_LISTED: u32 = 50;

pub(crate) fn apply_pending_count(tx: &Transaction, c: &PendingCount) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO pending_counts (count_id, location, data) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![
        c.count_id.to_string(),
        c.location,
        serde_json::to_string(c)?
    ])?;
    Ok(())
}

pub(crate) fn remove_pending_count(tx: &Transaction, count_id: &str) -> Result<()> {
    tx.prepare_cached("DELETE FROM pending_counts WHERE count_id = ?1")?
        .execute([count_id])?;
    Ok(())
}

impl Store {
    /// The counts waiting for a lead, by location.
    pub fn pending_counts(&self) -> Result<Vec<PendingCount>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT data FROM pending_counts ORDER BY location, count_id LIMIT ?1",
        )?;
        let rows = stmt.query_map([PENDING_LISTED], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for data in rows {
            out.push(serde_json::from_str(&data?)?);
        }
        Ok(out)
    }

    /// Records a lead's decision of a pending count and takes it off this device's list, in one
    /// transaction. Answers false when the count is not (or no longer) on the list.
    pub fn decide_count(
        &mut self,
        operator_id: &str,
        count_id: Uuid,
        approve: bool,
    ) -> Result<bool> {
        self.write(|tx| {
            let gone = tx
                .prepare_cached("DELETE FROM pending_counts WHERE count_id = ?1")?
                .execute([count_id.to_string()])?;
            if gone == 0 {
                return Ok(false);
            }
            super::outbox::append(
                tx,
                operator_id,
                &EventBody::CountDecided { count_id, approve },
            )?;
            Ok(true)
        })
    }
}

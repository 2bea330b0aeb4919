//! The local view of receiving, always written with its outbox events in the same transaction.
//!
//! A receipt's rows are the device's own record of what it received; the outbox carries the same
//! facts to the server. Writing both at once is what makes the success beep a promise.

use laituri_domain::receiving::{Condition, Fact};
use laituri_protocol::{EventBody, GoodsCondition, ReceiptLineSummary};
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use super::outbox::{LineState, append};
use super::{Result, Store, StoreError};

/// A receipt left open on this device (after a restart, receiving resumes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenReceipt {
    pub receipt_id: Uuid,
    pub merchant_id: String,
    pub notice_id: Option<String>,
    pub dock: String,
    pub operator_id: String,
}

/// One recorded receipt line, with where its event stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptLineRow {
    pub seq: u64,
    pub product_id: String,
    /// The product's name, or its id when master data does not know it (yet).
    pub product_name: String,
    pub quantity: i64,
    pub lot: Option<String>,
    pub expiry: Option<String>,
    pub container: String,
    pub condition: String,
    pub state: LineState,
}

pub fn condition_to_wire(c: Condition) -> GoodsCondition {
    match c {
        Condition::Good => GoodsCondition::Good,
        Condition::Damaged => GoodsCondition::Damaged,
        Condition::Expired => GoodsCondition::Expired,
        Condition::ShortShelfLife => GoodsCondition::ShortShelfLife,
    }
}

impl Store {
    /// Starts a receipt: the local row and the `receipt_opened` event, in one transaction.
    pub fn open_receipt(
        &mut self,
        operator_id: &str,
        merchant_id: &str,
        notice_id: Option<&str>,
        dock: &str,
    ) -> Result<(Uuid, u64)> {
        let receipt_id = Uuid::now_v7();
        let seq = self.write(|tx| {
            let seq = append(
                tx,
                operator_id,
                &EventBody::ReceiptOpened {
                    receipt_id,
                    merchant_id: merchant_id.to_string(),
                    notice_id: notice_id.map(str::to_string),
                    dock: dock.to_string(),
                },
            )?;
            tx.prepare_cached(
                "INSERT INTO receipts (receipt_id, merchant_id, notice_id, dock, operator_id, status, opened_seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'open', ?6)",
            )?
            .execute(params![
                receipt_id.to_string(),
                merchant_id,
                notice_id,
                dock,
                operator_id,
                seq as i64
            ])?;
            Ok(seq)
        })?;
        Ok((receipt_id, seq))
    }

    /// Records the facts of one receiving step, in order, in one transaction. Returns the seq of
    /// each fact's event.
    pub fn record_receiving(
        &mut self,
        receipt: &OpenReceipt,
        operator_id: &str,
        facts: &[Fact],
    ) -> Result<Vec<u64>> {
        self.write(|tx| {
            let mut seqs = Vec::with_capacity(facts.len());
            for fact in facts {
                let seq = match fact {
                    Fact::Received {
                        product_id,
                        quantity,
                        lot,
                        expiry,
                        serial,
                        container,
                        location,
                        condition,
                        barcode,
                    } => {
                        let wire = condition_to_wire(*condition);
                        let expiry = expiry.map(|d| d.to_string());
                        let seq = append(
                            tx,
                            operator_id,
                            &EventBody::GoodsReceived {
                                receipt_id: receipt.receipt_id,
                                merchant_id: receipt.merchant_id.clone(),
                                product_id: product_id.clone(),
                                quantity: *quantity,
                                lot: lot.clone(),
                                expiry: expiry.clone(),
                                serial: serial.clone(),
                                container: container.clone(),
                                location: location.clone(),
                                condition: wire,
                                barcode: barcode.clone(),
                            },
                        )?;
                        tx.prepare_cached(
                            "INSERT INTO receipt_lines (seq, receipt_id, product_id, quantity, lot, expiry, serial, container, location, condition)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                        )?
                        .execute(params![
                            seq as i64,
                            receipt.receipt_id.to_string(),
                            product_id,
                            quantity,
                            lot,
                            expiry,
                            serial,
                            container,
                            location,
                            wire.as_str()
                        ])?;
                        seq
                    }
                    Fact::UnknownBarcode { raw } => {
                        // A scan longer than any product's barcode (a shipping label with a
                        // name and an address) is recorded only as a hash.
                        let raw = laituri_protocol::recorded_scan(raw);
                        let seq = append(
                            tx,
                            operator_id,
                            &EventBody::UnknownBarcode {
                                receipt_id: receipt.receipt_id,
                                merchant_id: receipt.merchant_id.clone(),
                                raw: raw.clone(),
                            },
                        )?;
                        Store::add_exception_tx(
                            tx,
                            Some(seq),
                            "unknown_barcode",
                            // The code as scanned; the screen says what it means, in the
                            // language of whoever looks.
                            &raw,
                        )?;
                        seq
                    }
                    Fact::Closed { lines } => {
                        let seq = append(
                            tx,
                            operator_id,
                            &EventBody::ReceiptClosed {
                                receipt_id: receipt.receipt_id,
                                notice_id: receipt.notice_id.clone(),
                                lines: lines
                                    .iter()
                                    .map(|l| ReceiptLineSummary {
                                        product_id: l.product_id.clone(),
                                        expected: l.expected,
                                        received: l.received,
                                        quarantined: l.quarantined,
                                    })
                                    .collect(),
                            },
                        )?;
                        tx.prepare_cached(
                            "UPDATE receipts SET status = 'closed' WHERE receipt_id = ?1",
                        )?
                        .execute([receipt.receipt_id.to_string()])?;
                        seq
                    }
                };
                seqs.push(seq);
            }
            Ok(seqs)
        })
    }

    /// The most recent receipt this device left open, if any.
    pub fn last_open_receipt(&self) -> Result<Option<OpenReceipt>> {
        let row = self
            .conn()
            .prepare_cached(
                "SELECT receipt_id, merchant_id, notice_id, dock, operator_id FROM receipts
                 WHERE status = 'open' ORDER BY opened_seq DESC LIMIT 1",
            )?
            .query_row([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                ))
            })
            .optional()?;
        row.map(|(id, merchant_id, notice_id, dock, operator_id)| {
            Ok(OpenReceipt {
                receipt_id: Uuid::parse_str(&id).map_err(|e| StoreError::Data(e.to_string()))?,
                merchant_id,
                notice_id,
                dock,
                operator_id,
            })
        })
        .transpose()
    }

    /// Units recorded per product and condition for a receipt (to resume it after a restart).
    pub fn receipt_totals(&self, receipt_id: Uuid) -> Result<Vec<(String, String, i64)>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT product_id, condition, sum(quantity) FROM receipt_lines
             WHERE receipt_id = ?1 GROUP BY product_id, condition ORDER BY min(seq)",
        )?;
        let rows = stmt.query_map([receipt_id.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The container the last goods of a receipt went into.
    pub fn receipt_last_container(&self, receipt_id: Uuid) -> Result<Option<String>> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT container FROM receipt_lines WHERE receipt_id = ?1 AND condition = 'good'
                 ORDER BY seq DESC LIMIT 1",
            )?
            .query_row([receipt_id.to_string()], |r| r.get(0))
            .optional()?)
    }

    /// The lines recorded for a receipt, newest first, at most `limit`: goods, and unknown
    /// barcodes (condition `unknown`, the raw code as the name, no quantity), each with where
    /// its event stands.
    pub fn recent_receipt_lines(
        &self,
        receipt_id: Uuid,
        limit: u32,
    ) -> Result<Vec<ReceiptLineRow>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT seq, product_id, quantity, lot, expiry, container, condition, state, name FROM (
                 SELECT l.seq, l.product_id, l.quantity, l.lot, l.expiry, l.container, l.condition,
                        o.state, coalesce(p.name, l.product_id) AS name
                 FROM receipt_lines l JOIN outbox o ON o.seq = l.seq
                 LEFT JOIN products p ON p.id = l.product_id
                 WHERE l.receipt_id = ?1
                 UNION ALL
                 SELECT o.seq, '', 0, NULL, NULL, '', 'unknown', o.state,
                        json_extract(o.payload, '$.raw')
                 FROM outbox o
                 WHERE o.type = 'unknown_barcode' AND json_extract(o.payload, '$.receipt_id') = ?1
             ) ORDER BY seq DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![receipt_id.to_string(), limit], |r| {
            let state: String = r.get(7)?;
            Ok(ReceiptLineRow {
                seq: r.get::<_, i64>(0)? as u64,
                product_id: r.get(1)?,
                product_name: r.get(8)?,
                quantity: r.get(2)?,
                lot: r.get(3)?,
                expiry: r.get(4)?,
                container: r.get(5)?,
                condition: r.get(6)?,
                state: LineState::from_db(&state),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use laituri_domain::calendar::Date;

    fn received(qty: i64) -> Fact {
        Fact::Received {
            product_id: "P".into(),
            quantity: qty,
            lot: Some("L".into()),
            expiry: Date::new(2027, 1, 1),
            serial: None,
            container: "T-1".into(),
            location: "DOCK-1".into(),
            condition: Condition::Good,
            barcode: "raw".into(),
        }
    }

    fn open(store: &mut Store) -> OpenReceipt {
        let (receipt_id, _) = store.open_receipt("op", "M", None, "DOCK-1").unwrap();
        store
            .last_open_receipt()
            .unwrap()
            .filter(|r| r.receipt_id == receipt_id)
            .unwrap()
    }

    #[test]
    fn view_and_outbox_are_written_together_with_gapless_seqs() {
        let mut s = Store::open_in_memory().unwrap();
        let r = open(&mut s);
        let seqs = s
            .record_receiving(
                &r,
                "op",
                &[received(2), Fact::UnknownBarcode { raw: "??".into() }],
            )
            .unwrap();
        assert_eq!(seqs, vec![2, 3]);
        let lines = s.recent_receipt_lines(r.receipt_id, 100).unwrap();
        assert_eq!(lines.len(), 2, "the goods and the unknown barcode");
        assert_eq!((lines[0].seq, lines[0].condition.as_str()), (3, "unknown"));
        assert_eq!(lines[0].product_name, "??", "the raw code stands in");
        assert_eq!(lines[1].seq, 2);
        assert_eq!(
            lines[1].product_name, "P",
            "no master data: the id stands in"
        );
        assert_eq!(lines[1].state, LineState::Saved);
        let batch = s.pending_batch(100).unwrap();
        let types: Vec<_> = batch.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(
            types,
            ["receipt_opened", "goods_received", "unknown_barcode"]
        );
        assert_eq!(s.counts().unwrap().pending(), 3);
        assert_eq!(s.counts().unwrap().open_exceptions, 1);
    }

    #[test]
    fn a_shipping_label_scanned_at_the_dock_is_recorded_only_as_a_hash() {
        let mut s = Store::open_in_memory().unwrap();
        let r = open(&mut s);
        let label = format!(
            "Matti Meikäläinen|Esimerkkikatu 12|00100 Helsinki|{}",
            "0".repeat(90)
        );
        s.record_receiving(&r, "op", &[Fact::UnknownBarcode { raw: label }])
            .unwrap();
        let batch = s.pending_batch(100).unwrap();
        let sent = serde_json::to_string(&batch).unwrap();
        assert!(!sent.contains("Meikäläinen"), "{sent}");
        let exceptions = s.open_exceptions(10).unwrap();
        assert!(
            exceptions[0].message.starts_with("sha256:"),
            "{:?}",
            exceptions[0]
        );
        let lines = s.recent_receipt_lines(r.receipt_id, 10).unwrap();
        assert!(!lines[0].product_name.contains("Meikäläinen"));
    }

    #[test]
    fn a_failing_step_writes_neither_view_nor_outbox() {
        let mut s = Store::open_in_memory().unwrap();
        let r = open(&mut s);
        // Make the outbox insert of the second fact fail: a trigger stands in for a full disk.
        s.conn()
            .execute_batch(
                "CREATE TRIGGER fail AFTER INSERT ON outbox WHEN NEW.seq = 3
                 BEGIN SELECT RAISE(ABORT, 'disk went away'); END;",
            )
            .unwrap();
        let err = s.record_receiving(&r, "op", &[received(1), received(1)]);
        assert!(err.is_err());
        assert!(
            s.recent_receipt_lines(r.receipt_id, 100)
                .unwrap()
                .is_empty()
        );
        assert_eq!(s.counts().unwrap().last_seq, 1);
        assert_eq!(s.pending_batch(100).unwrap().len(), 1);
    }

    #[test]
    fn push_results_mark_lines_and_turn_rejections_into_exceptions() {
        let mut s = Store::open_in_memory().unwrap();
        let r = open(&mut s);
        s.record_receiving(&r, "op", &[received(1), received(1)])
            .unwrap();
        let batch = s.pending_batch(10).unwrap();
        let results: Vec<_> = batch
            .iter()
            .map(|e| laituri_protocol::EventResult {
                seq: e.seq,
                event_id: e.event_id,
                outcome: if e.seq == 3 {
                    laituri_protocol::EventOutcome::Rejected {
                        code: "unknown_location".into(),
                        reason: "no such location".into(),
                    }
                } else {
                    laituri_protocol::EventOutcome::Applied
                },
            })
            .collect();
        s.record_push_results(&results, 3).unwrap();
        // The same answer again (a retried push) changes nothing more.
        s.record_push_results(&results, 3).unwrap();
        let states: Vec<_> = s
            .recent_receipt_lines(r.receipt_id, 10)
            .unwrap()
            .iter()
            .map(|l| l.state)
            .collect();
        assert_eq!(states, vec![LineState::Rejected, LineState::Confirmed]);
        let c = s.counts().unwrap();
        assert_eq!((c.pending(), c.open_exceptions), (0, 1));
        assert!(s.pending_batch(10).unwrap().is_empty());
    }
}

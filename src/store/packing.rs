//! Packing on the device: orders ready to pack (pulled), the open packing job's journal, and
//! the shipments this station finished with their parcels' labels.
//!
//! Why a journal of its own and not the outbox: the packing facts that change a job but tell
//! the server nothing (units into the open parcel, units taken back out, checklist taps) are no
//! events of the protocol, and making them events would send the server every scan of a packer
//! for bookkeeping it does not keep. So a step's journal facts are written in the same
//! transaction as its events (a closed parcel, the finish): a job resumed after a crash replays
//! exactly what was beeped, and nothing else. The journal of an order is deleted when its job
//! finishes (the events carry what the server needs).
//!
//! Labels carry the customer's name and address (personal data): their ZPL and PNG are kept
//! only until the label is printed, or shown on screen and confirmed by the packer, then set to
//! NULL with `secure_delete` on (see [`super::Store::open`]), leaving the tracking number. A
//! reprint asks the server again. Look-ups are point queries or bounded by a LIMIT.

use laituri_protocol::{BoxType, PackOrder, ShipmentLabels};
use rusqlite::{OptionalExtension, Transaction, params};
use uuid::Uuid;

use super::{OpenJob, Result, Store, StoreError, now_ms};

/// A product's measures as the carton suggestion and the weight estimate read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductMeasures {
    pub name: String,
    pub weight_g: Option<u32>,
    pub volume_ml: Option<u32>,
    pub dims_mm: Option<[u32; 3]>,
}

/// Where a parcel's label stands, for the station's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelState {
    /// The server has not given the label yet (offline, or the packing not heard yet).
    Awaiting,
    /// The server refused the labels: a lead must fix the order. Its code and reason.
    Refused {
        code: String,
        reason: String,
    },
    /// Arrived, not printed (nor shown) yet.
    New,
    Printed,
    /// The last print failed: why (a [`crate::station`] code) and at which printer.
    Failed {
        code: String,
        printer: String,
    },
    /// Shown on screen (no printer) and confirmed by the packer.
    Handled,
}

/// One parcel this station packed, with its label's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelRow {
    pub order_id: String,
    pub reference: String,
    pub number: u32,
    pub tracking_number: Option<String>,
    pub state: LabelState,
    /// The label's picture is still on the device (to show it).
    pub has_png: bool,
}

/// A label waiting for the printer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelToPrint {
    pub order_id: String,
    pub number: u32,
    pub tracking_number: String,
    pub zpl: String,
}

pub(crate) fn apply_pack_order(tx: &Transaction, p: &PackOrder) -> Result<()> {
    let id = p.order_id.to_string();
    tx.prepare_cached(
        "INSERT OR REPLACE INTO pack_orders (order_id, reference, merchant_id, data)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        id,
        p.reference,
        p.merchant_id,
        serde_json::to_string(p)?
    ])?;
    tx.prepare_cached("DELETE FROM pack_totes WHERE order_id = ?1")?
        .execute([&id])?;
    let mut ins =
        tx.prepare_cached("INSERT OR IGNORE INTO pack_totes (tote, order_id) VALUES (?1, ?2)")?;
    for tote in p.totes() {
        ins.execute([tote, id.as_str()])?;
    }
    Ok(())
}

pub(crate) fn remove_pack_order(tx: &Transaction, order_id: &str) -> Result<()> {
    tx.prepare_cached("DELETE FROM pack_orders WHERE order_id = ?1")?
        .execute([order_id])?;
    tx.prepare_cached("DELETE FROM pack_totes WHERE order_id = ?1")?
        .execute([order_id])?;
    Ok(())
}

fn pack_order_of(data: String) -> rusqlite::Result<PackOrder> {
    serde_json::from_str(&data).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

impl Store {
    /// The order ready to pack with this id.
    pub fn pack_order(&self, order_id: &str) -> Result<Option<PackOrder>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT data FROM pack_orders WHERE order_id = ?1")?
            .query_row([order_id], |r| pack_order_of(r.get(0)?))
            .optional()?)
    }

    /// The orders ready to pack whose goods are in `tote` (one, as a rule).
    pub fn pack_orders_in_tote(&self, tote: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT order_id FROM pack_totes WHERE tote = ?1 LIMIT 8")?;
        let rows = stmt.query_map([tote], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The order ready to pack with this reference (as the packer reads it off a paper).
    pub fn pack_order_by_reference(&self, reference: &str) -> Result<Option<PackOrder>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT data FROM pack_orders WHERE reference = ?1 LIMIT 1")?
            .query_row([reference], |r| pack_order_of(r.get(0)?))
            .optional()?)
    }

    /// Orders waiting at packing that this station has not finished, oldest reference first.
    pub fn pack_orders_waiting(&self, limit: u32) -> Result<Vec<PackOrder>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT data FROM pack_orders p
             WHERE NOT EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = p.order_id)
             ORDER BY reference LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| pack_order_of(r.get(0)?))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Whether this station finished packing the order.
    pub fn packed_here(&self, order_id: &str) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached("SELECT 1 FROM shipments WHERE order_id = ?1")?
            .query_row([order_id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// The shipping boxes a packing location stocks.
    pub fn box_types(&self, location: &str) -> Result<Vec<BoxType>> {
        let json: Option<String> = self
            .conn()
            .prepare_cached("SELECT box_types FROM locations WHERE code = ?1")?
            .query_row([location], |r| r.get(0))
            .optional()?;
        Ok(json
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default())
    }

    pub fn product_measures(&self, id: &str) -> Result<Option<ProductMeasures>> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT name, weight_g, volume_ml, dims_mm FROM products WHERE id = ?1",
            )?
            .query_row([id], |r| {
                let dims: Option<String> = r.get(3)?;
                Ok(ProductMeasures {
                    name: r.get(0)?,
                    weight_g: r.get(1)?,
                    volume_ml: r.get(2)?,
                    dims_mm: dims.and_then(|d| serde_json::from_str(&d).ok()),
                })
            })
            .optional()?)
    }

    /// The journal of the packing job of `order_id`, in the order written.
    pub fn pack_journal(&self, order_id: &str) -> Result<Vec<serde_json::Value>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT fact FROM pack_journal WHERE order_id = ?1 ORDER BY idx")?;
        let rows = stmt.query_map([order_id], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(serde_json::from_str(&row?)?);
        }
        Ok(out)
    }

    /// Starts a packing job: the open-job record, and a journal begun afresh.
    pub fn begin_packing(&mut self, order_id: &str, job: &OpenJob) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached("DELETE FROM pack_journal WHERE order_id = ?1")?
                .execute([order_id])?;
            Store::set_open_job_tx(tx, Some(job))
        })
    }

    /// One packing step, in one transaction: its journal facts, its events, and with
    /// `finished` (the parcels) the end of the job: the journal goes, the open job closes and
    /// the order waits for its labels.
    pub fn record_packing(
        &mut self,
        operator_id: &str,
        order: (&str, &str),
        journal: &[serde_json::Value],
        bodies: &[laituri_protocol::EventBody],
        finished: Option<u32>,
    ) -> Result<()> {
        let (order_id, reference) = order;
        self.write(|tx| {
            let next: i64 = tx
                .prepare_cached(
                    "SELECT coalesce(max(idx), 0) + 1 FROM pack_journal WHERE order_id = ?1",
                )?
                .query_row([order_id], |r| r.get(0))?;
            let mut ins = tx.prepare_cached(
                "INSERT INTO pack_journal (order_id, idx, fact) VALUES (?1, ?2, ?3)",
            )?;
            for (i, fact) in journal.iter().enumerate() {
                ins.execute(params![order_id, next + i as i64, serde_json::to_string(fact)?])?;
            }
            for body in bodies {
                super::outbox::append(tx, operator_id, body)?;
            }
            if let Some(parcels) = finished {
                tx.prepare_cached("DELETE FROM pack_journal WHERE order_id = ?1")?
                    .execute([order_id])?;
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO shipments (order_id, reference, parcels, finished_ms, state, ask)
                     VALUES (?1, ?2, ?3, ?4, 'awaiting', 1)",
                )?
                .execute(params![order_id, reference, parcels, now_ms()])?;
                Store::set_open_job_tx(tx, None)?;
            }
            Ok(())
        })
    }

    /// Orders whose labels the sync worker asks the server for, oldest first.
    pub fn shipments_to_ask(&self, limit: u32) -> Result<Vec<Uuid>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT order_id FROM shipments WHERE ask = 1 ORDER BY finished_ms LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            let id = row?;
            out.push(Uuid::parse_str(&id).map_err(|e| StoreError::Data(e.to_string()))?);
        }
        Ok(out)
    }

    /// The server gave the labels: new ones are kept to print (or show); a label asked for
    /// again by a reprint replaces what was left of it; the others stay as they are.
    pub fn record_labels(&mut self, labels: &ShipmentLabels) -> Result<()> {
        let order_id = labels.order_id.to_string();
        self.write(|tx| {
            for l in &labels.parcels {
                let png = decode_base64(&l.png_base64);
                tx.prepare_cached(
                    "INSERT INTO parcel_labels (order_id, number, tracking_number, zpl, png, state)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'new')
                     ON CONFLICT (order_id, number) DO UPDATE SET
                         tracking_number = excluded.tracking_number, zpl = excluded.zpl,
                         png = excluded.png, state = 'new', print_error = NULL, wanted = 0
                     WHERE parcel_labels.wanted = 1",
                )?
                .execute(params![order_id, l.number, l.tracking_number, l.zpl, png])?;
            }
            tx.prepare_cached(
                "UPDATE shipments SET state = 'labelled', ask = 0, refusal_code = NULL, refusal = NULL
                 WHERE order_id = ?1",
            )?
            .execute([&order_id])?;
            Ok(())
        })
    }

    /// The server refused the labels for good (`code`, its reason as it gave it): a lead must
    /// look at the order; nothing is asked again until a reprint.
    pub fn record_label_refusal(&mut self, order_id: Uuid, code: &str, reason: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE shipments SET state = 'refused', ask = 0, refusal_code = ?2, refusal = ?3
             WHERE order_id = ?1",
            params![order_id.to_string(), code, reason],
        )?;
        Ok(())
    }

    /// Labels that arrived and wait for the printer, oldest first.
    pub fn labels_to_print(&self, limit: u32) -> Result<Vec<LabelToPrint>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT l.order_id, l.number, l.tracking_number, l.zpl FROM parcel_labels l
             WHERE l.state = 'new' AND l.zpl IS NOT NULL ORDER BY l.rowid LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok(LabelToPrint {
                order_id: r.get(0)?,
                number: r.get(1)?,
                tracking_number: r.get(2)?,
                zpl: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The label was printed: its bytes (the customer's address) are deleted.
    pub fn label_printed(&mut self, order_id: &str, number: u32, printer: &str) -> Result<()> {
        self.forget_label(order_id, number, "printed", Some(printer))
    }

    /// The label was shown on screen and the packer confirmed it was handled.
    pub fn label_handled(&mut self, order_id: &str, number: u32) -> Result<()> {
        self.forget_label(order_id, number, "handled", None)
    }

    fn forget_label(
        &mut self,
        order_id: &str,
        number: u32,
        state: &str,
        printer: Option<&str>,
    ) -> Result<()> {
        self.conn().execute(
            "UPDATE parcel_labels SET state = ?3, zpl = NULL, png = NULL, print_error = NULL,
                 printer = coalesce(?4, printer)
             WHERE order_id = ?1 AND number = ?2",
            params![order_id, number, state, printer],
        )?;
        // The freed bytes are zeroed in the file (secure_delete); the write-ahead log keeps the
        // old page until it is copied back, which a passive checkpoint does when it can.
        let _ = self.checkpoint();
        Ok(())
    }

    /// A print failed: the label stays (its bytes too) with why, for a reprint.
    pub fn label_print_failed(
        &mut self,
        order_id: &str,
        number: u32,
        code: &str,
        printer: &str,
    ) -> Result<()> {
        self.conn().execute(
            "UPDATE parcel_labels SET state = 'failed', print_error = ?3, printer = ?4
             WHERE order_id = ?1 AND number = ?2",
            params![order_id, number, code, printer],
        )?;
        Ok(())
    }

    /// A reprint: a label still on the device is printed again; one already printed (its
    /// bytes deleted) or refused is asked of the server again.
    pub fn reprint_label(&mut self, order_id: &str, number: u32) -> Result<()> {
        self.write(|tx| {
            let held = tx
                .prepare_cached(
                    "UPDATE parcel_labels SET state = 'new', print_error = NULL
                     WHERE order_id = ?1 AND number = ?2 AND zpl IS NOT NULL",
                )?
                .execute(params![order_id, number])?;
            if held == 0 {
                tx.prepare_cached(
                    "UPDATE parcel_labels SET wanted = 1 WHERE order_id = ?1 AND number = ?2",
                )?
                .execute(params![order_id, number])?;
                tx.prepare_cached("UPDATE shipments SET ask = 1 WHERE order_id = ?1")?
                    .execute([order_id])?;
            }
            Ok(())
        })
    }

    /// The parcels of the orders this station finished most recently, newest order first, each
    /// with its label's state.
    pub fn station_parcels(&self, orders: u32) -> Result<Vec<ParcelRow>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT order_id, reference, parcels, state, refusal_code, refusal FROM shipments
             ORDER BY finished_ms DESC, rowid DESC LIMIT ?1",
        )?;
        let shipments = stmt
            .query_map([orders], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut labels = self.conn().prepare_cached(
            "SELECT number, tracking_number, state, print_error, printer, png IS NOT NULL
             FROM parcel_labels WHERE order_id = ?1 ORDER BY number",
        )?;
        let mut out = Vec::new();
        for (order_id, reference, parcels, state, code, reason) in shipments {
            let rows = labels
                .query_map([&order_id], |r| {
                    Ok((
                        r.get::<_, u32>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, bool>(5)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for number in 1..=parcels.max(rows.len() as u32) {
                let label = rows.iter().find(|r| r.0 == number);
                let (tracking_number, label_state, has_png) = match label {
                    Some((_, tracking, s, error, printer, png)) => {
                        let st = match s.as_str() {
                            "printed" => LabelState::Printed,
                            "handled" => LabelState::Handled,
                            "failed" => LabelState::Failed {
                                code: error.clone().unwrap_or_default(),
                                printer: printer.clone().unwrap_or_default(),
                            },
                            _ => LabelState::New,
                        };
                        (Some(tracking.clone()), st, *png)
                    }
                    None if state == "refused" => (
                        None,
                        LabelState::Refused {
                            code: code.clone().unwrap_or_default(),
                            reason: reason.clone().unwrap_or_default(),
                        },
                        false,
                    ),
                    None => (None, LabelState::Awaiting, false),
                };
                out.push(ParcelRow {
                    order_id: order_id.clone(),
                    reference: reference.clone(),
                    number,
                    tracking_number,
                    state: label_state,
                    has_png,
                });
            }
        }
        Ok(out)
    }

    /// The picture of a parcel's label, while the device still holds it.
    pub fn label_png(&self, order_id: &str, number: u32) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT png FROM parcel_labels WHERE order_id = ?1 AND number = ?2")?
            .query_row(params![order_id, number], |r| {
                r.get::<_, Option<Vec<u8>>>(0)
            })
            .optional()?
            .flatten())
    }
}

/// Standard Base64 (with or without padding) to bytes; `None` for what is not Base64.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' | b'\r' | b'\n' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests;

//! The push rules' [`Ledger`] over one PostgreSQL transaction, in as few round trips as the
//! rules allow, and with the rows every push shares locked for as short a time as it can.
//!
//! A round trip to the database costs the same whatever a statement does, and under load it
//! costs a wait for a CPU on each side, so the statements of a push travel in pipelines: the
//! look-ups of a batch go out together and their answers come back together
//! ([`PgLedger::load`]), and the writes are held back until the batch is decided and then sent
//! as one pipeline, in order ([`PgLedger::flush`]). A pipeline is one round trip whatever its
//! length, each statement run after the one before it: the connection prepares its statements
//! once and keeps them, each run planned for the values at hand (see
//! [`super::Postgres::connect`]). A push on a warm connection is five round trips: BEGIN, the
//! device's row lock, the look-ups, the writes, COMMIT. (BEGIN and COMMIT sent in the pipelines
//! next to them were measured too: sometimes 20-30 ms slower per push, see BENCHMARKS.md.)
//!
//! Rows that many devices' pushes share wait for each other until commit: the stock rows a floor
//! receives into and the warehouse's change counter (see [`super::append_changes`]). They are
//! the last statements of the last pipeline, stock in key order and then the counter, so their
//! locks are held from there to the commit and no longer, and every push takes them in the same
//! order (no deadlock between pushes).

use std::collections::{BTreeSet, HashMap};

use deadpool_postgres::Transaction;
use futures_util::future::try_join_all;
use laituri_protocol::{
    Change, EntityKind, Event, EventOutcome, InboundNotice, LocationKind, OverrideReason, Removed,
};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Row, Statement};
use uuid::Uuid;

use super::PendingChange;
use super::device::{STOCK_COLUMNS, TASK_COLUMNS, stock_from_row, task_from_row};
use crate::push::{Effect, Ledger, ReceiptRef, Recorded, Refs, StockKey, World};
use crate::store::StoreError;
use crate::store::rows::{
    ORDER_WORK_COLUMNS, OrderLife, PICK_COLUMNS, corrupt, from_json, notice_status_str,
    outcome_columns, outcome_from_columns, pick_row, stored_payload, stored_text, task_status_str,
    to_i64, to_json,
};

/// A value of a statement's parameter, owned so a pipeline can be built before it is sent.
type Param = Box<dyn ToSql + Sync + Send>;

/// A statement of a pipeline and its parameters.
pub(super) struct Stmt {
    sql: String,
    params: Vec<Param>,
}

impl Stmt {
    fn new(sql: impl Into<String>, params: Vec<Param>) -> Stmt {
        Stmt {
            sql: sql.into(),
            params,
        }
    }
}

/// Prepares the distinct texts of `stmts` together: one round trip, or none when the
/// connection prepared them all before (it keeps them).
async fn prepare<'s>(
    tx: &Transaction<'_>,
    stmts: &'s [Stmt],
) -> Result<HashMap<&'s str, Statement>, StoreError> {
    let mut texts: Vec<&str> = stmts.iter().map(|s| s.sql.as_str()).collect();
    texts.sort_unstable();
    texts.dedup();
    let prepared = try_join_all(texts.iter().map(|t| tx.prepare_cached(t))).await?;
    Ok(texts.into_iter().zip(prepared).collect())
}

fn param_refs(s: &Stmt) -> Vec<&(dyn ToSql + Sync)> {
    s.params
        .iter()
        .map(|p| &**p as &(dyn ToSql + Sync))
        .collect()
}

/// Runs `stmts` as one pipeline, in order, each sent without waiting for the one before: one
/// round trip in all (and one to prepare what the connection has not prepared before). Answers
/// each one's count of rows. The first failure is the answer (the statements after it fail too,
/// their transaction being aborted).
pub(super) async fn execute_pipeline(
    tx: &Transaction<'_>,
    stmts: &[Stmt],
) -> Result<Vec<u64>, StoreError> {
    if stmts.is_empty() {
        return Ok(Vec::new());
    }
    let prepared = prepare(tx, stmts).await?;
    let params: Vec<_> = stmts.iter().map(param_refs).collect();
    let runs = stmts
        .iter()
        .zip(&params)
        .map(|(s, p)| tx.execute(&prepared[s.sql.as_str()], p));
    Ok(try_join_all(runs).await?)
}

/// Runs the queries `stmts` as one pipeline (see [`execute_pipeline`]); answers their rows.
async fn query_pipeline(tx: &Transaction<'_>, stmts: &[Stmt]) -> Result<Vec<Vec<Row>>, StoreError> {
    if stmts.is_empty() {
        return Ok(Vec::new());
    }
    let prepared = prepare(tx, stmts).await?;
    let params: Vec<_> = stmts.iter().map(param_refs).collect();
    let runs = stmts
        .iter()
        .zip(&params)
        .map(|(s, p)| tx.query(&prepared[s.sql.as_str()], p));
    Ok(try_join_all(runs).await?)
}

/// The statement that appends `changes` to the warehouse's change log with the next cursors,
/// taken from its counter row in the same statement. The counter row stays locked until the
/// transaction ends, so this must be a transaction's last statement (see
/// [`super::append_changes`]); it inserts `changes.len()` rows, or none when the counter is
/// missing.
pub(super) fn append_statement(wh: &str, changes: &[PendingChange]) -> Stmt {
    let n = i64::try_from(changes.len()).unwrap_or(i64::MAX);
    let devices: Vec<Option<Uuid>> = changes.iter().map(|c| c.device).collect();
    let merchants: Vec<Option<String>> = changes.iter().map(|c| c.merchant_id.clone()).collect();
    let entities: Vec<String> = changes.iter().map(|c| c.entity.to_string()).collect();
    let ids: Vec<String> = changes.iter().map(|c| c.entity_id.clone()).collect();
    let data: Vec<String> = changes.iter().map(|c| c.data.clone()).collect();
    Stmt::new(
        "WITH counter AS (
             UPDATE change_counters SET last_cursor = last_cursor + $2
             WHERE warehouse_id = $1 RETURNING last_cursor - $2 AS before
         )
         INSERT INTO changes (warehouse_id, cursor, device_id, merchant_id, entity, entity_id, data)
         SELECT $1, counter.before + x.n, x.d, x.m, x.e, x.i, x.data
         FROM counter, unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[])
             WITH ORDINALITY AS x(d, m, e, i, data, n)",
        vec![
            Box::new(wh.to_string()),
            Box::new(n),
            Box::new(devices),
            Box::new(merchants),
            Box::new(entities),
            Box::new(ids),
            Box::new(data),
        ],
    )
}

/// Checks what [`append_statement`] inserted.
pub(super) fn appended(wh: &str, expected: usize, inserted: u64) -> Result<(), StoreError> {
    if inserted as usize == expected {
        Ok(())
    } else {
        Err(StoreError::Backend {
            message: format!(
                "warehouse {wh} has no change counter in the database: restart the server, which \
                 makes it"
            ),
            transient: false,
        })
    }
}

/// The PostgreSQL side of [`Ledger`]: the push rules' view of one transaction. Reads go out at
/// once; writes are held back until [`PgLedger::flush`] (by the push at its end, and by
/// [`Ledger::mark`] and [`Ledger::keep`] when events are written one at a time).
///
/// Writes go to the database in bulk, a statement per kind of row for the whole batch (stock,
/// tallies, totes of receipts, exceptions, events), not a statement per event.
pub(super) struct PgLedger<'a, 't> {
    tx: &'a Transaction<'t>,
    wh: &'a str,
    /// Changes to publish, appended to the log by the last flush.
    changes: Vec<PendingChange>,
    /// Effects decided and not yet written, in order.
    effects: Vec<Effect>,
    /// Events recorded and not yet written.
    events: Vec<EventRow>,
    /// The device's new last seq, not yet written.
    last_seq: Option<(Uuid, i64)>,
    /// The changes published before the savepoint of the mark, while one is open. A kept mark
    /// leaves its savepoint open (no round trip to release it): the next mark or the commit
    /// releases it.
    marked: Option<usize>,
    savepoint_open: bool,
    /// The store's clock when the transaction began.
    now_ms: i64,
}

/// An event's columns, as [`PgLedger::flush`] writes them.
struct EventRow {
    device_id: Uuid,
    seq: i64,
    event_id: Uuid,
    operator_id: String,
    device_time_ms: i64,
    event_type: String,
    schema: i32,
    payload: String,
    outcome: &'static str,
    code: Option<String>,
    reason: Option<String>,
}

impl<'a, 't> PgLedger<'a, 't> {
    pub(super) fn new(tx: &'a Transaction<'t>, wh: &'a str, now_ms: i64) -> PgLedger<'a, 't> {
        PgLedger {
            now_ms,
            tx,
            wh,
            changes: Vec::new(),
            effects: Vec::new(),
            events: Vec::new(),
            last_seq: None,
            marked: None,
            savepoint_open: false,
        }
    }

    fn wh(&self) -> Param {
        Box::new(self.wh.to_string())
    }

    /// Writes everything held back, as one pipeline: the effects in order, then the rows written
    /// in bulk, the events, the device's last seq, the stock, and with `publish` the changes
    /// (taking the change counter: the transaction's last statement).
    pub(super) async fn flush(&mut self, publish: bool) -> Result<(), StoreError> {
        let mut stmts = Vec::new();
        let effects = std::mem::take(&mut self.effects);
        // Stock and tallies are sums, totes of receipts and exceptions are rows of their own:
        // gathered over the batch and written in one statement each, after the effects that
        // make the rows they refer to (a receipt before its tally). Everything else in order.
        let mut stock: HashMap<&StockKey, i64> = HashMap::new();
        let mut tallies: HashMap<(Uuid, &str), (i64, i64)> = HashMap::new();
        let mut containers: Vec<(Uuid, &str, &str)> = Vec::new();
        let mut exceptions = Vec::new();
        let mut resolutions = Vec::new();
        for effect in &effects {
            match effect {
                Effect::AddStock { key, delta, .. } => *stock.entry(key).or_default() += delta,
                Effect::TallyReceipt {
                    receipt_id,
                    product_id,
                    received,
                    quarantined,
                } => {
                    let t = tallies.entry((*receipt_id, product_id)).or_default();
                    t.0 += received;
                    t.1 += quarantined;
                }
                Effect::ReceiptContainer {
                    receipt_id,
                    location,
                    container,
                } => containers.push((*receipt_id, location, container)),
                Effect::Exception {
                    exception,
                    merchant_id,
                } => exceptions.push((exception, merchant_id.as_deref())),
                // After the exceptions, which it may resolve.
                Effect::ResolveException { .. } => resolutions.push(effect),
                Effect::Publish {
                    device,
                    merchant_id,
                    change,
                } => self
                    .changes
                    .push(PendingChange::of(*device, merchant_id.as_deref(), change)),
                Effect::DropReturnable {
                    order_id,
                    merchant_id,
                } => {
                    let (delete, removal) = drop_returnable(self.wh, *order_id, merchant_id);
                    stmts.push(delete);
                    self.changes.push(removal);
                }
                other => stmts.push(self.one(other)?),
            }
        }
        stmts.extend(self.tallies(&tallies));
        stmts.extend(self.containers(&containers));
        stmts.extend(self.exceptions(&exceptions)?);
        for resolution in resolutions {
            stmts.push(self.one(resolution)?);
        }
        stmts.extend(self.events());
        if let Some((device, seq)) = self.last_seq.take() {
            stmts.push(Stmt::new(
                "UPDATE devices SET last_seq = $3 WHERE warehouse_id = $1 AND device_id = $2",
                vec![self.wh(), Box::new(device), Box::new(seq)],
            ));
        }
        stmts.extend(self.stock(&stock));
        let published = self.changes.len();
        if publish && published > 0 {
            stmts.push(append_statement(self.wh, &self.changes));
        }
        let counts = execute_pipeline(self.tx, &stmts).await?;
        if publish && published > 0 {
            let inserted = counts.last().copied().unwrap_or(0);
            appended(self.wh, published, inserted)?;
            self.changes.clear();
        }
        Ok(())
    }

    fn events(&mut self) -> Option<Stmt> {
        if self.events.is_empty() {
            return None;
        }
        let rows = std::mem::take(&mut self.events);
        let text = |f: fn(&EventRow) -> &str| -> Param {
            Box::new(rows.iter().map(|r| f(r).to_string()).collect::<Vec<_>>())
        };
        let devices: Vec<Uuid> = rows.iter().map(|r| r.device_id).collect();
        let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
        let ids: Vec<Uuid> = rows.iter().map(|r| r.event_id).collect();
        let times: Vec<i64> = rows.iter().map(|r| r.device_time_ms).collect();
        let schemas: Vec<i32> = rows.iter().map(|r| r.schema).collect();
        let codes: Vec<Option<String>> = rows.iter().map(|r| r.code.clone()).collect();
        let reasons: Vec<Option<String>> = rows.iter().map(|r| r.reason.clone()).collect();
        Some(Stmt::new(
            "INSERT INTO events (warehouse_id, device_id, seq, event_id, operator_id,
                 device_time_ms, type, schema, payload, outcome, reject_code, reject_reason)
             SELECT $1, * FROM unnest($2::uuid[], $3::bigint[], $4::uuid[], $5::text[],
                 $6::bigint[], $7::text[], $8::int[], $9::text[], $10::text[], $11::text[],
                 $12::text[])",
            vec![
                self.wh(),
                Box::new(devices),
                Box::new(seqs),
                Box::new(ids),
                text(|r| &r.operator_id),
                Box::new(times),
                text(|r| &r.event_type),
                Box::new(schemas),
                text(|r| &r.payload),
                text(|r| r.outcome),
                Box::new(codes),
                Box::new(reasons),
            ],
        ))
    }

    fn stock(&self, stock: &HashMap<&StockKey, i64>) -> Option<Stmt> {
        if stock.is_empty() {
            return None;
        }
        // In key order, so two transactions touching the same rows lock them in the same order.
        let mut rows: Vec<(&&StockKey, &i64)> = stock.iter().collect();
        rows.sort_by_key(|(k, _)| stock_sort_key(k));
        let text = |f: fn(&StockKey) -> &str| -> Param {
            Box::new(
                rows.iter()
                    .map(|(k, _)| f(k).to_string())
                    .collect::<Vec<_>>(),
            )
        };
        let deltas: Vec<i64> = rows.iter().map(|(_, d)| **d).collect();
        Some(Stmt::new(
            "INSERT INTO stock (warehouse_id, merchant_id, product_id, location, container,
                 lot, expiry, condition, quantity)
             SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[],
                 $6::text[], $7::text[], $8::text[], $9::bigint[])
             ON CONFLICT (warehouse_id, merchant_id, product_id, location, container, lot,
                 expiry, condition)
             DO UPDATE SET quantity = stock.quantity + excluded.quantity",
            vec![
                self.wh(),
                text(|k| &k.merchant_id),
                text(|k| &k.product_id),
                text(|k| &k.location),
                text(|k| k.container.as_deref().unwrap_or("")),
                text(|k| k.lot.as_deref().unwrap_or("")),
                text(|k| k.expiry.as_deref().unwrap_or("")),
                text(|k| k.condition.as_str()),
                Box::new(deltas),
            ],
        ))
    }

    fn tallies(&self, tallies: &HashMap<(Uuid, &str), (i64, i64)>) -> Option<Stmt> {
        if tallies.is_empty() {
            return None;
        }
        let mut rows: Vec<_> = tallies.iter().collect();
        rows.sort_by_key(|((r, p), _)| (*r, *p));
        let receipts: Vec<Uuid> = rows.iter().map(|((r, _), _)| *r).collect();
        let products: Vec<String> = rows.iter().map(|((_, p), _)| p.to_string()).collect();
        let received: Vec<i64> = rows.iter().map(|(_, t)| t.0).collect();
        let quarantined: Vec<i64> = rows.iter().map(|(_, t)| t.1).collect();
        Some(Stmt::new(
            "INSERT INTO receipt_tally (warehouse_id, receipt_id, product_id, received,
                 quarantined)
             SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::bigint[], $5::bigint[])
             ON CONFLICT (warehouse_id, receipt_id, product_id) DO UPDATE SET
                 received = receipt_tally.received + excluded.received,
                 quarantined = receipt_tally.quarantined + excluded.quarantined",
            vec![
                self.wh(),
                Box::new(receipts),
                Box::new(products),
                Box::new(received),
                Box::new(quarantined),
            ],
        ))
    }

    fn containers(&self, rows: &[(Uuid, &str, &str)]) -> Option<Stmt> {
        if rows.is_empty() {
            return None;
        }
        let receipts: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
        let locations: Vec<String> = rows.iter().map(|r| r.1.to_string()).collect();
        let containers: Vec<String> = rows.iter().map(|r| r.2.to_string()).collect();
        Some(Stmt::new(
            "INSERT INTO receipt_containers (warehouse_id, receipt_id, location, container)
             SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::text[])
             ON CONFLICT DO NOTHING",
            vec![
                self.wh(),
                Box::new(receipts),
                Box::new(locations),
                Box::new(containers),
            ],
        ))
    }

    fn exceptions(
        &self,
        rows: &[(&laituri_protocol::ExceptionView, Option<&str>)],
    ) -> Result<Option<Stmt>, StoreError> {
        if rows.is_empty() {
            return Ok(None);
        }
        let merchants: Vec<Option<String>> = rows.iter().map(|r| r.1.map(str::to_string)).collect();
        let devices: Vec<Uuid> = rows.iter().map(|r| r.0.device_id).collect();
        let seqs: Vec<i64> = rows
            .iter()
            .map(|r| to_i64(r.0.seq))
            .collect::<Result<_, _>>()?;
        let events: Vec<Uuid> = rows.iter().map(|r| r.0.event_id).collect();
        let kinds: Vec<String> = rows.iter().map(|r| r.0.kind.clone()).collect();
        let messages: Vec<String> = rows.iter().map(|r| r.0.message.clone()).collect();
        // WITH ORDINALITY keeps the batch's order in the exceptions' ids.
        Ok(Some(Stmt::new(
            "INSERT INTO exceptions (warehouse_id, merchant_id, device_id, seq, event_id,
                 kind, message)
             SELECT $1, m, d, s, e, k, msg FROM unnest($2::text[], $3::uuid[], $4::bigint[],
                 $5::uuid[], $6::text[], $7::text[]) WITH ORDINALITY AS x(m, d, s, e, k, msg, n)
             ORDER BY n",
            vec![
                self.wh(),
                Box::new(merchants),
                Box::new(devices),
                Box::new(seqs),
                Box::new(events),
                Box::new(kinds),
                Box::new(messages),
            ],
        )))
    }

    /// The statement of an effect written on its own.
    fn one(&self, effect: &Effect) -> Result<Stmt, StoreError> {
        Ok(match effect {
            Effect::OpenReceipt {
                receipt_id,
                merchant_id,
                notice_id,
                device_id,
                dock,
            } => Stmt::new(
                "INSERT INTO receipts (warehouse_id, receipt_id, merchant_id, notice_id,
                     device_id, dock)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                vec![
                    self.wh(),
                    Box::new(*receipt_id),
                    Box::new(merchant_id.clone()),
                    Box::new(notice_id.clone()),
                    Box::new(*device_id),
                    Box::new(dock.clone()),
                ],
            ),
            Effect::CloseReceipt { receipt_id, lines } => Stmt::new(
                "UPDATE receipts SET closed = TRUE, summary = $3
                 WHERE warehouse_id = $1 AND receipt_id = $2",
                vec![self.wh(), Box::new(*receipt_id), Box::new(to_json(lines))],
            ),
            Effect::SaveNotice(notice) => Stmt::new(
                "UPDATE inbound_notices SET status = $3, data = $4
                 WHERE warehouse_id = $1 AND id = $2",
                vec![
                    self.wh(),
                    Box::new(notice.id.clone()),
                    Box::new(notice_status_str(notice.status)),
                    Box::new(to_json(notice)),
                ],
            ),
            Effect::SaveTask(row) => {
                let t = &row.task;
                Stmt::new(
                    super::device::SAVE_TASK,
                    vec![
                        self.wh(),
                        Box::new(t.task_id.clone()),
                        Box::new(t.kind.as_str()),
                        Box::new(t.merchant_id.clone()),
                        Box::new(t.priority),
                        Box::new(task_status_str(t.status)),
                        Box::new(t.container.clone()),
                        Box::new(to_json(&t.lines)),
                        Box::new(t.reason.clone()),
                        Box::new(row.holder),
                        Box::new(row.lease_token.map(to_i64).transpose()?),
                        Box::new(row.lease_expires_ms),
                        Box::new(to_i64(row.fence)?),
                        Box::new(to_json(&t.orders)),
                    ],
                )
            }
            Effect::Override {
                device_id,
                seq,
                container,
                suggested,
                location,
                reason,
            } => Stmt::new(
                "INSERT INTO putaway_overrides (warehouse_id, device_id, seq, container,
                     suggested, location, override_reason)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                vec![
                    self.wh(),
                    Box::new(*device_id),
                    Box::new(to_i64(*seq)?),
                    Box::new(container.clone()),
                    Box::new(suggested.clone()),
                    Box::new(location.clone()),
                    Box::new(reason.map(OverrideReason::as_str)),
                ],
            ),
            Effect::ResolveException { device_id, seq, by } => Stmt::new(
                "UPDATE exceptions SET resolved_by = $4, resolved_at = now()
                 WHERE warehouse_id = $1 AND device_id = $2 AND seq = $3
                   AND resolved_by IS NULL",
                vec![
                    self.wh(),
                    Box::new(*device_id),
                    Box::new(to_i64(*seq)?),
                    Box::new(by.clone()),
                ],
            ),
            Effect::SaveCount(c) => Stmt::new(
                "INSERT INTO counts (warehouse_id, count_id, location, device_id, seq,
                     operator_id, status, lines, decided_by, counted_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (warehouse_id, count_id) DO UPDATE SET
                     status = excluded.status, decided_by = excluded.decided_by",
                vec![
                    self.wh(),
                    Box::new(c.count_id),
                    Box::new(c.location.clone()),
                    Box::new(c.device_id),
                    Box::new(to_i64(c.seq)?),
                    Box::new(c.operator_id.clone()),
                    Box::new(c.status.as_str()),
                    Box::new(to_json(&c.lines)),
                    Box::new(c.decided_by.clone()),
                    Box::new(c.counted_at_ms),
                ],
            ),
            Effect::BinFull {
                device_id,
                seq,
                location,
            } => Stmt::new(
                "INSERT INTO bins_full (warehouse_id, location, device_id, seq)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (warehouse_id, location) DO UPDATE SET
                     device_id = excluded.device_id, seq = excluded.seq",
                vec![
                    self.wh(),
                    Box::new(location.clone()),
                    Box::new(*device_id),
                    Box::new(to_i64(*seq)?),
                ],
            ),
            Effect::SaveOrder(row) => {
                let life = OrderLife::of(row);
                Stmt::new(
                    "UPDATE orders SET status = $3, status_reason = $4, history = $5, totes = $6,
                         demand = $7, modified_at_ms = $8, packing = $9
                     WHERE warehouse_id = $1 AND order_id = $2",
                    vec![
                        self.wh(),
                        Box::new(row.id),
                        Box::new(row.status.as_str()),
                        Box::new(row.status_reason.clone()),
                        Box::new(life.history),
                        Box::new(life.totes),
                        Box::new(life.demand),
                        Box::new(row.modified_at_ms),
                        Box::new(life.packing),
                    ],
                )
            }
            Effect::SaveLabels { order_id, labels } => Stmt::new(
                "INSERT INTO order_labels (warehouse_id, order_id, parcel, tracking_number,
                     tracking_url, zpl, png)
                 SELECT $1, $2, * FROM unnest($3::int[], $4::text[], $5::text[], $6::text[],
                     $7::bytea[])
                 ON CONFLICT (warehouse_id, order_id, parcel) DO UPDATE SET
                     tracking_number = excluded.tracking_number,
                     tracking_url = excluded.tracking_url, zpl = excluded.zpl, png = excluded.png",
                vec![
                    self.wh(),
                    Box::new(*order_id),
                    Box::new(labels.iter().map(|l| l.parcel as i32).collect::<Vec<i32>>()),
                    Box::new(
                        labels
                            .iter()
                            .map(|l| l.tracking_number.clone())
                            .collect::<Vec<String>>(),
                    ),
                    Box::new(
                        labels
                            .iter()
                            .map(|l| l.tracking_url.clone())
                            .collect::<Vec<String>>(),
                    ),
                    Box::new(
                        labels
                            .iter()
                            .map(|l| l.zpl.clone())
                            .collect::<Vec<String>>(),
                    ),
                    Box::new(
                        labels
                            .iter()
                            .map(|l| l.png.clone())
                            .collect::<Vec<Vec<u8>>>(),
                    ),
                ],
            ),
            Effect::PruneReturnables { now_ms } => Stmt::new(
                "DELETE FROM changes WHERE warehouse_id = $1 AND cursor IN (
                     SELECT cursor FROM changes
                     WHERE warehouse_id = $1 AND entity = 'returnable_order'
                     ORDER BY cursor LIMIT $3)
                   AND (data::jsonb ->> 'keep_until_ms')::bigint <= $2",
                vec![
                    self.wh(),
                    Box::new(*now_ms),
                    Box::new(i64::from(crate::shipping::PRUNED_PER_SHIPMENT)),
                ],
            ),
            Effect::SaveReturn(r) => Stmt::new(
                "INSERT INTO returns (warehouse_id, return_id, merchant_id, order_id, reference,
                     device_id, seq, location, tote, lines, received_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                vec![
                    self.wh(),
                    Box::new(r.return_id),
                    Box::new(r.merchant_id.clone()),
                    Box::new(r.order_id),
                    Box::new(r.reference.clone()),
                    Box::new(r.device_id),
                    Box::new(to_i64(r.seq)?),
                    Box::new(r.location.clone()),
                    Box::new(r.tote.clone()),
                    Box::new(to_json(&r.lines)),
                    Box::new(r.received_at_ms),
                ],
            ),
            Effect::Notify(n) => Stmt::new(
                "INSERT INTO webhook_events (warehouse_id, event_id, merchant_id, kind, subject,
                     body, created_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                vec![
                    self.wh(),
                    Box::new(n.event_id),
                    Box::new(n.merchant_id.clone()),
                    Box::new(n.kind.as_str()),
                    Box::new(n.subject.clone()),
                    Box::new(n.body()),
                    Box::new(n.created_at_ms),
                ],
            ),
            Effect::SavePick(p) => Stmt::new(
                "INSERT INTO picks (warehouse_id, order_id, line_id, merchant_id, product_id,
                     location, lot, expiry, quantity, picked, short, task_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (warehouse_id, order_id, line_id) DO UPDATE SET
                     quantity = excluded.quantity, picked = excluded.picked,
                     short = excluded.short, task_id = excluded.task_id",
                vec![
                    self.wh(),
                    Box::new(p.order_id),
                    Box::new(p.line_id.clone()),
                    Box::new(p.merchant_id.clone()),
                    Box::new(p.product_id.clone()),
                    Box::new(p.location.clone()),
                    Box::new(p.lot.clone().unwrap_or_default()),
                    Box::new(p.expiry.clone().unwrap_or_default()),
                    Box::new(p.quantity),
                    Box::new(p.picked),
                    Box::new(p.short),
                    Box::new(p.task_id.clone()),
                ],
            ),
            Effect::AddStock { .. }
            | Effect::TallyReceipt { .. }
            | Effect::ReceiptContainer { .. }
            | Effect::Exception { .. }
            | Effect::DropReturnable { .. }
            | Effect::Publish { .. } => {
                return Err(corrupt("a bulk effect was to be written on its own"));
            }
        })
    }
}

/// The deletion of a returnable order's entries of the change log (they hold the customer's
/// name) and the removal that tells every device to forget it.
pub(super) fn drop_returnable(
    wh: &str,
    order_id: Uuid,
    merchant_id: &str,
) -> (Stmt, PendingChange) {
    let delete = Stmt::new(
        "DELETE FROM changes WHERE warehouse_id = $1 AND entity = 'returnable_order'
             AND entity_id = $2",
        vec![Box::new(wh.to_string()), Box::new(order_id.to_string())],
    );
    let removal = PendingChange::of(
        None,
        Some(merchant_id),
        &Change::Removed(Removed {
            kind: EntityKind::ReturnableOrder,
            id: order_id.to_string(),
        }),
    );
    (delete, removal)
}

/// What a look-up of [`PgLedger::load`] is for.
#[derive(Clone, Copy)]
enum Look {
    Merchants,
    Products,
    Locations,
    Notices,
    Receipts,
    ReceiptContainers,
    Tasks,
    PutawayContainers,
    CountReasons,
    Stock,
    ContainerStock,
    AppliedEvents,
    Orders,
    Picks,
    LocationStock,
    Operators,
    Counts,
}

/// A reservation from [`PICK_COLUMNS`].
pub(super) fn pick_from_row(r: &Row) -> Result<crate::outbound::PickRow, StoreError> {
    Ok(pick_row(
        r.try_get(0)?,
        r.try_get(1)?,
        r.try_get(2)?,
        r.try_get(3)?,
        r.try_get(4)?,
        r.try_get(5)?,
        r.try_get(6)?,
        [r.try_get(7)?, r.try_get(8)?, r.try_get(9)?],
        r.try_get(10)?,
    ))
}

fn texts(set: &BTreeSet<String>) -> Param {
    Box::new(set.iter().cloned().collect::<Vec<String>>())
}

impl Ledger for PgLedger<'_, '_> {
    async fn last_seq(&mut self, device_id: Uuid) -> Result<u64, StoreError> {
        // The row lock serializes pushes of one device, whichever server process takes them.
        let lock = self
            .tx
            .prepare_cached(
                "SELECT last_seq FROM devices WHERE warehouse_id = $1 AND device_id = $2
                 FOR UPDATE",
            )
            .await?;
        let seq: Option<i64> = self
            .tx
            .query_opt(&lock, &[&self.wh, &device_id])
            .await?
            .map(|r| r.get(0));
        match seq {
            Some(s) => Ok(s.max(0) as u64),
            None => Err(StoreError::invalid(format!(
                "device {device_id} is not enrolled: enrol it with an enrolment code first"
            ))),
        }
    }

    async fn set_last_seq(&mut self, device_id: Uuid, seq: u64) -> Result<(), StoreError> {
        self.last_seq = Some((device_id, to_i64(seq)?));
        Ok(())
    }

    async fn recorded(
        &mut self,
        device_id: Uuid,
        seq: u64,
    ) -> Result<Option<Recorded>, StoreError> {
        let row = self
            .tx
            .query_opt(
                "SELECT event_id, outcome, reject_code, reject_reason FROM events
                 WHERE warehouse_id = $1 AND device_id = $2 AND seq = $3",
                &[&self.wh, &device_id, &to_i64(seq)?],
            )
            .await?;
        let Some(r) = row else {
            return Ok(None);
        };
        let outcome: String = r.try_get(1)?;
        Ok(Some(Recorded {
            event_id: r.try_get(0)?,
            outcome: outcome_from_columns(&outcome, r.try_get(2)?, r.try_get(3)?),
        }))
    }

    async fn record_event(
        &mut self,
        event: &Event,
        outcome: &EventOutcome,
    ) -> Result<(), StoreError> {
        let (kind, code, reason) = outcome_columns(outcome);
        self.events.push(EventRow {
            device_id: event.device_id,
            seq: to_i64(event.seq)?,
            event_id: event.event_id,
            operator_id: stored_text(&event.operator_id).into_owned(),
            device_time_ms: event.device_time_ms,
            event_type: stored_text(&event.event_type).into_owned(),
            schema: i32::from(event.schema),
            payload: stored_payload(event, outcome),
            outcome: kind,
            code: code.map(str::to_string),
            reason: reason.map(str::to_string),
        });
        Ok(())
    }

    /// Every look-up the refs need, sent as one pipeline. Nothing is written before the batch is
    /// decided, so they read what the transaction has (see [`PgLedger::flush`]).
    async fn load(&mut self, refs: &Refs) -> Result<World, StoreError> {
        let mut asks: Vec<(Look, Stmt)> = Vec::new();
        let mut ask = |look, sql: String, param: Param| {
            asks.push((look, Stmt::new(sql, vec![self.wh(), param])));
        };
        if !refs.merchants.is_empty() {
            ask(
                Look::Merchants,
                "SELECT id FROM merchants WHERE warehouse_id = $1 AND id = ANY($2)".into(),
                texts(&refs.merchants),
            );
        }
        if !refs.products.is_empty() {
            ask(
                Look::Products,
                "SELECT id, merchant_id FROM products WHERE warehouse_id = $1 AND id = ANY($2)"
                    .into(),
                texts(&refs.products),
            );
        }
        if !refs.locations.is_empty() {
            ask(
                Look::Locations,
                "SELECT code, kind FROM locations WHERE warehouse_id = $1 AND code = ANY($2)"
                    .into(),
                texts(&refs.locations),
            );
        }
        if !refs.notices.is_empty() {
            ask(
                Look::Notices,
                "SELECT data FROM inbound_notices WHERE warehouse_id = $1 AND id = ANY($2)".into(),
                texts(&refs.notices),
            );
        }
        if !refs.receipts.is_empty() {
            ask(
                Look::Receipts,
                "SELECT receipt_id, merchant_id, notice_id, closed FROM receipts
                 WHERE warehouse_id = $1 AND receipt_id = ANY($2)"
                    .into(),
                Box::new(refs.receipts.iter().copied().collect::<Vec<Uuid>>()),
            );
        }
        if !refs.receipt_containers.is_empty() {
            ask(
                Look::ReceiptContainers,
                "SELECT receipt_id, location, container FROM receipt_containers
                 WHERE warehouse_id = $1 AND receipt_id = ANY($2)"
                    .into(),
                Box::new(
                    refs.receipt_containers
                        .iter()
                        .copied()
                        .collect::<Vec<Uuid>>(),
                ),
            );
        }
        if !refs.tasks.is_empty() {
            ask(
                Look::Tasks,
                format!("{TASK_COLUMNS} WHERE warehouse_id = $1 AND task_id = ANY($2)"),
                texts(&refs.tasks),
            );
        }
        if !refs.putaway_containers.is_empty() {
            // Oldest first, so the newest open task of a container is the last one.
            ask(
                Look::PutawayContainers,
                format!(
                    "{TASK_COLUMNS} WHERE warehouse_id = $1 AND kind = 'putaway'
                     AND status IN ('open', 'leased') AND container = ANY($2)
                     ORDER BY created_order"
                ),
                texts(&refs.putaway_containers),
            );
        }
        if !refs.count_reasons.is_empty() {
            ask(
                Look::CountReasons,
                format!(
                    "{TASK_COLUMNS} WHERE warehouse_id = $1 AND kind = 'count'
                     AND status IN ('open', 'leased') AND reason = ANY($2)"
                ),
                texts(&refs.count_reasons),
            );
        }
        if !refs.orders.is_empty() {
            let ids = || Box::new(refs.orders.iter().copied().collect::<Vec<Uuid>>()) as Param;
            ask(
                Look::Orders,
                // Locked: the planner changes orders too (see `postgres/outbound.rs`).
                format!(
                    "{ORDER_WORK_COLUMNS} WHERE o.warehouse_id = $1 AND o.order_id = ANY($2)
                     FOR UPDATE OF o"
                ),
                ids(),
            );
            ask(
                Look::Picks,
                format!("{PICK_COLUMNS} WHERE warehouse_id = $1 AND order_id = ANY($2)"),
                ids(),
            );
        }
        if !refs.event_ids.is_empty() {
            ask(
                Look::AppliedEvents,
                "SELECT event_id FROM events
                 WHERE warehouse_id = $1 AND event_id = ANY($2) AND outcome = 'applied'"
                    .into(),
                Box::new(refs.event_ids.iter().copied().collect::<Vec<Uuid>>()),
            );
        }
        if !refs.stock.is_empty() {
            // One array per column of the primary key; each key is one primary-key look-up.
            let mut cols: [Vec<String>; 7] = Default::default();
            for k in &refs.stock {
                let values = [
                    k.merchant_id.as_str(),
                    k.product_id.as_str(),
                    k.location.as_str(),
                    k.container.as_deref().unwrap_or(""),
                    k.lot.as_deref().unwrap_or(""),
                    k.expiry.as_deref().unwrap_or(""),
                    k.condition.as_str(),
                ];
                for (col, v) in cols.iter_mut().zip(values) {
                    col.push(v.to_string());
                }
            }
            let mut params = vec![self.wh()];
            params.extend(cols.into_iter().map(|c| Box::new(c) as Param));
            asks.push((
                Look::Stock,
                Stmt::new(
                    format!(
                        "{STOCK_COLUMNS} FROM unnest($2::text[], $3::text[], $4::text[],
                             $5::text[], $6::text[], $7::text[], $8::text[])
                             AS k(m, p, l, c, lot, e, cond)
                         JOIN stock AS s ON s.warehouse_id = $1 AND s.merchant_id = k.m
                             AND s.product_id = k.p AND s.location = k.l AND s.container = k.c
                             AND s.lot = k.lot AND s.expiry = k.e AND s.condition = k.cond"
                    ),
                    params,
                ),
            ));
        }
        if !refs.container_stock.is_empty() {
            let locations: Vec<String> = refs
                .container_stock
                .iter()
                .map(|(l, _)| l.clone())
                .collect();
            let containers: Vec<String> = refs
                .container_stock
                .iter()
                .map(|(_, c)| c.clone())
                .collect();
            asks.push((
                Look::ContainerStock,
                Stmt::new(
                    format!(
                        "{STOCK_COLUMNS} FROM unnest($2::text[], $3::text[]) AS k(l, c)
                         JOIN stock AS s ON s.warehouse_id = $1 AND s.location = k.l
                             AND s.container = k.c"
                    ),
                    vec![self.wh(), Box::new(locations), Box::new(containers)],
                ),
            ));
        }
        if !refs.location_stock.is_empty() {
            // Locked: a count books its variance against these levels.
            asks.push((
                Look::LocationStock,
                Stmt::new(
                    format!(
                        "{STOCK_COLUMNS} FROM stock AS s
                         WHERE s.warehouse_id = $1 AND s.location = ANY($2) FOR UPDATE OF s"
                    ),
                    vec![self.wh(), texts(&refs.location_stock)],
                ),
            ));
        }
        if !refs.operators.is_empty() {
            asks.push((
                Look::Operators,
                Stmt::new(
                    "SELECT id, data FROM operators
                     WHERE warehouse_id = $1 AND active AND id = ANY($2)",
                    vec![self.wh(), texts(&refs.operators)],
                ),
            ));
        }
        if !refs.counts.is_empty() {
            // Locked: two leads deciding one count take turns, and the second finds it decided.
            asks.push((
                Look::Counts,
                Stmt::new(
                    "SELECT count_id, location, device_id, seq, operator_id, status, lines,
                         decided_by, counted_at_ms
                     FROM counts WHERE warehouse_id = $1 AND count_id = ANY($2) FOR UPDATE",
                    vec![
                        self.wh(),
                        Box::new(refs.counts.iter().copied().collect::<Vec<Uuid>>()),
                    ],
                ),
            ));
        }

        let (looks, stmts): (Vec<Look>, Vec<Stmt>) = asks.into_iter().unzip();
        let answers = query_pipeline(self.tx, &stmts).await?;
        let mut w = World {
            now_ms: self.now_ms,
            ..World::default()
        };
        for (look, rows) in looks.into_iter().zip(answers) {
            for r in rows {
                match look {
                    Look::Merchants => {
                        w.merchants.insert(r.try_get(0)?);
                    }
                    Look::Products => {
                        w.products.insert(r.try_get(0)?, r.try_get(1)?);
                    }
                    Look::Locations => {
                        let kind: String = r.try_get(1)?;
                        let kind = LocationKind::parse(&kind)
                            .ok_or_else(|| corrupt(format!("location kind {kind:?}")))?;
                        w.locations.insert(r.try_get(0)?, kind);
                    }
                    Look::Notices => {
                        let notice: InboundNotice = from_json(r.try_get(0)?)?;
                        w.notices.insert(notice.id.clone(), notice);
                    }
                    Look::Receipts => {
                        w.receipts.insert(
                            r.try_get(0)?,
                            ReceiptRef {
                                merchant_id: r.try_get(1)?,
                                notice_id: r.try_get(2)?,
                                closed: r.try_get(3)?,
                            },
                        );
                    }
                    Look::ReceiptContainers => {
                        w.receipt_containers
                            .entry(r.try_get(0)?)
                            .or_default()
                            .insert((r.try_get(2)?, r.try_get(1)?));
                    }
                    Look::Tasks | Look::CountReasons => {
                        let row = task_from_row(&r)?;
                        w.tasks.insert(row.task.task_id.clone(), row);
                    }
                    Look::PutawayContainers => {
                        let row = task_from_row(&r)?;
                        let id = row.task.task_id.clone();
                        if let Some(c) = &row.task.container {
                            w.putaway_tasks
                                .entry(c.clone())
                                .or_default()
                                .push(id.clone());
                        }
                        w.tasks.insert(id, row);
                    }
                    Look::Operators => {
                        let data: String = r.try_get(1)?;
                        w.operators
                            .insert(r.try_get(0)?, crate::store::rows::operator_ref(&data)?);
                    }
                    Look::Counts => {
                        let status: String = r.try_get(5)?;
                        let lines: String = r.try_get(6)?;
                        let row = crate::store::rows::count_row(
                            r.try_get(0)?,
                            r.try_get(1)?,
                            r.try_get(2)?,
                            r.try_get(3)?,
                            r.try_get(4)?,
                            &status,
                            &lines,
                            r.try_get(7)?,
                            r.try_get(8)?,
                        )?;
                        w.counts.insert(row.count_id, row);
                    }
                    Look::Stock | Look::ContainerStock | Look::LocationStock => {
                        let (key, quantity) = stock_from_row(&r)?;
                        w.stock.insert(key, quantity);
                    }
                    Look::AppliedEvents => {
                        w.applied_events.insert(r.try_get(0)?);
                    }
                    Look::Orders => {
                        let order = super::orders::order_row(&r)?;
                        w.orders.insert(order.id, order);
                    }
                    Look::Picks => {
                        let p = pick_from_row(&r)?;
                        w.picks.insert((p.order_id, p.line_id.clone()), p);
                    }
                }
            }
        }
        if !refs.container_stock.is_empty() {
            w.whole_containers = refs.container_stock.clone();
        }
        Ok(w)
    }

    async fn write(&mut self, effects: &[Effect]) -> Result<(), StoreError> {
        self.effects.extend_from_slice(effects);
        Ok(())
    }

    async fn mark(&mut self) -> Result<(), StoreError> {
        // What was held back before the mark is written before it, so undoing keeps it.
        self.flush(false).await?;
        let sql = if self.savepoint_open {
            "RELEASE SAVEPOINT push_mark; SAVEPOINT push_mark"
        } else {
            "SAVEPOINT push_mark"
        };
        self.tx.batch_execute(sql).await?;
        self.savepoint_open = true;
        self.marked = Some(self.changes.len());
        Ok(())
    }

    async fn keep(&mut self) -> Result<(), StoreError> {
        self.flush(false).await?;
        self.marked = None;
        Ok(())
    }

    async fn undo(&mut self) -> Result<(), StoreError> {
        self.tx
            .batch_execute("ROLLBACK TO SAVEPOINT push_mark; RELEASE SAVEPOINT push_mark")
            .await?;
        self.savepoint_open = false;
        let published = self.marked.take().unwrap_or(0);
        self.changes.truncate(published);
        self.effects.clear();
        self.events.clear();
        Ok(())
    }
}

/// The order stock rows are written in: their primary key's.
fn stock_sort_key(k: &StockKey) -> (&str, &str, &str, &str, &str, &str, &str) {
    (
        &k.merchant_id,
        &k.product_id,
        &k.location,
        k.container.as_deref().unwrap_or(""),
        k.lot.as_deref().unwrap_or(""),
        k.expiry.as_deref().unwrap_or(""),
        k.condition.as_str(),
    )
}

//! [`super::Postgres`] as [`crate::store::MasterData`]: master data in and out, enrolment codes.
//!
//! Master-data writes of one warehouse run one at a time, as in SQLite: each takes the
//! warehouse's master-data advisory lock (transaction-level) first, so a check (a badge not taken,
//! a product's merchant) and the write it allows are never split by another upsert, and data sent
//! twice at once is still seen as unchanged the second time. Pushes take no such lock: they only
//! read master data, and a push closing a notice serializes with an upsert of it on the row.
//!
//! Listings compare and order ids bytewise (`COLLATE "C"`), as SQLite does, whatever the
//! database's collation: a keyset page then holds the same ids on both backends.

use async_trait::async_trait;
use deadpool_postgres::{Client, Transaction};
use laituri_protocol::{
    ApiKey, Change, EnrolmentCode, EntityKind, InboundNotice, Location, Merchant, Operator,
    Product, Removed,
};
use serde::de::DeserializeOwned;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::{PendingChange, Postgres, append_changes, snapshot};
use crate::enrolment::CodeToStore;
use crate::keys::{self, KeyToStore};
use crate::store::rows::{
    CodeRow, check_badge, check_notice, check_product, code_listing, corrupt, from_json,
    notice_status_str, settle_notice,
};
use crate::store::{MasterData, Page, Scope, StoreError, UpsertSummary};

/// Stores an enrolment code made at `now_ms` (see [`MasterData::store_enrolment_code`]) and
/// answers its id.
async fn put_code(
    tx: &tokio_postgres::Transaction<'_>,
    wh: &str,
    code: &CodeToStore,
    now_ms: i64,
) -> Result<Uuid, StoreError> {
    let row = tx
        .query_one(
            "INSERT INTO enrolment_codes (warehouse_id, code_id, code_hash, device_id, uses,
                 uses_left, created_at_ms, expires_at_ms, note)
             VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8)
             ON CONFLICT (warehouse_id, code_hash) DO UPDATE SET
                 device_id = excluded.device_id, uses = excluded.uses,
                 uses_left = excluded.uses_left, created_at_ms = excluded.created_at_ms,
                 expires_at_ms = excluded.expires_at_ms, note = excluded.note
             RETURNING code_id",
            &[
                &wh,
                &code.id,
                &code.code_hash,
                &code.device_id,
                &i64::from(code.uses),
                &now_ms,
                &now_ms.saturating_add(code.valid_for_ms),
                &code.note,
            ],
        )
        .await?;
    Ok(row.try_get(0)?)
}

/// Stores the codes an older server kept in clear (see migration 0002) hashed, and drops them;
/// inside the migrations' transaction.
pub(super) async fn adopt_legacy_codes(
    tx: &tokio_postgres::Transaction<'_>,
    now_ms: i64,
) -> Result<(), StoreError> {
    let legacy: bool = tx
        .query_one(
            "SELECT to_regclass('enrolment_codes_legacy') IS NOT NULL",
            &[],
        )
        .await?
        .try_get(0)?;
    if !legacy {
        return Ok(());
    }
    let codes = tx
        .query(
            "SELECT warehouse_id, code FROM enrolment_codes_legacy ORDER BY created_at, code",
            &[],
        )
        .await?;
    for r in &codes {
        let (wh, code): (String, String) = (r.try_get(0)?, r.try_get(1)?);
        put_code(tx, &wh, &CodeToStore::legacy(&code), now_ms).await?;
    }
    tx.batch_execute("DROP TABLE enrolment_codes_legacy")
        .await?;
    if !codes.is_empty() {
        tracing::warn!(
            codes = codes.len(),
            "enrolment codes stored in clear were hashed; they expire in 30 days"
        );
    }
    Ok(())
}

/// The warehouse's enrolment codes (or the one `only`), oldest first, with the devices each
/// enrolled.
async fn listed_codes(
    client: &tokio_postgres::Transaction<'_>,
    wh: &str,
    only: Option<Uuid>,
    page: Option<(Option<Uuid>, u32)>,
) -> Result<Vec<EnrolmentCode>, StoreError> {
    let after = page.and_then(|(after, _)| after);
    let limit = i64::from(page.map_or(1, |(_, limit)| limit));
    let codes = client
        .query(
            "SELECT code_id, created_at_ms, expires_at_ms, uses, uses_left, device_id, note
             FROM enrolment_codes WHERE warehouse_id = $1 AND ($2::uuid IS NULL OR code_id = $2)
                 AND ($3::uuid IS NULL OR (created_at_ms, code_id) >
                     (SELECT created_at_ms, code_id FROM enrolment_codes
                      WHERE warehouse_id = $1 AND code_id = $3))
             ORDER BY created_at_ms, code_id LIMIT $4",
            &[&wh, &only, &after, &limit],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(CodeRow {
                id: r.try_get(0)?,
                created_at_ms: r.try_get(1)?,
                expires_at_ms: r.try_get(2)?,
                uses: r.try_get(3)?,
                uses_left: r.try_get(4)?,
                device_id: r.try_get(5)?,
                note: r.try_get(6)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let ids: Vec<Uuid> = codes.iter().map(|c| c.id).collect();
    let uses = client
        .query(
            "SELECT code_id, device_id, at_ms FROM enrolment_code_uses
             WHERE warehouse_id = $1 AND code_id = ANY($2::uuid[])
             ORDER BY at_ms, device_id",
            &[&wh, &ids],
        )
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    code_listing(codes, uses)
}

/// The first key of the advisory lock that serializes a warehouse's master-data writes; the
/// second is the hash of the warehouse id (a collision only makes two warehouses wait in turn).
const MASTER_LOCK: i32 = 0x6d61_7374;

/// A transaction that holds the warehouse's master-data lock.
async fn master_transaction<'c>(
    client: &'c mut Client,
    wh: &str,
) -> Result<Transaction<'c>, StoreError> {
    let tx = client.transaction().await?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        &[&MASTER_LOCK, &wh],
    )
    .await?;
    Ok(tx)
}

/// What upserting one item did: its change for the log, or `None` when nothing changed.
type Staged = Result<Option<PendingChange>, StoreError>;

/// An item of master data as an upsert writes it.
#[async_trait]
trait Upsert: Sync {
    /// Checks the item against what is stored and writes it unless it is stored as it is.
    async fn upsert(&self, tx: &Transaction<'_>, wh: &str) -> Staged;
}

/// Writes an item with `insert`, whose parameters are `params` and then the item's data, unless
/// `stored` (the data of its row) already holds that data; answers its change when written.
async fn write_changed(
    tx: &Transaction<'_>,
    stored: Option<&str>,
    change: PendingChange,
    insert: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Staged {
    if stored == Some(change.data.as_str()) {
        return Ok(None);
    }
    let stmt = tx.prepare_cached(insert).await?;
    let mut params = params.to_vec();
    params.push(&change.data);
    tx.execute(&stmt, &params).await?;
    Ok(Some(change))
}

/// The one row `sql` answers (a prepared statement kept on the connection).
async fn one_row(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Row, StoreError> {
    let stmt = tx.prepare_cached(sql).await?;
    Ok(tx.query_one(&stmt, params).await?)
}

#[async_trait]
impl Upsert for Merchant {
    async fn upsert(&self, tx: &Transaction<'_>, wh: &str) -> Staged {
        let stored = one_row(
            tx,
            "SELECT (SELECT data FROM merchants WHERE warehouse_id = $1 AND id = $2)",
            &[&wh, &self.id],
        )
        .await?;
        let change = PendingChange::of(None, Some(&self.id), &Change::Merchant(self.clone()));
        write_changed(
            tx,
            stored.get(0),
            change,
            "INSERT INTO merchants (warehouse_id, id, data) VALUES ($1, $2, $3)
             ON CONFLICT (warehouse_id, id) DO UPDATE SET data = excluded.data",
            &[&wh, &self.id],
        )
        .await
    }
}

#[async_trait]
impl Upsert for Product {
    async fn upsert(&self, tx: &Transaction<'_>, wh: &str) -> Staged {
        let row = one_row(
            tx,
            "SELECT EXISTS (SELECT 1 FROM merchants WHERE warehouse_id = $1 AND id = $2),
                 p.merchant_id, p.data
             FROM (VALUES (1)) AS one
             LEFT JOIN products AS p ON p.warehouse_id = $1 AND p.id = $3",
            &[&wh, &self.merchant_id, &self.id],
        )
        .await?;
        let owner: Option<&str> = row.get(1);
        check_product(self, row.get(0), owner)?;
        let change = PendingChange::of(
            None,
            Some(&self.merchant_id),
            &Change::Product(self.clone()),
        );
        write_changed(
            tx,
            row.get(2),
            change,
            "INSERT INTO products (warehouse_id, id, merchant_id, data) VALUES ($1, $2, $3, $4)
             ON CONFLICT (warehouse_id, id) DO UPDATE SET
                 merchant_id = excluded.merchant_id, data = excluded.data",
            &[&wh, &self.id, &self.merchant_id],
        )
        .await
    }
}

#[async_trait]
impl Upsert for Location {
    async fn upsert(&self, tx: &Transaction<'_>, wh: &str) -> Staged {
        let stored = one_row(
            tx,
            "SELECT (SELECT data FROM locations WHERE warehouse_id = $1 AND code = $2)",
            &[&wh, &self.code],
        )
        .await?;
        let change = PendingChange::of(None, None, &Change::Location(self.clone()));
        write_changed(
            tx,
            stored.get(0),
            change,
            "INSERT INTO locations (warehouse_id, code, kind, data) VALUES ($1, $2, $3, $4)
             ON CONFLICT (warehouse_id, code) DO UPDATE SET
                 kind = excluded.kind, data = excluded.data",
            &[&wh, &self.code, &self.kind.as_str()],
        )
        .await
    }
}

#[async_trait]
impl Upsert for Operator {
    async fn upsert(&self, tx: &Transaction<'_>, wh: &str) -> Staged {
        // The data of an inactive operator counts as not stored: sending a deactivated operator
        // again brings them back, even unchanged.
        let row = one_row(
            tx,
            "SELECT (SELECT id FROM operators WHERE warehouse_id = $1 AND badge = $2),
                 (SELECT data FROM operators WHERE warehouse_id = $1 AND id = $3 AND active)",
            &[&wh, &self.badge, &self.id],
        )
        .await?;
        check_badge(self, row.get(0))?;
        let stored_hash = row
            .get::<_, Option<&str>>(1)
            .map(from_json::<Operator>)
            .transpose()?
            .and_then(|stored| stored.pin_hash);
        let hashed = self.clone().with_pin_hashed(stored_hash.as_deref());
        let change = PendingChange::of(None, None, &Change::Operator(hashed));
        write_changed(
            tx,
            row.get(1),
            change,
            "INSERT INTO operators (warehouse_id, id, badge, data) VALUES ($1, $2, $3, $4)
             ON CONFLICT (warehouse_id, id) DO UPDATE SET
                 badge = excluded.badge, data = excluded.data, active = TRUE",
            &[&wh, &self.id, &self.badge],
        )
        .await
    }
}

#[async_trait]
impl Upsert for InboundNotice {
    async fn upsert(&self, tx: &Transaction<'_>, wh: &str) -> Staged {
        let row = one_row(
            tx,
            "SELECT EXISTS (SELECT 1 FROM merchants WHERE warehouse_id = $1 AND id = $2),
                 (SELECT data FROM inbound_notices WHERE warehouse_id = $1 AND id = $3)",
            &[&wh, &self.merchant_id, &self.id],
        )
        .await?;
        let merchant_known: bool = row.get(0);
        // The merchants of the lines' products, in one look-up.
        let mut owners = std::collections::HashMap::new();
        if merchant_known && !self.lines.is_empty() {
            let ids: Vec<&str> = self.lines.iter().map(|l| l.product_id.as_str()).collect();
            let stmt = tx
                .prepare_cached(
                    "SELECT id, merchant_id FROM products
                     WHERE warehouse_id = $1 AND id = ANY($2::text[])",
                )
                .await?;
            for r in tx.query(&stmt, &[&wh, &ids]).await? {
                owners.insert(r.get::<_, String>(0), r.get::<_, String>(1));
            }
        }
        check_notice(self, merchant_known, |product| {
            Ok(owners.get(product).cloned())
        })?;
        let notice = settle_notice(self, row.get(1))?;
        let change = PendingChange::of(
            None,
            Some(&self.merchant_id),
            &Change::InboundNotice(notice.clone()),
        );
        write_changed(
            tx,
            row.get(1),
            change,
            "INSERT INTO inbound_notices (warehouse_id, id, merchant_id, status, data)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (warehouse_id, id) DO UPDATE SET
                 merchant_id = excluded.merchant_id, status = excluded.status,
                 data = excluded.data",
            &[
                &wh,
                &self.id,
                &self.merchant_id,
                &notice_status_str(notice.status),
            ],
        )
        .await
    }
}

impl Postgres {
    /// Upserts `items` in order in one transaction: the first refused item refuses them all; the
    /// changed ones are appended to the change log, in order, as the transaction's last write.
    async fn upsert_all<T: Upsert>(&self, items: &[T]) -> Result<UpsertSummary, StoreError> {
        let wh = self.warehouse_id.as_str();
        self.retrying(|| async move {
            let mut client = self.pool.get().await?;
            let tx = master_transaction(&mut client, wh).await?;
            let mut changes = Vec::new();
            for item in items {
                changes.extend(item.upsert(&tx, wh).await?);
            }
            append_changes(&tx, wh, &changes).await?;
            tx.commit().await?;
            Ok(UpsertSummary {
                received: items.len(),
                changed: changes.len(),
            })
        })
        .await
    }

    /// A keyset page of `table`'s items: rows of the warehouse matching `only` whose `key` is
    /// after the page's `after` (all from the start when it is None), at most `limit` of them.
    async fn list<T: DeserializeOwned>(
        &self,
        table: &str,
        key: &str,
        only: &str,
        page: &Page,
    ) -> Result<Vec<T>, StoreError> {
        let sql = format!(
            r#"SELECT data FROM {table} WHERE warehouse_id = $1 AND {only} AND {key} > $2 COLLATE "C"
               ORDER BY {key} COLLATE "C" LIMIT $3"#
        );
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(&sql).await?;
        let after = page.after.as_deref().unwrap_or("");
        let limit = i64::from(page.limit);
        let rows = client
            .query(&stmt, &[&self.warehouse_id, &after, &limit])
            .await?;
        rows.iter().map(|r| from_json(r.get(0))).collect()
    }

    /// As [`Self::list`], of the rows whose `merchant` column is the scope's merchant (all rows
    /// for the warehouse's scope).
    async fn list_scoped<T: DeserializeOwned>(
        &self,
        table: &str,
        key: &str,
        merchant: &str,
        page: &Page,
        scope: &Scope,
    ) -> Result<Vec<T>, StoreError> {
        let sql = format!(
            r#"SELECT data FROM {table} WHERE warehouse_id = $1
                   AND ($4::text IS NULL OR {merchant} = $4) AND {key} > $2 COLLATE "C"
               ORDER BY {key} COLLATE "C" LIMIT $3"#
        );
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(&sql).await?;
        let after = page.after.as_deref().unwrap_or("");
        let limit = i64::from(page.limit);
        let rows = client
            .query(
                &stmt,
                &[&self.warehouse_id, &after, &limit, &scope.merchant()],
            )
            .await?;
        rows.iter().map(|r| from_json(r.get(0))).collect()
    }
}

#[async_trait]
impl MasterData for Postgres {
    async fn store_enrolment_code(&self, code: &CodeToStore) -> Result<EnrolmentCode, StoreError> {
        let wh = self.warehouse_id.as_str();
        let now = self.clock.now_ms();
        self.retrying(|| async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let id = put_code(&tx, wh, code, now).await?;
            let listed = listed_codes(&tx, wh, Some(id), None).await?.pop();
            tx.commit().await?;
            listed.ok_or_else(|| corrupt(format!("enrolment code {id} was not stored")))
        })
        .await
    }

    async fn enrolment_codes(&self, page: &Page) -> Result<Vec<EnrolmentCode>, StoreError> {
        let after = page.after_id()?;
        let mut client = self.pool.get().await?;
        // One snapshot: the codes and their uses agree.
        let tx = snapshot(&mut client).await?;
        let listed = listed_codes(&tx, &self.warehouse_id, None, Some((after, page.limit))).await?;
        tx.commit().await?;
        Ok(listed)
    }

    async fn revoke_enrolment_code(&self, id: Uuid) -> Result<bool, StoreError> {
        let now = self.clock.now_ms();
        let client = self.pool.get().await?;
        let n = client
            .execute(
                "UPDATE enrolment_codes SET expires_at_ms = $3
                 WHERE warehouse_id = $1 AND code_id = $2 AND expires_at_ms > $3",
                &[&self.warehouse_id, &id, &now],
            )
            .await?;
        Ok(n > 0)
    }

    async fn store_api_key(&self, key: &KeyToStore) -> Result<ApiKey, StoreError> {
        let wh = self.warehouse_id.as_str();
        let now = self.clock.now_ms();
        self.retrying(|| async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            if let Some(m) = &key.merchant_id {
                let known = tx
                    .query_opt(
                        "SELECT 1 FROM merchants WHERE warehouse_id = $1 AND id = $2",
                        &[&wh, m],
                    )
                    .await?
                    .is_some();
                if !known {
                    return Err(StoreError::invalid(format!(
                        "merchant {m} is not known: send the merchant first (POST {})",
                        laituri_protocol::paths::MERCHANTS
                    )));
                }
            }
            tx.execute(
                "INSERT INTO api_keys (warehouse_id, key_id, key_hash, scope, merchant_id, note,
                     created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &wh,
                    &key.id,
                    &key.key_hash,
                    &keys::scope_str(key.scope),
                    &key.merchant_id,
                    &key.note,
                    &now,
                ],
            )
            .await?;
            tx.commit().await?;
            Ok(ApiKey {
                id: key.id,
                scope: key.scope,
                merchant_id: key.merchant_id.clone(),
                note: key.note.clone(),
                created_at_ms: now,
                revoked_at_ms: None,
            })
        })
        .await
    }

    async fn api_keys(&self, page: &Page) -> Result<Vec<ApiKey>, StoreError> {
        let after = page.after_id()?.unwrap_or(Uuid::nil());
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT key_id, scope, merchant_id, note, created_at_ms, revoked_at_ms
                 FROM api_keys WHERE warehouse_id = $1 AND key_id > $2 ORDER BY key_id LIMIT $3",
                &[&self.warehouse_id, &after, &i64::from(page.limit)],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let scope: &str = r.try_get(1)?;
                Ok(ApiKey {
                    id: r.try_get(0)?,
                    scope: keys::parse_scope(scope)
                        .ok_or_else(|| corrupt(format!("a key has scope {scope:?}")))?,
                    merchant_id: r.try_get(2)?,
                    note: r.try_get(3)?,
                    created_at_ms: r.try_get(4)?,
                    revoked_at_ms: r.try_get(5)?,
                })
            })
            .collect()
    }

    async fn revoke_api_key(&self, id: Uuid) -> Result<bool, StoreError> {
        let now = self.clock.now_ms();
        let client = self.pool.get().await?;
        let n = client
            .execute(
                "UPDATE api_keys SET revoked_at_ms = $3
                 WHERE warehouse_id = $1 AND key_id = $2 AND revoked_at_ms IS NULL",
                &[&self.warehouse_id, &id, &now],
            )
            .await?;
        Ok(n > 0)
    }

    async fn api_key_scope(&self, key_hash: &str) -> Result<Option<Scope>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(
                "SELECT scope, merchant_id FROM api_keys
                 WHERE warehouse_id = $1 AND key_hash = $2 AND revoked_at_ms IS NULL",
            )
            .await?;
        let row = client
            .query_opt(&stmt, &[&self.warehouse_id, &key_hash])
            .await?;
        Ok(row.and_then(|r| keys::scope_of(keys::parse_scope(r.get(0))?, r.get(1))))
    }

    async fn deactivate_operator(&self, operator_id: &str) -> Result<bool, StoreError> {
        let wh = self.warehouse_id.as_str();
        self.retrying(|| async move {
            let mut client = self.pool.get().await?;
            let tx = master_transaction(&mut client, wh).await?;
            let n = tx
                .execute(
                    "UPDATE operators SET active = FALSE
                     WHERE warehouse_id = $1 AND id = $2 AND active",
                    &[&wh, &operator_id],
                )
                .await?;
            if n == 0 {
                return Ok(false);
            }
            // A tombstone tells every terminal to forget the operator.
            let removed = Change::Removed(Removed {
                kind: EntityKind::Operator,
                id: operator_id.to_string(),
            });
            append_changes(&tx, wh, &[PendingChange::of(None, None, &removed)]).await?;
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    async fn upsert_merchants(&self, items: &[Merchant]) -> Result<UpsertSummary, StoreError> {
        self.upsert_all(items).await
    }

    async fn upsert_products(&self, items: &[Product]) -> Result<UpsertSummary, StoreError> {
        self.upsert_all(items).await
    }

    async fn upsert_locations(&self, items: &[Location]) -> Result<UpsertSummary, StoreError> {
        self.upsert_all(items).await
    }

    async fn upsert_operators(&self, items: &[Operator]) -> Result<UpsertSummary, StoreError> {
        self.upsert_all(items).await
    }

    async fn upsert_notices(&self, items: &[InboundNotice]) -> Result<UpsertSummary, StoreError> {
        self.upsert_all(items).await
    }

    async fn merchants(&self, page: &Page, scope: &Scope) -> Result<Vec<Merchant>, StoreError> {
        self.list_scoped("merchants", "id", "id", page, scope).await
    }

    async fn products(&self, page: &Page, scope: &Scope) -> Result<Vec<Product>, StoreError> {
        self.list_scoped("products", "id", "merchant_id", page, scope)
            .await
    }

    async fn locations(&self, page: &Page) -> Result<Vec<Location>, StoreError> {
        self.list("locations", "code", "TRUE", page).await
    }

    /// Active operators only.
    async fn operators(&self, page: &Page) -> Result<Vec<Operator>, StoreError> {
        self.list("operators", "id", "active", page).await
    }

    async fn notices(&self, page: &Page, scope: &Scope) -> Result<Vec<InboundNotice>, StoreError> {
        self.list_scoped("inbound_notices", "id", "merchant_id", page, scope)
            .await
    }

    async fn notices_by_id(&self, ids: &[String]) -> Result<Vec<InboundNotice>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT data FROM inbound_notices WHERE warehouse_id = $1 AND id = ANY($2::text[])",
                &[&self.warehouse_id, &ids],
            )
            .await?;
        rows.iter().map(|r| from_json(r.get(0))).collect()
    }
}

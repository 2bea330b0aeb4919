//! [`super::sqlite::Sqlite`] as [`crate::store::Webhooks`]: subscriptions, the outbox's fan-out
//! and the deliveries' claims and records. SQLite has one writer, so a claim is a plain update
//! in a write transaction; the claim time still matters after a crash (a delivery claimed by a
//! server that died is taken again when the claim runs out).

use async_trait::async_trait;
use laituri_protocol::{DeliveryStatus, Webhook, WebhookDelivery, WebhookEventType};
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use super::rows::{corrupt, from_json, parse_uuid, to_json};
use super::sqlite::{Sqlite, SqliteStore, merchant_exists};
use super::{Page, Scope, StoreError, Webhooks};
use crate::webhooks::{Attempted, DueDelivery, OutboxEvent, WebhookChange, WebhookToStore};

const WEBHOOK_COLUMNS: &str = "SELECT webhook_id, merchant_id, url, event_types, active,
     created_at_ms FROM webhook_subscriptions";

fn webhook_row(r: &Row<'_>) -> Result<Webhook, StoreError> {
    let id: String = r.get(0)?;
    let types: String = r.get(3)?;
    Ok(Webhook {
        id: parse_uuid(&id)?,
        merchant_id: r.get(1)?,
        url: r.get(2)?,
        event_types: from_json(&types)?,
        active: r.get(4)?,
        created_at_ms: r.get(5)?,
    })
}

const DELIVERY_COLUMNS: &str = "SELECT d.delivery_id, d.event_id, d.webhook_id, d.kind,
     d.status, d.attempts, d.last_status_code, d.last_error, d.last_excerpt,
     d.next_attempt_at_ms, d.delivered_at_ms, d.created_at_ms
     FROM webhook_deliveries d JOIN webhook_subscriptions s
         ON s.warehouse_id = d.warehouse_id AND s.webhook_id = d.webhook_id";

fn kind(s: &str) -> Result<WebhookEventType, StoreError> {
    WebhookEventType::parse(s).ok_or_else(|| corrupt(format!("webhook event type {s:?}")))
}

fn delivery_row(r: &Row<'_>) -> Result<WebhookDelivery, StoreError> {
    let (id, event, webhook): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
    let (k, status): (String, String) = (r.get(3)?, r.get(4)?);
    let attempts: i64 = r.get(5)?;
    let code: Option<i64> = r.get(6)?;
    Ok(WebhookDelivery {
        id: parse_uuid(&id)?,
        event_id: parse_uuid(&event)?,
        webhook_id: parse_uuid(&webhook)?,
        kind: kind(&k)?,
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("delivery status {status:?}")))?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        last_status_code: code.and_then(|c| u16::try_from(c).ok()),
        last_error: r.get(7)?,
        last_response_excerpt: r.get(8)?,
        next_attempt_at_ms: r.get(9)?,
        delivered_at_ms: r.get(10)?,
        created_at_ms: r.get(11)?,
    })
}

fn one_webhook(
    conn: &Connection,
    wh: &str,
    id: Uuid,
    scope: &Scope,
) -> Result<Option<Webhook>, StoreError> {
    let sql = format!(
        "{WEBHOOK_COLUMNS} WHERE warehouse_id = ?1 AND webhook_id = ?2
         AND (?3 IS NULL OR merchant_id = ?3)"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![wh, id.to_string(), scope.merchant()])?;
    rows.next()?.map(webhook_row).transpose()
}

fn one_delivery(
    conn: &Connection,
    wh: &str,
    id: Uuid,
) -> Result<Option<WebhookDelivery>, StoreError> {
    let sql = format!("{DELIVERY_COLUMNS} WHERE d.warehouse_id = ?1 AND d.delivery_id = ?2");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![wh, id.to_string()])?;
    rows.next()?.map(delivery_row).transpose()
}

impl SqliteStore {
    fn create_webhook(&self, w: &WebhookToStore) -> Result<Webhook, StoreError> {
        let wh = self.warehouse_id();
        let l = Webhook {
            created_at_ms: self.now_ms(),
            ..w.listed.clone()
        };
        self.write(|tx| {
            if !merchant_exists(tx, wh, &l.merchant_id)? {
                return Err(StoreError::invalid(format!(
                    "merchant {:?} is not known: add the merchant first",
                    l.merchant_id
                )));
            }
            tx.prepare_cached(
                "INSERT INTO webhook_subscriptions (warehouse_id, webhook_id, merchant_id, url,
                     secret, event_types, active, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                wh,
                l.id.to_string(),
                l.merchant_id,
                l.url,
                w.secret,
                to_json(&l.event_types),
                l.active,
                l.created_at_ms
            ])?;
            Ok(l)
        })
    }

    fn webhooks(&self, page: &Page, scope: &Scope) -> Result<Vec<Webhook>, StoreError> {
        let after = page.after_id()?.map(|a| a.to_string());
        self.read(|conn| {
            let sql = format!(
                "{WEBHOOK_COLUMNS} WHERE warehouse_id = ?1 AND (?2 IS NULL OR merchant_id = ?2)
                 AND (?3 IS NULL OR webhook_id > ?3) ORDER BY webhook_id LIMIT ?4"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![
                self.warehouse_id(),
                scope.merchant(),
                after,
                page.limit.max(1)
            ])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(webhook_row(r)?);
            }
            Ok(out)
        })
    }

    fn change_webhook(
        &self,
        id: Uuid,
        change: &WebhookChange,
        scope: &Scope,
    ) -> Result<Option<Webhook>, StoreError> {
        let wh = self.warehouse_id();
        self.write(|tx| {
            let Some(stored) = one_webhook(tx, wh, id, scope)? else {
                return Ok(None);
            };
            super::rows::same_webhook_merchant(&stored, change)?;
            tx.prepare_cached(
                "UPDATE webhook_subscriptions SET url = ?3, event_types = ?4, active = ?5,
                     secret = coalesce(?6, secret)
                 WHERE warehouse_id = ?1 AND webhook_id = ?2",
            )?
            .execute(params![
                wh,
                id.to_string(),
                change.url,
                to_json(&change.event_types),
                change.active,
                change.secret
            ])?;
            one_webhook(tx, wh, id, scope)
        })
    }

    fn delete_webhook(&self, id: Uuid, scope: &Scope) -> Result<bool, StoreError> {
        let wh = self.warehouse_id();
        self.write(|tx| {
            if one_webhook(tx, wh, id, scope)?.is_none() {
                return Ok(false);
            }
            tx.prepare_cached(
                "DELETE FROM webhook_deliveries WHERE warehouse_id = ?1 AND webhook_id = ?2",
            )?
            .execute(params![wh, id.to_string()])?;
            tx.prepare_cached(
                "DELETE FROM webhook_subscriptions WHERE warehouse_id = ?1 AND webhook_id = ?2",
            )?
            .execute(params![wh, id.to_string()])?;
            Ok(true)
        })
    }

    fn webhook_deliveries(
        &self,
        id: Uuid,
        page: &Page,
        scope: &Scope,
    ) -> Result<Option<Vec<WebhookDelivery>>, StoreError> {
        let after = page.after_id()?.map(|a| a.to_string());
        let wh = self.warehouse_id();
        self.read(|conn| {
            if one_webhook(conn, wh, id, scope)?.is_none() {
                return Ok(None);
            }
            let sql = format!(
                "{DELIVERY_COLUMNS} WHERE d.warehouse_id = ?1 AND d.webhook_id = ?2
                 AND (?3 IS NULL OR d.delivery_id > ?3) ORDER BY d.delivery_id LIMIT ?4"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![wh, id.to_string(), after, page.limit.max(1)])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(delivery_row(r)?);
            }
            Ok(Some(out))
        })
    }

    fn redeliver(
        &self,
        id: Uuid,
        delivery_id: Uuid,
        scope: &Scope,
    ) -> Result<Option<WebhookDelivery>, StoreError> {
        let wh = self.warehouse_id();
        let now = self.now_ms();
        self.write(|tx| {
            if one_webhook(tx, wh, id, scope)?.is_none() {
                return Ok(None);
            }
            let changed = tx
                .prepare_cached(
                    "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at_ms = ?4,
                         window_from_ms = ?4, claimed_until_ms = NULL
                     WHERE warehouse_id = ?1 AND webhook_id = ?2 AND delivery_id = ?3",
                )?
                .execute(params![wh, id.to_string(), delivery_id.to_string(), now])?;
            if changed == 0 {
                return Ok(None);
            }
            one_delivery(tx, wh, delivery_id)
        })
    }

    fn events_to_fan_out(&self, limit: u32) -> Result<Vec<OutboxEvent>, StoreError> {
        let wh = self.warehouse_id();
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT e.event_id, e.merchant_id, e.kind, e.subject, e.body,
                     (SELECT count(*) FROM webhook_subscriptions s
                      WHERE s.warehouse_id = e.warehouse_id AND s.merchant_id = e.merchant_id
                        AND s.active AND EXISTS (
                            SELECT 1 FROM json_each(s.event_types) t WHERE t.value = e.kind))
                 FROM webhook_events e
                 WHERE e.warehouse_id = ?1 AND e.fanned_at_ms IS NULL
                 ORDER BY e.created_at_ms, e.event_id LIMIT ?2",
            )?;
            let mut rows = stmt.query(params![wh, limit.max(1)])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let (id, k): (String, String) = (r.get(0)?, r.get(2)?);
                let subscribers: i64 = r.get(5)?;
                out.push(OutboxEvent {
                    event_id: parse_uuid(&id)?,
                    merchant_id: r.get(1)?,
                    kind: kind(&k)?,
                    subject: r.get(3)?,
                    body: r.get(4)?,
                    subscribers: u32::try_from(subscribers).unwrap_or(u32::MAX),
                });
            }
            Ok(out)
        })
    }

    fn fan_out(&self, event_id: Uuid, body: Option<&str>) -> Result<u32, StoreError> {
        let wh = self.warehouse_id();
        let now = self.now_ms();
        self.write(|tx| {
            let event: Option<(String, String)> = tx
                .prepare_cached(
                    "UPDATE webhook_events SET fanned_at_ms = ?3, body = coalesce(?4, body)
                     WHERE warehouse_id = ?1 AND event_id = ?2 AND fanned_at_ms IS NULL
                     RETURNING merchant_id, kind",
                )?
                .query_row(params![wh, event_id.to_string(), now, body], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            let Some((merchant, k)) = event else {
                return Ok(0);
            };
            let subscribers: Vec<String> = tx
                .prepare_cached(
                    "SELECT s.webhook_id FROM webhook_subscriptions s
                     WHERE s.warehouse_id = ?1 AND s.merchant_id = ?2 AND s.active
                       AND EXISTS (SELECT 1 FROM json_each(s.event_types) t WHERE t.value = ?3)
                     ORDER BY s.webhook_id",
                )?
                .query_map(params![wh, merchant, k], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO webhook_deliveries (warehouse_id, delivery_id, webhook_id, event_id,
                     kind, next_attempt_at_ms, window_from_ms, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?6)
                 ON CONFLICT (warehouse_id, webhook_id, event_id) DO NOTHING",
            )?;
            let mut made = 0;
            for webhook in subscribers {
                made += insert.execute(params![
                    wh,
                    Uuid::now_v7().to_string(),
                    webhook,
                    event_id.to_string(),
                    k,
                    now
                ])? as u32;
            }
            Ok(made)
        })
    }

    fn claim_deliveries(&self, limit: u32, claim_ms: i64) -> Result<Vec<DueDelivery>, StoreError> {
        let wh = self.warehouse_id();
        let now = self.now_ms();
        let until = now.saturating_add(claim_ms.max(1));
        self.write(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT d.delivery_id, d.webhook_id, d.event_id, s.url, s.secret, e.body,
                     d.attempts, d.window_from_ms
                 FROM webhook_deliveries d
                 JOIN webhook_subscriptions s
                     ON s.warehouse_id = d.warehouse_id AND s.webhook_id = d.webhook_id
                 JOIN webhook_events e
                     ON e.warehouse_id = d.warehouse_id AND e.event_id = d.event_id
                 WHERE d.warehouse_id = ?1 AND d.status = 'pending' AND s.active
                   AND d.next_attempt_at_ms <= ?2
                   AND (d.claimed_until_ms IS NULL OR d.claimed_until_ms <= ?2)
                 ORDER BY d.next_attempt_at_ms, d.delivery_id LIMIT ?3",
            )?;
            let mut rows = stmt.query(params![wh, now, limit.max(1)])?;
            let mut due = Vec::new();
            while let Some(r) = rows.next()? {
                let (id, webhook, event): (String, String, String) =
                    (r.get(0)?, r.get(1)?, r.get(2)?);
                let attempts: i64 = r.get(6)?;
                due.push(DueDelivery {
                    delivery_id: parse_uuid(&id)?,
                    webhook_id: parse_uuid(&webhook)?,
                    event_id: parse_uuid(&event)?,
                    url: r.get(3)?,
                    secret: r.get(4)?,
                    body: r.get(5)?,
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                    window_from_ms: r.get(7)?,
                    claimed_until_ms: until,
                });
            }
            let mut claim = tx.prepare_cached(
                "UPDATE webhook_deliveries SET claimed_until_ms = ?3
                 WHERE warehouse_id = ?1 AND delivery_id = ?2",
            )?;
            for d in &due {
                claim.execute(params![wh, d.delivery_id.to_string(), until])?;
            }
            Ok(due)
        })
    }

    fn settle_delivery(&self, a: &Attempted) -> Result<(), StoreError> {
        let wh = self.warehouse_id();
        self.write(|tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE webhook_deliveries SET status = ?4, attempts = ?5,
                         last_status_code = ?6, last_error = ?7, last_excerpt = ?8,
                         next_attempt_at_ms = ?9, delivered_at_ms = coalesce(?10, delivered_at_ms),
                         claimed_until_ms = NULL
                     WHERE warehouse_id = ?1 AND delivery_id = ?2 AND claimed_until_ms = ?3",
                )?
                .execute(params![
                    wh,
                    a.delivery_id.to_string(),
                    a.claimed_until_ms,
                    a.status.as_str(),
                    a.attempts,
                    a.status_code,
                    a.error,
                    a.excerpt,
                    a.next_attempt_at_ms,
                    a.delivered_at_ms
                ])?;
            if changed > 0 && a.gone {
                tx.prepare_cached(
                    "UPDATE webhook_subscriptions SET active = 0
                     WHERE warehouse_id = ?1 AND webhook_id = ?2",
                )?
                .execute(params![wh, a.webhook_id.to_string()])?;
            }
            Ok(())
        })
    }
}

#[async_trait]
impl Webhooks for Sqlite {
    async fn create_webhook(&self, webhook: &WebhookToStore) -> Result<Webhook, StoreError> {
        let w = webhook.clone();
        self.write(move |s| s.create_webhook(&w)).await
    }

    async fn webhooks(&self, page: &Page, scope: &Scope) -> Result<Vec<Webhook>, StoreError> {
        let (page, scope) = (page.clone(), scope.clone());
        self.read(move |s| s.webhooks(&page, &scope)).await
    }

    async fn webhook(&self, id: Uuid, scope: &Scope) -> Result<Option<Webhook>, StoreError> {
        let scope = scope.clone();
        self.read(move |s| s.read(|conn| one_webhook(conn, s.warehouse_id(), id, &scope)))
            .await
    }

    async fn change_webhook(
        &self,
        id: Uuid,
        change: &WebhookChange,
        scope: &Scope,
    ) -> Result<Option<Webhook>, StoreError> {
        let (change, scope) = (change.clone(), scope.clone());
        self.write(move |s| s.change_webhook(id, &change, &scope))
            .await
    }

    async fn delete_webhook(&self, id: Uuid, scope: &Scope) -> Result<bool, StoreError> {
        let scope = scope.clone();
        self.write(move |s| s.delete_webhook(id, &scope)).await
    }

    async fn webhook_deliveries(
        &self,
        id: Uuid,
        page: &Page,
        scope: &Scope,
    ) -> Result<Option<Vec<WebhookDelivery>>, StoreError> {
        let (page, scope) = (page.clone(), scope.clone());
        self.read(move |s| s.webhook_deliveries(id, &page, &scope))
            .await
    }

    async fn redeliver(
        &self,
        id: Uuid,
        delivery_id: Uuid,
        scope: &Scope,
    ) -> Result<Option<WebhookDelivery>, StoreError> {
        let scope = scope.clone();
        self.write(move |s| s.redeliver(id, delivery_id, &scope))
            .await
    }

    async fn events_to_fan_out(&self, limit: u32) -> Result<Vec<OutboxEvent>, StoreError> {
        self.read(move |s| s.events_to_fan_out(limit)).await
    }

    async fn fan_out(&self, event_id: Uuid, body: Option<&str>) -> Result<u32, StoreError> {
        let body = body.map(str::to_string);
        self.write(move |s| s.fan_out(event_id, body.as_deref()))
            .await
    }

    async fn claim_deliveries(
        &self,
        limit: u32,
        claim_ms: i64,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        self.write(move |s| s.claim_deliveries(limit, claim_ms))
            .await
    }

    async fn settle_delivery(&self, attempt: &Attempted) -> Result<(), StoreError> {
        let a = attempt.clone();
        self.write(move |s| s.settle_delivery(&a)).await
    }
}

//! [`super::Postgres`] as [`crate::store::Webhooks`]: subscriptions, the outbox's fan-out and
//! the deliveries' claims and records, with several server processes on one database.
//!
//! - An event is fanned out once: the update that marks it takes its row, so a second server
//!   fanning it out at the same moment waits, then finds it fanned out and makes nothing.
//! - A due delivery is claimed with `FOR UPDATE SKIP LOCKED` and a claim time
//!   (`claimed_until_ms`): two servers never claim one delivery at once, and a delivery claimed
//!   by a server that died is claimed again once its claim runs out.
//! - An attempt is recorded only while the claim it was made under still holds.

use async_trait::async_trait;
use laituri_protocol::{DeliveryStatus, Webhook, WebhookDelivery, WebhookEventType};
use tokio_postgres::Row;
use uuid::Uuid;

use super::Postgres;
use crate::store::rows::{corrupt, same_webhook_merchant};
use crate::store::{Page, Scope, StoreError, Webhooks};
use crate::webhooks::{Attempted, DueDelivery, OutboxEvent, WebhookChange, WebhookToStore};

const WEBHOOK_COLUMNS: &str = "SELECT webhook_id, merchant_id, url, event_types, active,
     created_at_ms FROM webhook_subscriptions";

fn kind(s: &str) -> Result<WebhookEventType, StoreError> {
    WebhookEventType::parse(s).ok_or_else(|| corrupt(format!("webhook event type {s:?}")))
}

fn types_of(names: Vec<String>) -> Result<Vec<WebhookEventType>, StoreError> {
    names.iter().map(|n| kind(n)).collect()
}

fn names_of(types: &[WebhookEventType]) -> Vec<String> {
    types.iter().map(|t| t.as_str().to_string()).collect()
}

fn webhook_row(r: &Row) -> Result<Webhook, StoreError> {
    Ok(Webhook {
        id: r.try_get(0)?,
        merchant_id: r.try_get(1)?,
        url: r.try_get(2)?,
        event_types: types_of(r.try_get(3)?)?,
        active: r.try_get(4)?,
        created_at_ms: r.try_get(5)?,
    })
}

const DELIVERY_COLUMNS: &str = "SELECT d.delivery_id, d.event_id, d.webhook_id, d.kind,
     d.status, d.attempts, d.last_status_code, d.last_error, d.last_excerpt,
     d.next_attempt_at_ms, d.delivered_at_ms, d.created_at_ms FROM webhook_deliveries d";

fn delivery_row(r: &Row) -> Result<WebhookDelivery, StoreError> {
    let status: &str = r.try_get(4)?;
    let attempts: i64 = r.try_get(5)?;
    let code: Option<i64> = r.try_get(6)?;
    Ok(WebhookDelivery {
        id: r.try_get(0)?,
        event_id: r.try_get(1)?,
        webhook_id: r.try_get(2)?,
        kind: kind(r.try_get(3)?)?,
        status: DeliveryStatus::parse(status)
            .ok_or_else(|| corrupt(format!("delivery status {status:?}")))?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        last_status_code: code.and_then(|c| u16::try_from(c).ok()),
        last_error: r.try_get(7)?,
        last_response_excerpt: r.try_get(8)?,
        next_attempt_at_ms: r.try_get(9)?,
        delivered_at_ms: r.try_get(10)?,
        created_at_ms: r.try_get(11)?,
    })
}

async fn one_webhook(
    c: &impl deadpool_postgres::GenericClient,
    wh: &str,
    id: Uuid,
    scope: &Scope,
    lock: bool,
) -> Result<Option<Webhook>, StoreError> {
    let sql = format!(
        "{WEBHOOK_COLUMNS} WHERE warehouse_id = $1 AND webhook_id = $2
         AND ($3::text IS NULL OR merchant_id = $3){}",
        if lock { " FOR UPDATE" } else { "" }
    );
    c.query_opt(&sql, &[&wh, &id, &scope.merchant()])
        .await?
        .as_ref()
        .map(webhook_row)
        .transpose()
}

#[async_trait]
impl Webhooks for Postgres {
    async fn create_webhook(&self, w: &WebhookToStore) -> Result<Webhook, StoreError> {
        let wh = self.warehouse_id.as_str();
        let l = &Webhook {
            created_at_ms: self.clock.now_ms(),
            ..w.listed.clone()
        };
        let client = self.pool.get().await?;
        let inserted = client
            .execute(
                "INSERT INTO webhook_subscriptions (warehouse_id, webhook_id, merchant_id, url,
                     secret, event_types, active, created_at_ms)
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8
                 WHERE EXISTS (SELECT 1 FROM merchants WHERE warehouse_id = $1 AND id = $3)",
                &[
                    &wh,
                    &l.id,
                    &l.merchant_id,
                    &l.url,
                    &w.secret,
                    &names_of(&l.event_types),
                    &l.active,
                    &l.created_at_ms,
                ],
            )
            .await?;
        if inserted == 0 {
            return Err(StoreError::invalid(format!(
                "merchant {:?} is not known: add the merchant first",
                l.merchant_id
            )));
        }
        Ok(l.clone())
    }

    async fn webhooks(&self, page: &Page, scope: &Scope) -> Result<Vec<Webhook>, StoreError> {
        let after = page.after_id()?;
        let client = self.pool.get().await?;
        let sql = format!(
            "{WEBHOOK_COLUMNS} WHERE warehouse_id = $1 AND ($2::text IS NULL OR merchant_id = $2)
             AND ($3::uuid IS NULL OR webhook_id > $3) ORDER BY webhook_id LIMIT $4"
        );
        let limit = i64::from(page.limit.max(1));
        client
            .query(
                &sql,
                &[&self.warehouse_id, &scope.merchant(), &after, &limit],
            )
            .await?
            .iter()
            .map(webhook_row)
            .collect()
    }

    async fn webhook(&self, id: Uuid, scope: &Scope) -> Result<Option<Webhook>, StoreError> {
        let client = self.pool.get().await?;
        one_webhook(&client, &self.warehouse_id, id, scope, false).await
    }

    async fn change_webhook(
        &self,
        id: Uuid,
        change: &WebhookChange,
        scope: &Scope,
    ) -> Result<Option<Webhook>, StoreError> {
        let wh = self.warehouse_id.as_str();
        self.retrying(|| async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let Some(stored) = one_webhook(&tx, wh, id, scope, true).await? else {
                return Ok(None);
            };
            same_webhook_merchant(&stored, change)?;
            tx.execute(
                "UPDATE webhook_subscriptions SET url = $3, event_types = $4, active = $5,
                     secret = coalesce($6, secret)
                 WHERE warehouse_id = $1 AND webhook_id = $2",
                &[
                    &wh,
                    &id,
                    &change.url,
                    &names_of(&change.event_types),
                    &change.active,
                    &change.secret,
                ],
            )
            .await?;
            let changed = one_webhook(&tx, wh, id, scope, false).await?;
            tx.commit().await?;
            Ok(changed)
        })
        .await
    }

    async fn delete_webhook(&self, id: Uuid, scope: &Scope) -> Result<bool, StoreError> {
        let wh = self.warehouse_id.as_str();
        self.retrying(|| async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            if one_webhook(&tx, wh, id, scope, true).await?.is_none() {
                return Ok(false);
            }
            tx.execute(
                "DELETE FROM webhook_deliveries WHERE warehouse_id = $1 AND webhook_id = $2",
                &[&wh, &id],
            )
            .await?;
            tx.execute(
                "DELETE FROM webhook_subscriptions WHERE warehouse_id = $1 AND webhook_id = $2",
                &[&wh, &id],
            )
            .await?;
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    async fn webhook_deliveries(
        &self,
        id: Uuid,
        page: &Page,
        scope: &Scope,
    ) -> Result<Option<Vec<WebhookDelivery>>, StoreError> {
        let after = page.after_id()?;
        let wh = self.warehouse_id.as_str();
        let mut client = self.pool.get().await?;
        let tx = super::snapshot(&mut client).await?;
        if one_webhook(&tx, wh, id, scope, false).await?.is_none() {
            return Ok(None);
        }
        let sql = format!(
            "{DELIVERY_COLUMNS} WHERE d.warehouse_id = $1 AND d.webhook_id = $2
             AND ($3::uuid IS NULL OR d.delivery_id > $3) ORDER BY d.delivery_id LIMIT $4"
        );
        let limit = i64::from(page.limit.max(1));
        let rows = tx.query(&sql, &[&wh, &id, &after, &limit]).await?;
        tx.commit().await?;
        rows.iter()
            .map(delivery_row)
            .collect::<Result<_, _>>()
            .map(Some)
    }

    async fn redeliver(
        &self,
        id: Uuid,
        delivery_id: Uuid,
        scope: &Scope,
    ) -> Result<Option<WebhookDelivery>, StoreError> {
        let wh = self.warehouse_id.as_str();
        let now = self.clock.now_ms();
        self.retrying(|| async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            if one_webhook(&tx, wh, id, scope, false).await?.is_none() {
                return Ok(None);
            }
            let sql = format!(
                "WITH changed AS (
                     UPDATE webhook_deliveries SET status = 'pending', next_attempt_at_ms = $4,
                         window_from_ms = $4, claimed_until_ms = NULL
                     WHERE warehouse_id = $1 AND webhook_id = $2 AND delivery_id = $3
                     RETURNING *
                 )
                 {} ",
                DELIVERY_COLUMNS.replace("webhook_deliveries d", "changed d")
            );
            let row = tx.query_opt(&sql, &[&wh, &id, &delivery_id, &now]).await?;
            tx.commit().await?;
            row.as_ref().map(delivery_row).transpose()
        })
        .await
    }

    async fn events_to_fan_out(&self, limit: u32) -> Result<Vec<OutboxEvent>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT e.event_id, e.merchant_id, e.kind, e.subject, e.body,
                     (SELECT count(*) FROM webhook_subscriptions s
                      WHERE s.warehouse_id = e.warehouse_id AND s.merchant_id = e.merchant_id
                        AND s.active AND e.kind = ANY(s.event_types))
                 FROM webhook_events e
                 WHERE e.warehouse_id = $1 AND e.fanned_at_ms IS NULL
                 ORDER BY e.created_at_ms, e.event_id LIMIT $2",
                &[&self.warehouse_id, &i64::from(limit.max(1))],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let subscribers: i64 = r.try_get(5)?;
                Ok(OutboxEvent {
                    event_id: r.try_get(0)?,
                    merchant_id: r.try_get(1)?,
                    kind: kind(r.try_get(2)?)?,
                    subject: r.try_get(3)?,
                    body: r.try_get(4)?,
                    subscribers: u32::try_from(subscribers).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    async fn fan_out(&self, event_id: Uuid, body: Option<&str>) -> Result<u32, StoreError> {
        let wh = self.warehouse_id.as_str();
        let now = self.clock.now_ms();
        self.retrying(|| async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let Some(event) = tx
                .query_opt(
                    "UPDATE webhook_events SET fanned_at_ms = $3, body = coalesce($4, body)
                     WHERE warehouse_id = $1 AND event_id = $2 AND fanned_at_ms IS NULL
                     RETURNING merchant_id, kind",
                    &[&wh, &event_id, &now, &body],
                )
                .await?
            else {
                return Ok(0);
            };
            let (merchant, k): (String, String) = (event.try_get(0)?, event.try_get(1)?);
            let subscribers: Vec<Uuid> = tx
                .query(
                    "SELECT webhook_id FROM webhook_subscriptions
                     WHERE warehouse_id = $1 AND merchant_id = $2 AND active
                       AND $3 = ANY(event_types)
                     ORDER BY webhook_id",
                    &[&wh, &merchant, &k],
                )
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
            let ids: Vec<Uuid> = subscribers.iter().map(|_| Uuid::now_v7()).collect();
            let made = tx
                .execute(
                    "INSERT INTO webhook_deliveries (warehouse_id, delivery_id, webhook_id,
                         event_id, kind, next_attempt_at_ms, window_from_ms, created_at_ms)
                     SELECT $1, x.d, x.w, $4, $5, $6, $6, $6
                     FROM unnest($2::uuid[], $3::uuid[]) AS x(d, w)
                     ON CONFLICT (warehouse_id, webhook_id, event_id) DO NOTHING",
                    &[&wh, &ids, &subscribers, &event_id, &k, &now],
                )
                .await?;
            tx.commit().await?;
            Ok(u32::try_from(made).unwrap_or(u32::MAX))
        })
        .await
    }

    async fn claim_deliveries(
        &self,
        limit: u32,
        claim_ms: i64,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let wh = self.warehouse_id.as_str();
        let now = self.clock.now_ms();
        let until = now.saturating_add(claim_ms.max(1));
        let limit = i64::from(limit.max(1));
        self.retrying(|| async move {
            let client = self.pool.get().await?;
            let rows = client
                .query(
                    "WITH due AS (
                         SELECT d.delivery_id FROM webhook_deliveries d
                         JOIN webhook_subscriptions s
                             ON s.warehouse_id = d.warehouse_id AND s.webhook_id = d.webhook_id
                         WHERE d.warehouse_id = $1 AND d.status = 'pending' AND s.active
                           AND d.next_attempt_at_ms <= $2
                           AND (d.claimed_until_ms IS NULL OR d.claimed_until_ms <= $2)
                         ORDER BY d.next_attempt_at_ms, d.delivery_id
                         LIMIT $3
                         FOR UPDATE OF d SKIP LOCKED
                     )
                     UPDATE webhook_deliveries d SET claimed_until_ms = $4
                     FROM due, webhook_subscriptions s, webhook_events e
                     WHERE d.warehouse_id = $1 AND d.delivery_id = due.delivery_id
                       AND s.warehouse_id = $1 AND s.webhook_id = d.webhook_id
                       AND e.warehouse_id = $1 AND e.event_id = d.event_id
                     RETURNING d.delivery_id, d.webhook_id, d.event_id, s.url, s.secret, e.body,
                         d.attempts, d.window_from_ms",
                    &[&wh, &now, &limit, &until],
                )
                .await?;
            rows.iter()
                .map(|r| {
                    let attempts: i64 = r.try_get(6)?;
                    Ok(DueDelivery {
                        delivery_id: r.try_get(0)?,
                        webhook_id: r.try_get(1)?,
                        event_id: r.try_get(2)?,
                        url: r.try_get(3)?,
                        secret: r.try_get(4)?,
                        body: r.try_get(5)?,
                        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                        window_from_ms: r.try_get(7)?,
                        claimed_until_ms: until,
                    })
                })
                .collect()
        })
        .await
    }

    async fn settle_delivery(&self, a: &Attempted) -> Result<(), StoreError> {
        let wh = self.warehouse_id.as_str();
        self.retrying(|| async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let changed = tx
                .execute(
                    "UPDATE webhook_deliveries SET status = $4, attempts = $5,
                         last_status_code = $6, last_error = $7, last_excerpt = $8,
                         next_attempt_at_ms = $9,
                         delivered_at_ms = coalesce($10, delivered_at_ms),
                         claimed_until_ms = NULL
                     WHERE warehouse_id = $1 AND delivery_id = $2 AND claimed_until_ms = $3",
                    &[
                        &wh,
                        &a.delivery_id,
                        &a.claimed_until_ms,
                        &a.status.as_str(),
                        &i64::from(a.attempts),
                        &a.status_code.map(i64::from),
                        &a.error,
                        &a.excerpt,
                        &a.next_attempt_at_ms,
                        &a.delivered_at_ms,
                    ],
                )
                .await?;
            if changed > 0 && a.gone {
                tx.execute(
                    "UPDATE webhook_subscriptions SET active = FALSE
                     WHERE warehouse_id = $1 AND webhook_id = $2",
                    &[&wh, &a.webhook_id],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
        .await
    }
}

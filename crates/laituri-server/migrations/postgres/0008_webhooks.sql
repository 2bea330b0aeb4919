-- Webhooks to merchants: subscriptions, the outbox of events written in the same transaction
-- as the change they tell of, and one delivery per subscription and event.
-- Shipped migrations are never edited: add a new NNNN_name.sql instead.

-- A merchant's subscription. The secret is kept as given: it signs every delivery
-- (HMAC-SHA256), so it cannot be stored as a hash; the API never shows it again.
CREATE TABLE webhook_subscriptions (
    warehouse_id  TEXT NOT NULL,
    webhook_id    UUID NOT NULL,
    merchant_id   TEXT NOT NULL,
    url           TEXT NOT NULL,
    secret        TEXT NOT NULL,
    -- Event type names.
    event_types   TEXT[] NOT NULL,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (warehouse_id, webhook_id)
);
CREATE INDEX webhook_subscriptions_by_merchant
    ON webhook_subscriptions (warehouse_id, merchant_id);

-- The outbox: one row per event, written by the transaction that made the change. `body` is
-- the envelope POSTed (completed when fanned out: a stock event's levels are read then).
-- `fanned_at_ms` is set when its deliveries were made.
CREATE TABLE webhook_events (
    warehouse_id  TEXT NOT NULL,
    event_id      UUID NOT NULL,
    merchant_id   TEXT NOT NULL,
    kind          TEXT NOT NULL,
    subject       TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    fanned_at_ms  BIGINT,
    PRIMARY KEY (warehouse_id, event_id)
);
CREATE INDEX webhook_events_to_fan_out
    ON webhook_events (warehouse_id, created_at_ms, event_id) WHERE fanned_at_ms IS NULL;

-- One event to one subscription. `window_from_ms` starts the time it is retried for (made or
-- redelivered); `claimed_until_ms` is a server's claim while it attempts it (taken again when
-- a server died holding it).
CREATE TABLE webhook_deliveries (
    warehouse_id      TEXT NOT NULL,
    delivery_id       UUID NOT NULL,
    webhook_id        UUID NOT NULL,
    event_id          UUID NOT NULL,
    kind              TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'pending',
    attempts          BIGINT NOT NULL DEFAULT 0,
    last_status_code  BIGINT,
    last_error        TEXT,
    last_excerpt      TEXT,
    next_attempt_at_ms BIGINT,
    claimed_until_ms  BIGINT,
    delivered_at_ms   BIGINT,
    window_from_ms    BIGINT NOT NULL,
    created_at_ms     BIGINT NOT NULL,
    PRIMARY KEY (warehouse_id, delivery_id),
    UNIQUE (warehouse_id, webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due
    ON webhook_deliveries (warehouse_id, next_attempt_at_ms) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_of_webhook
    ON webhook_deliveries (warehouse_id, webhook_id, delivery_id);

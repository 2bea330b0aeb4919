-- The PostgreSQL schema of laituri-server: the same data as the SQLite schema (migrations/0001
-- and 0002), laid out for many warehouses in one database. Every table has warehouse_id first in
-- its primary key and every query names the warehouse, so a site with many warehouses can
-- distribute the tables by warehouse_id (Citus) without changing the server. Append new files;
-- never edit a shipped one.

CREATE TABLE enrolment_codes (
    warehouse_id TEXT NOT NULL,
    code         TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (warehouse_id, code)
);

CREATE TABLE devices (
    warehouse_id TEXT NOT NULL,
    device_id    UUID NOT NULL,
    name         TEXT NOT NULL,
    -- SHA-256 of the bearer token, hex. The token itself is never stored.
    token_hash   TEXT NOT NULL,
    last_seq     BIGINT NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    enrolled_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (warehouse_id, device_id),
    UNIQUE (warehouse_id, token_hash)
);

CREATE TABLE events (
    warehouse_id   TEXT NOT NULL,
    device_id      UUID NOT NULL,
    seq            BIGINT NOT NULL,
    event_id       UUID NOT NULL,
    operator_id    TEXT NOT NULL,
    device_time_ms BIGINT NOT NULL,
    type           TEXT NOT NULL,
    schema         INTEGER NOT NULL,
    payload        TEXT NOT NULL,
    outcome        TEXT NOT NULL CHECK (outcome IN ('applied', 'rejected')),
    reject_code    TEXT,
    reject_reason  TEXT,
    received_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (warehouse_id, device_id, seq),
    FOREIGN KEY (warehouse_id, device_id) REFERENCES devices (warehouse_id, device_id)
);
CREATE INDEX events_by_event_id ON events (warehouse_id, event_id);
CREATE UNIQUE INDEX events_applied_event_id ON events (warehouse_id, event_id)
    WHERE outcome = 'applied';

CREATE TABLE exceptions (
    warehouse_id TEXT NOT NULL,
    id           BIGINT GENERATED ALWAYS AS IDENTITY,
    merchant_id  TEXT,
    device_id    UUID NOT NULL,
    seq          BIGINT NOT NULL,
    event_id     UUID NOT NULL,
    kind         TEXT NOT NULL,
    message      TEXT NOT NULL,
    resolved_by  TEXT,
    resolved_at  TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (warehouse_id, id)
);

CREATE TABLE merchants (
    warehouse_id TEXT NOT NULL,
    id           TEXT NOT NULL,
    data         TEXT NOT NULL,
    PRIMARY KEY (warehouse_id, id)
);

CREATE TABLE products (
    warehouse_id TEXT NOT NULL,
    id           TEXT NOT NULL,
    merchant_id  TEXT NOT NULL,
    data         TEXT NOT NULL,
    PRIMARY KEY (warehouse_id, id),
    FOREIGN KEY (warehouse_id, merchant_id) REFERENCES merchants (warehouse_id, id)
);
CREATE INDEX products_by_merchant ON products (warehouse_id, merchant_id);

CREATE TABLE locations (
    warehouse_id TEXT NOT NULL,
    code         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    data         TEXT NOT NULL,
    PRIMARY KEY (warehouse_id, code)
);

CREATE TABLE operators (
    warehouse_id TEXT NOT NULL,
    id           TEXT NOT NULL,
    badge        TEXT NOT NULL,
    -- Holds `pin_hash` only; a PIN in clear never reaches the database.
    data         TEXT NOT NULL,
    active       BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (warehouse_id, id),
    UNIQUE (warehouse_id, badge)
);

CREATE TABLE inbound_notices (
    warehouse_id TEXT NOT NULL,
    id           TEXT NOT NULL,
    merchant_id  TEXT NOT NULL,
    status       TEXT NOT NULL,
    data         TEXT NOT NULL,
    PRIMARY KEY (warehouse_id, id),
    FOREIGN KEY (warehouse_id, merchant_id) REFERENCES merchants (warehouse_id, id)
);

-- The change log. Cursors are handed out from change_counters at the end of each writing
-- transaction, under that row's lock, which is held until commit: cursors are therefore in
-- commit order and without holes, and a terminal's cursor can never pass a change that commits
-- later. (A sequence would hand out numbers in call order, and a pull could skip a change whose
-- transaction commits after a later number's.)
CREATE TABLE change_counters (
    warehouse_id TEXT PRIMARY KEY,
    last_cursor  BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE changes (
    warehouse_id TEXT NOT NULL,
    cursor       BIGINT NOT NULL,
    merchant_id  TEXT,
    -- NULL: for every device; else only for this one.
    device_id    UUID,
    entity       TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    data         TEXT NOT NULL,
    PRIMARY KEY (warehouse_id, cursor)
);

CREATE TABLE change_epoch (
    warehouse_id TEXT PRIMARY KEY,
    epoch        TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE receipts (
    warehouse_id TEXT NOT NULL,
    receipt_id   UUID NOT NULL,
    merchant_id  TEXT NOT NULL,
    notice_id    TEXT,
    device_id    UUID NOT NULL,
    dock         TEXT NOT NULL,
    closed       BOOLEAN NOT NULL DEFAULT FALSE,
    -- JSON array of ReceiptLineSummary, as the operator saw it when closing.
    summary      TEXT,
    -- The order receipts were opened in (SQLite's rowid): the listing goes by it.
    created_order BIGINT GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (warehouse_id, receipt_id)
);

CREATE TABLE receipt_tally (
    warehouse_id TEXT NOT NULL,
    receipt_id   UUID NOT NULL,
    product_id   TEXT NOT NULL,
    received     BIGINT NOT NULL,
    quarantined  BIGINT NOT NULL,
    PRIMARY KEY (warehouse_id, receipt_id, product_id),
    FOREIGN KEY (warehouse_id, receipt_id) REFERENCES receipts (warehouse_id, receipt_id)
);

CREATE TABLE receipt_containers (
    warehouse_id TEXT NOT NULL,
    receipt_id   UUID NOT NULL,
    location     TEXT NOT NULL,
    container    TEXT NOT NULL,
    PRIMARY KEY (warehouse_id, receipt_id, location, container)
);

CREATE TABLE stock (
    warehouse_id TEXT NOT NULL,
    merchant_id  TEXT NOT NULL,
    product_id   TEXT NOT NULL,
    location     TEXT NOT NULL,
    container    TEXT NOT NULL,
    lot          TEXT NOT NULL,
    expiry       TEXT NOT NULL,
    condition    TEXT NOT NULL,
    quantity     BIGINT NOT NULL,
    PRIMARY KEY (warehouse_id, merchant_id, product_id, location, container, lot, expiry, condition)
);
CREATE INDEX stock_by_location ON stock (warehouse_id, location);
CREATE INDEX stock_by_product ON stock (warehouse_id, product_id);

CREATE TABLE tasks (
    warehouse_id     TEXT NOT NULL,
    task_id          TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('putaway', 'pick', 'count')),
    merchant_id      TEXT NOT NULL,
    priority         INTEGER NOT NULL DEFAULT 0,
    status           TEXT NOT NULL CHECK (status IN ('open', 'leased', 'done', 'cancelled')),
    container        TEXT,
    -- JSON array of TaskLine.
    lines            TEXT NOT NULL,
    reason           TEXT,
    leased_to        UUID,
    lease_token      BIGINT,
    lease_expires_ms BIGINT,
    fence            BIGINT NOT NULL DEFAULT 0 CHECK (fence >= 0),
    created_seq      BIGINT NOT NULL DEFAULT 0,
    -- The order tasks were made in (SQLite's rowid): "oldest first" goes by it.
    created_order    BIGINT GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (warehouse_id, task_id)
);
CREATE INDEX tasks_open_by_kind ON tasks (warehouse_id, kind, status, priority);
CREATE INDEX tasks_by_container ON tasks (warehouse_id, container);

CREATE TABLE putaway_overrides (
    warehouse_id    TEXT NOT NULL,
    id              BIGINT GENERATED ALWAYS AS IDENTITY,
    device_id       UUID NOT NULL,
    seq             BIGINT NOT NULL,
    container       TEXT NOT NULL,
    suggested       TEXT,
    location        TEXT NOT NULL,
    override_reason TEXT,
    PRIMARY KEY (warehouse_id, id)
);

CREATE TABLE bins_full (
    warehouse_id TEXT NOT NULL,
    location     TEXT NOT NULL,
    device_id    UUID NOT NULL,
    seq          BIGINT NOT NULL,
    PRIMARY KEY (warehouse_id, location)
);

-- The server's first schema. Shipped migrations are never edited: add a new NNNN_name.sql instead.
--
-- Every row carries `warehouse_id` so that one database can later hold several sites and so that
-- integration keys can be scoped to a warehouse (and, through `merchant_id`, to a merchant).
-- Optional text parts of keys are stored as '' rather than NULL, because SQLite treats NULLs as
-- distinct in primary keys and unique indexes, which would split one stock row into many.

CREATE TABLE enrolment_codes (
    warehouse_id TEXT NOT NULL,
    code         TEXT NOT NULL,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (warehouse_id, code)
);

CREATE TABLE devices (
    device_id    TEXT PRIMARY KEY,
    warehouse_id TEXT NOT NULL,
    name         TEXT NOT NULL,
    -- SHA-256 of the bearer token, hex. The token itself is never stored.
    token_hash   TEXT NOT NULL UNIQUE,
    last_seq     INTEGER NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    enrolled_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Every event ever received, with the outcome of its first delivery, so a duplicate answers the same.
CREATE TABLE events (
    id             INTEGER PRIMARY KEY,
    warehouse_id   TEXT NOT NULL,
    device_id      TEXT NOT NULL REFERENCES devices (device_id),
    seq            INTEGER NOT NULL,
    event_id       TEXT NOT NULL,
    operator_id    TEXT NOT NULL,
    device_time_ms INTEGER NOT NULL,
    type           TEXT NOT NULL,
    schema         INTEGER NOT NULL,
    payload        TEXT NOT NULL,
    outcome        TEXT NOT NULL CHECK (outcome IN ('applied', 'rejected')),
    reject_code    TEXT,
    reject_reason  TEXT,
    received_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (device_id, seq)
);
CREATE INDEX events_by_event_id ON events (event_id);
-- An event id has an effect at most once. A rejected event had none, so it does not count.
CREATE UNIQUE INDEX events_applied_event_id ON events (event_id) WHERE outcome = 'applied';

CREATE TABLE exceptions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    warehouse_id TEXT NOT NULL,
    merchant_id  TEXT,
    device_id    TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    event_id     TEXT NOT NULL,
    kind         TEXT NOT NULL,
    message      TEXT NOT NULL,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Master data: key columns for look-ups and filters, `data` is the JSON shape of the protocol crate.
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

-- The pull change log. AUTOINCREMENT so that a cursor is never handed out twice, even after the
-- newest rows are deleted by a future compaction.
CREATE TABLE changes (
    cursor       INTEGER PRIMARY KEY AUTOINCREMENT,
    warehouse_id TEXT NOT NULL,
    merchant_id  TEXT,
    entity       TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    data         TEXT NOT NULL
);

CREATE TABLE receipts (
    receipt_id   TEXT PRIMARY KEY,
    warehouse_id TEXT NOT NULL,
    merchant_id  TEXT NOT NULL,
    notice_id    TEXT,
    device_id    TEXT NOT NULL,
    dock         TEXT NOT NULL,
    closed       INTEGER NOT NULL DEFAULT 0,
    -- JSON array of ReceiptLineSummary, as the operator saw it when closing.
    summary      TEXT
);

-- Running totals of an open receipt, so a lead can follow it before it is closed.
CREATE TABLE receipt_tally (
    receipt_id  TEXT NOT NULL REFERENCES receipts (receipt_id),
    product_id  TEXT NOT NULL,
    received    INTEGER NOT NULL,
    quarantined INTEGER NOT NULL,
    PRIMARY KEY (receipt_id, product_id)
) WITHOUT ROWID;

CREATE TABLE stock (
    warehouse_id TEXT NOT NULL,
    merchant_id  TEXT NOT NULL,
    product_id   TEXT NOT NULL,
    location     TEXT NOT NULL,
    container    TEXT NOT NULL,
    lot          TEXT NOT NULL,
    expiry       TEXT NOT NULL,
    condition    TEXT NOT NULL,
    quantity     INTEGER NOT NULL,
    PRIMARY KEY (warehouse_id, merchant_id, product_id, location, container, lot, expiry, condition)
) WITHOUT ROWID;
CREATE INDEX stock_by_location ON stock (warehouse_id, location);
CREATE INDEX stock_by_product ON stock (warehouse_id, product_id);

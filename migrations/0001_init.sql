-- The terminal's local store: identity, master data pulled from the server, the local view of
-- floor work, and the outbox. Append-only: never edit this file once shipped; add 0002_... instead.

-- Exactly one row: who this device is and where it stands with the server.
CREATE TABLE device (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    device_id       TEXT NOT NULL,          -- UUIDv7, made when this database was created
    created_ms      INTEGER NOT NULL,
    token           TEXT,                   -- bearer token from enrolment
    warehouse_id    TEXT,
    warehouse_name  TEXT,
    last_seq        INTEGER NOT NULL DEFAULT 0,  -- highest seq written to the outbox
    acked_through   INTEGER NOT NULL DEFAULT 0,  -- highest seq the server has recorded
    pull_cursor     INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE merchants (
    id                      TEXT PRIMARY KEY,
    name                    TEXT NOT NULL,
    min_shelf_life_days     INTEGER NOT NULL,
    over_receipt_tolerance  INTEGER NOT NULL
) STRICT;

CREATE TABLE products (
    id            TEXT PRIMARY KEY,
    merchant_id   TEXT NOT NULL,
    name          TEXT NOT NULL,
    track_lot     INTEGER NOT NULL,
    track_expiry  INTEGER NOT NULL,
    track_serial  INTEGER NOT NULL
) STRICT;

-- Every barcode of every product: GTINs normalised to 14 digits, other codes as printed.
CREATE TABLE barcodes (
    code        TEXT NOT NULL,
    product_id  TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    pack_qty    INTEGER NOT NULL,
    PRIMARY KEY (code, product_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX barcodes_by_product ON barcodes (product_id);

CREATE TABLE locations (
    code        TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    zone        TEXT NOT NULL,
    walk_order  INTEGER NOT NULL
) STRICT;

CREATE TABLE operators (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    badge     TEXT NOT NULL UNIQUE,
    pin_hash  TEXT,
    roles     TEXT NOT NULL,               -- comma-separated role names
    language  TEXT NOT NULL
) STRICT;

CREATE TABLE notices (
    id           TEXT PRIMARY KEY,
    merchant_id  TEXT NOT NULL,
    reference    TEXT NOT NULL,
    supplier     TEXT NOT NULL,
    status       TEXT NOT NULL,             -- open | closed, as the server last said
    lines_json   TEXT NOT NULL
) STRICT;
CREATE INDEX notices_by_reference ON notices (reference);
CREATE INDEX notices_open ON notices (status, id);

CREATE TABLE notice_ssccs (
    sscc       TEXT PRIMARY KEY,
    notice_id  TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- The local view of receiving: what this device received, written in the same transaction as
-- the outbox event that tells the server.
CREATE TABLE receipts (
    receipt_id   TEXT PRIMARY KEY,
    merchant_id  TEXT NOT NULL,
    notice_id    TEXT,
    dock         TEXT NOT NULL,
    operator_id  TEXT NOT NULL,
    status       TEXT NOT NULL,             -- open | closed
    opened_seq   INTEGER NOT NULL
) STRICT;
CREATE INDEX receipts_open ON receipts (status);

CREATE TABLE receipt_lines (
    seq          INTEGER PRIMARY KEY,       -- the outbox seq of the event that recorded it
    receipt_id   TEXT NOT NULL,
    product_id   TEXT NOT NULL,
    quantity     INTEGER NOT NULL,
    lot          TEXT,
    expiry       TEXT,
    serial       TEXT,
    container    TEXT NOT NULL,
    location     TEXT NOT NULL,
    condition    TEXT NOT NULL
) STRICT;
CREATE INDEX receipt_lines_by_receipt ON receipt_lines (receipt_id, seq);

-- The outbox: every floor action as an immutable event, in gapless seq order.
CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY,
    event_id        TEXT NOT NULL UNIQUE,
    operator_id     TEXT NOT NULL,
    device_time_ms  INTEGER NOT NULL,
    type            TEXT NOT NULL,
    schema          INTEGER NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending'   -- pending | applied | rejected
) STRICT;

-- Things a person must see: events the server rejected, unknown barcodes.
CREATE TABLE exceptions (
    id            INTEGER PRIMARY KEY,
    seq           INTEGER,                  -- the outbox event it concerns, if any
    kind          TEXT NOT NULL,
    message       TEXT NOT NULL,
    created_ms    INTEGER NOT NULL,
    acknowledged  INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX exceptions_open ON exceptions (acknowledged, id);

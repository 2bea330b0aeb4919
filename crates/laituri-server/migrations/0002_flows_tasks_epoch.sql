-- Stock moves, putaway, tasks with leases, an addressed change log and its epoch.
-- Shipped migrations are never edited: add a new NNNN_name.sql instead.

-- The change log's epoch: a random id made when the database is created, and made again after a
-- restore from a backup, so terminals know their cursors mean nothing any more. One row per
-- warehouse; the server creates it on open when missing.
CREATE TABLE change_epoch (
    warehouse_id TEXT PRIMARY KEY,
    epoch        TEXT NOT NULL,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- A change addressed to one device (a work packet, its removal); NULL is for every device.
ALTER TABLE changes ADD COLUMN device_id TEXT;
CREATE INDEX changes_by_warehouse_cursor ON changes (warehouse_id, cursor);

-- Work the server hands out. `fence` only goes up: every lease takes ++fence as its token.
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
    leased_to        TEXT,
    lease_token      INTEGER,
    lease_expires_ms INTEGER,
    fence            INTEGER NOT NULL DEFAULT 0 CHECK (fence >= 0),
    created_seq      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (warehouse_id, task_id)
);
CREATE INDEX tasks_open_by_kind ON tasks (warehouse_id, kind, status, priority);
CREATE INDEX tasks_by_container ON tasks (warehouse_id, container);

-- Which containers took good goods of a receipt, so closing it can hand out their putaway.
CREATE TABLE receipt_containers (
    warehouse_id TEXT NOT NULL,
    receipt_id   TEXT NOT NULL,
    location     TEXT NOT NULL,
    container    TEXT NOT NULL,
    PRIMARY KEY (warehouse_id, receipt_id, location, container)
) WITHOUT ROWID;

-- Putaways into another bin than suggested, with the operator's reason, for a lead.
CREATE TABLE putaway_overrides (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    warehouse_id    TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    container       TEXT NOT NULL,
    suggested       TEXT,
    location        TEXT NOT NULL,
    override_reason TEXT
);

-- Bins reported full, newest report wins; suggested no more until their stock changes.
CREATE TABLE bins_full (
    warehouse_id TEXT NOT NULL,
    location     TEXT NOT NULL,
    device_id    TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    PRIMARY KEY (warehouse_id, location)
) WITHOUT ROWID;

-- Deactivated operators stay for the audit trail but are no longer listed or shipped.
ALTER TABLE operators ADD COLUMN active INTEGER NOT NULL DEFAULT 1;

-- Who resolved an exception and when (a shift lead on a terminal).
ALTER TABLE exceptions ADD COLUMN resolved_by TEXT;
ALTER TABLE exceptions ADD COLUMN resolved_at TEXT;

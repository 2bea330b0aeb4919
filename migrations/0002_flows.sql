-- The flow platform: merchants' zones, bin capacities, the local stock view, tasks and leases,
-- the open job of the device, and the change log's epoch. Append-only, like 0001.

ALTER TABLE merchants ADD COLUMN zones TEXT NOT NULL DEFAULT '[]';   -- JSON array, in preference order
ALTER TABLE locations ADD COLUMN capacity INTEGER;                  -- units, when known
CREATE INDEX locations_by_zone ON locations (zone, walk_order);

-- The epoch of the change log the cursor belongs to, and the highest seq of this device whose
-- stock effects the pulled stock already contains.
ALTER TABLE device ADD COLUMN pull_epoch TEXT NOT NULL DEFAULT '';
ALTER TABLE device ADD COLUMN stock_seen_seq INTEGER NOT NULL DEFAULT 0;

-- Stock levels as pulled from the server. Optional key parts are '' (SQLite's NULLs are
-- distinct in keys).
CREATE TABLE stock_pulled (
    merchant_id  TEXT NOT NULL,
    product_id   TEXT NOT NULL,
    location     TEXT NOT NULL,
    container    TEXT NOT NULL,
    lot          TEXT NOT NULL,
    expiry       TEXT NOT NULL,
    condition    TEXT NOT NULL,
    quantity     INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, product_id, location, container, lot, expiry, condition)
) STRICT, WITHOUT ROWID;
CREATE INDEX stock_pulled_by_location ON stock_pulled (location, container);
CREATE INDEX stock_pulled_by_container ON stock_pulled (container);
CREATE INDEX stock_pulled_by_product ON stock_pulled (product_id, merchant_id);

-- This device's own stock moves, written with their outbox events, kept until a pull shows the
-- server's stock contains them (seq <= device.stock_seen_seq) or the server rejected them. The
-- local view of stock is stock_pulled plus these: every move counted exactly once.
CREATE TABLE local_moves (
    seq             INTEGER NOT NULL,
    idx             INTEGER NOT NULL,
    merchant_id     TEXT NOT NULL,
    product_id      TEXT NOT NULL,
    lot             TEXT NOT NULL,
    expiry          TEXT NOT NULL,
    serial          TEXT NOT NULL,
    condition       TEXT NOT NULL,
    from_location   TEXT,
    from_container  TEXT NOT NULL,
    to_location     TEXT,
    to_container    TEXT NOT NULL,
    quantity        INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (seq, idx)
) STRICT;
CREATE INDEX local_moves_to ON local_moves (to_location, to_container);
CREATE INDEX local_moves_from ON local_moves (from_location, from_container);
CREATE INDEX local_moves_to_container ON local_moves (to_container);
CREATE INDEX local_moves_from_container ON local_moves (from_container);
CREATE INDEX local_moves_by_product ON local_moves (product_id, merchant_id);

-- Tasks as the server last said (status, holder), and the leases this device holds.
CREATE TABLE tasks (
    task_id      TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    merchant_id  TEXT NOT NULL,
    priority     INTEGER NOT NULL,
    status       TEXT NOT NULL,
    container    TEXT,
    data         TEXT NOT NULL
) STRICT;
CREATE INDEX tasks_open ON tasks (kind, status, priority);
CREATE INDEX tasks_by_container ON tasks (container);

CREATE TABLE leases (
    task_id        TEXT PRIMARY KEY,
    token          INTEGER NOT NULL,
    expires_at_ms  INTEGER NOT NULL,
    packet         TEXT NOT NULL,
    lost           TEXT                    -- why the server took it back, when it did
) STRICT;

-- The one job this device has open (DESIGN.md section 1: one job at a time), so that it resumes
-- after a crash for the operator who left it. `key` is the flow's own JSON.
CREATE TABLE open_job (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    flow         TEXT NOT NULL,
    operator_id  TEXT NOT NULL,
    key          TEXT NOT NULL,
    opened_ms    INTEGER NOT NULL
) STRICT;

-- Tasks the operator asked to take: the sync worker leases them (it needs the server) and
-- writes the answer; the terminal then starts the job or says the task was taken.
CREATE TABLE lease_wanted (
    task_id       TEXT PRIMARY KEY,
    operator_id   TEXT NOT NULL,
    requested_ms  INTEGER NOT NULL,
    answer        TEXT,                    -- NULL while waiting; 'granted', or why not
    reason        TEXT
) STRICT;

-- A flow's recent lines come from its own events, newest first.
CREATE INDEX outbox_by_type ON outbox (type, seq);

-- Packing at a station: orders ready to pack, the boxes of packing locations, products'
-- measures for the carton suggestion, the open packing job's journal, and the parcels' labels.
-- Append-only, like 0001.

-- A product's measures and weight, when known: the carton suggestion and the parcel's estimate.
ALTER TABLE products ADD COLUMN weight_g INTEGER;
ALTER TABLE products ADD COLUMN volume_ml INTEGER;
ALTER TABLE products ADD COLUMN dims_mm TEXT;                       -- JSON [l, w, h], when known

-- The shipping boxes a packing location stocks (JSON array of the protocol's BoxType).
ALTER TABLE locations ADD COLUMN box_types TEXT NOT NULL DEFAULT '[]';

-- Orders whose totes are all at packing, as every device pulls them (no personal data); gone
-- with the server's tombstone once packed.
CREATE TABLE pack_orders (
    order_id     TEXT PRIMARY KEY,
    reference    TEXT NOT NULL,
    merchant_id  TEXT NOT NULL,
    data         TEXT NOT NULL                -- the protocol's PackOrder, as JSON
) STRICT;
CREATE INDEX pack_orders_by_reference ON pack_orders (reference);

-- Which totes hold which order: a tote scanned at the station finds its order.
CREATE TABLE pack_totes (
    tote      TEXT NOT NULL,
    order_id  TEXT NOT NULL,
    PRIMARY KEY (tote, order_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX pack_totes_by_order ON pack_totes (order_id);

-- The facts of the open packing job that are no event (units into the open parcel, checklist
-- taps), written in the same transaction as the events of the same step, so a job resumes
-- exactly where it stood. Deleted when the job finishes.
CREATE TABLE pack_journal (
    order_id  TEXT NOT NULL,
    idx       INTEGER NOT NULL,
    fact      TEXT NOT NULL,                  -- JSON, see store/packing.rs
    PRIMARY KEY (order_id, idx)
) STRICT;

-- Orders this station finished, and where their labels stand with the server.
CREATE TABLE shipments (
    order_id      TEXT PRIMARY KEY,
    reference     TEXT NOT NULL,
    parcels       INTEGER NOT NULL,
    finished_ms   INTEGER NOT NULL,
    state         TEXT NOT NULL,              -- awaiting | labelled | refused
    refusal_code  TEXT,                       -- the server's code, when refused
    refusal       TEXT,                       -- the server's reason, as it gave it
    ask           INTEGER NOT NULL DEFAULT 1  -- 1: ask the server for the labels (again)
) STRICT;
CREATE INDEX shipments_to_ask ON shipments (ask, finished_ms);
CREATE INDEX shipments_by_time ON shipments (finished_ms);

-- One label per parcel. zpl and png carry the customer's name and address: kept only until
-- the label is printed (or shown and confirmed), then set to NULL; the tracking number stays.
CREATE TABLE parcel_labels (
    order_id         TEXT NOT NULL,
    number           INTEGER NOT NULL,
    tracking_number  TEXT NOT NULL,
    zpl              TEXT,
    png              BLOB,
    state            TEXT NOT NULL,           -- new | printed | failed | handled
    print_error      TEXT,                    -- why the last print failed (a code)
    printer          TEXT,                    -- the printer it was sent to
    wanted           INTEGER NOT NULL DEFAULT 0,  -- 1: a reprint asked the server for it again
    PRIMARY KEY (order_id, number)
) STRICT;
CREATE INDEX parcel_labels_by_state ON parcel_labels (state);

-- Customers' returns: one row per return taken in at a returns desk, with its lines as JSON
-- (the protocol's ReturnedLine). No personal data: the order by id and reference only.
-- Shipped migrations are never edited: add a new NNNN_name.sql instead.
CREATE TABLE returns (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    warehouse_id   TEXT NOT NULL,
    return_id      TEXT NOT NULL,
    merchant_id    TEXT NOT NULL,
    order_id       TEXT NOT NULL,
    reference      TEXT NOT NULL,
    device_id      TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    location       TEXT NOT NULL,
    tote           TEXT,
    lines          TEXT NOT NULL,
    received_at_ms INTEGER NOT NULL,
    UNIQUE (warehouse_id, return_id)
);
CREATE INDEX returns_by_merchant ON returns (warehouse_id, merchant_id, id);
CREATE INDEX returns_by_order ON returns (warehouse_id, order_id);

-- The change log's entries of returnable orders hold a customer's name: an erasure and a
-- whole return delete them by order, the end of their retention oldest first.
CREATE INDEX changes_returnable ON changes (warehouse_id, entity_id)
    WHERE entity = 'returnable_order';
CREATE INDEX changes_returnable_by_age ON changes (warehouse_id, cursor)
    WHERE entity = 'returnable_order';

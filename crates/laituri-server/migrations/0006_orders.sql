-- Merchants' orders. The part the warehouse works with is here; the customer's personal data
-- (recipient, comments, documents) is in order_personal, a row an erasure deletes.
CREATE TABLE orders (
    warehouse_id   TEXT NOT NULL,
    order_id       TEXT NOT NULL,
    merchant_id    TEXT NOT NULL,
    -- The shop's order number: one order per (merchant, reference).
    reference      TEXT NOT NULL,
    status         TEXT NOT NULL,
    status_reason  TEXT,
    priority       INTEGER NOT NULL,
    -- Lines, shipping method, pickup point, cash on delivery (JSON).
    work           TEXT NOT NULL,
    -- The server's clock, Unix milliseconds.
    created_at_ms  INTEGER NOT NULL,
    modified_at_ms INTEGER NOT NULL,
    erased_at_ms   INTEGER,
    PRIMARY KEY (warehouse_id, order_id),
    UNIQUE (warehouse_id, merchant_id, reference),
    FOREIGN KEY (warehouse_id, merchant_id) REFERENCES merchants (warehouse_id, id)
);
CREATE INDEX orders_by_change ON orders (warehouse_id, modified_at_ms, order_id);
CREATE INDEX orders_by_merchant_change ON orders (warehouse_id, merchant_id, modified_at_ms, order_id);

CREATE TABLE order_personal (
    warehouse_id TEXT NOT NULL,
    order_id     TEXT NOT NULL,
    -- SHA-256 of the recipient's e-mail address, trimmed and lower-cased: finds a customer's
    -- orders for an erasure without keeping the address searchable.
    email_hash   TEXT,
    data         TEXT NOT NULL,
    PRIMARY KEY (warehouse_id, order_id)
);
CREATE INDEX order_personal_by_email ON order_personal (warehouse_id, email_hash);

-- Orders go out: reservations of stock for their lines, picked through pick tasks.
-- Shipped migrations are never edited: add a new NNNN_name.sql instead.

-- Every status an order had, oldest first (JSON array of {status, at_ms, reason}).
ALTER TABLE orders ADD COLUMN history TEXT NOT NULL DEFAULT '[]';
-- The totes its goods were picked into (JSON array), bound by the first pick of each task.
ALTER TABLE orders ADD COLUMN totes TEXT NOT NULL DEFAULT '[]';
-- What is to be picked for it: its lines with kits as their components and the merchant's
-- inserts added (JSON array of {product_id, quantity}), fixed when it is first reserved.
ALTER TABLE orders ADD COLUMN demand TEXT;
CREATE INDEX orders_by_status ON orders (warehouse_id, status);

-- A reservation of stock for an order: `quantity` units of one lot in one bin, picked
-- `picked`, found missing `short`; open = quantity - picked - short. `task_id` is the pick task
-- it was released into.
CREATE TABLE picks (
    warehouse_id TEXT NOT NULL,
    order_id     UUID NOT NULL,
    line_id      TEXT NOT NULL,
    merchant_id  TEXT NOT NULL,
    product_id   TEXT NOT NULL,
    location     TEXT NOT NULL,
    lot          TEXT NOT NULL,
    expiry       TEXT NOT NULL,
    quantity     BIGINT NOT NULL CHECK (quantity > 0),
    picked       BIGINT NOT NULL DEFAULT 0 CHECK (picked >= 0),
    short        BIGINT NOT NULL DEFAULT 0 CHECK (short >= 0),
    task_id      TEXT,
    PRIMARY KEY (warehouse_id, order_id, line_id)
);
CREATE INDEX picks_by_product ON picks (warehouse_id, product_id);

-- The orders of a pick task with their slots on the cart (JSON array of TaskOrder).
ALTER TABLE tasks ADD COLUMN orders TEXT NOT NULL DEFAULT '[]';

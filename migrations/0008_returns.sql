-- Returns at the returns desk: the merchants' rules for returned goods, and the shipped orders a
-- return is found by (through the change log). A returnable order holds the customer's name,
-- personal data: kept only until `keep_until_ms`, deleted (with secure_delete on) by the server's
-- removal after an erasure or a whole return. Append-only, like 0001.

-- JSON array of the protocol's ReturnRule.
ALTER TABLE merchants ADD COLUMN return_rules TEXT NOT NULL DEFAULT '[]';

CREATE TABLE returnable_orders (
    order_id       TEXT PRIMARY KEY,
    merchant_id    TEXT NOT NULL,
    reference      TEXT NOT NULL,
    -- The customer's name, and the same lower-cased for the search by name.
    customer_name  TEXT,
    name_key       TEXT,
    keep_until_ms  INTEGER NOT NULL,
    -- The protocol's ReturnableOrder as JSON, without the customer's name.
    data           TEXT NOT NULL
) STRICT;
CREATE INDEX returnable_orders_by_reference ON returnable_orders (reference);
CREATE INDEX returnable_orders_by_name ON returnable_orders (name_key);
CREATE INDEX returnable_orders_by_age ON returnable_orders (keep_until_ms);

-- Tracking numbers of the orders' parcels: a return label or a parcel's code finds its order.
CREATE TABLE returnable_tracking (
    code      TEXT NOT NULL,
    order_id  TEXT NOT NULL,
    PRIMARY KEY (code, order_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX returnable_tracking_by_order ON returnable_tracking (order_id);

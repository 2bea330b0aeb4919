-- Orders are packed and shipped: the goods their totes brought to packing, the inserts of their
-- demand, their parcels and their booking with the carrier (JSON of `orders::PackingLife`; no
-- personal data). Shipped migrations are never edited: add a new NNNN_name.sql instead.
ALTER TABLE orders ADD COLUMN packing TEXT NOT NULL DEFAULT '{}';

-- The labels of an order's parcels as the carrier drew them. They carry the recipient's name and
-- address: an erasure deletes them with the order's personal row.
CREATE TABLE order_labels (
    warehouse_id    TEXT NOT NULL,
    order_id        TEXT NOT NULL,
    parcel          INTEGER NOT NULL,
    tracking_number TEXT NOT NULL,
    tracking_url    TEXT NOT NULL,
    zpl             TEXT NOT NULL,
    png             BLOB NOT NULL,
    PRIMARY KEY (warehouse_id, order_id, parcel)
) WITHOUT ROWID;

-- Integration keys with scopes: an admin key for the warehouse's operator, merchant keys that
-- see and change only their merchant's data. Only the SHA-256 of a key is stored.
CREATE TABLE api_keys (
    warehouse_id  TEXT NOT NULL,
    -- UUIDv7: time-ordered, so listing by id lists oldest first.
    key_id        TEXT NOT NULL,
    key_hash      TEXT NOT NULL UNIQUE,
    scope         TEXT NOT NULL CHECK (scope IN ('admin', 'merchant')),
    merchant_id   TEXT,
    note          TEXT,
    created_at_ms INTEGER NOT NULL,
    revoked_at_ms INTEGER,
    PRIMARY KEY (warehouse_id, key_id),
    CHECK ((scope = 'merchant') = (merchant_id IS NOT NULL))
);

-- A merchant's exceptions, page by page.
CREATE INDEX exceptions_by_merchant ON exceptions (warehouse_id, merchant_id, id);
-- A merchant's receipts.
CREATE INDEX receipts_by_merchant ON receipts (warehouse_id, merchant_id);

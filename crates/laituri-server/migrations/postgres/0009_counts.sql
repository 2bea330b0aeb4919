-- Counts of locations: what was counted, the server's level it was compared with and the
-- variance, per line (JSON array of CountVariance), and whether the variance was booked, waits
-- for a lead, or was approved or rejected by one.
-- Shipped migrations are never edited: add a new NNNN_name.sql instead.
CREATE TABLE counts (
    warehouse_id  TEXT NOT NULL,
    count_id      UUID NOT NULL,
    location      TEXT NOT NULL,
    device_id     UUID NOT NULL,
    seq           BIGINT NOT NULL,
    operator_id   TEXT NOT NULL,
    status        TEXT NOT NULL
        CHECK (status IN ('booked', 'pending', 'approved', 'rejected')),
    lines         TEXT NOT NULL,
    decided_by    TEXT,
    counted_at_ms BIGINT NOT NULL,
    PRIMARY KEY (warehouse_id, count_id)
);
-- When a location was last counted (a lead's plan of counts asks).
CREATE INDEX counts_by_location ON counts (warehouse_id, location, counted_at_ms);

-- Wrong PINs per operator on this device. Kept across badge scans and restarts, so scanning the
-- badge again does not give a guesser three new tries; a right PIN clears the row.
CREATE TABLE pin_failures (
    operator_id TEXT PRIMARY KEY,
    failures    INTEGER NOT NULL,
    last_ms     INTEGER NOT NULL
);

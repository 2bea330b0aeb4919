-- Enrolment codes made by the server, stored only as the SHA-256 of the code, each for a number
-- of uses and until it expires; and which devices each code enrolled (a device a code enrolled
-- may enrol again with it after a lost answer, without using it up further).
-- Shipped migrations are never edited: add a new NNNN_name.sql instead.
--
-- The codes 0001 stored in clear had no limits. They are not dropped (terminals may be being set
-- up with them): the old table is renamed enrolment_codes_legacy, and the server, when it opens
-- the database, stores each of its codes hashed, as a code of 10,000 uses that expires 30 days
-- later with a note saying so, and drops the old table in the same transaction, so no code stays
-- in clear. SQL cannot do it: the hash and the form a code is hashed in are the server's.
-- Devices that enrolled with an old code keep their tokens.

ALTER TABLE enrolment_codes RENAME TO enrolment_codes_legacy;

CREATE TABLE enrolment_codes (
    warehouse_id  TEXT NOT NULL,
    code_id       TEXT NOT NULL,
    -- SHA-256 of the code's normal form, hex. The code itself is never stored.
    code_hash     TEXT NOT NULL,
    -- The one device the code is for (it may enrol that device id again), or NULL for any new one.
    device_id     TEXT,
    uses          INTEGER NOT NULL CHECK (uses > 0),
    uses_left     INTEGER NOT NULL CHECK (uses_left >= 0),
    -- The server's clock, Unix milliseconds.
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    note          TEXT,
    PRIMARY KEY (warehouse_id, code_id),
    UNIQUE (warehouse_id, code_hash)
);

CREATE TABLE enrolment_code_uses (
    warehouse_id TEXT NOT NULL,
    code_id      TEXT NOT NULL,
    device_id    TEXT NOT NULL,
    at_ms        INTEGER NOT NULL,
    PRIMARY KEY (warehouse_id, code_id, device_id),
    FOREIGN KEY (warehouse_id, code_id) REFERENCES enrolment_codes (warehouse_id, code_id)
);

-- A database restored from a backup keeps its device id but not the server's history of it, so
-- it continues under a new device id (DESIGN.md section 3, point 9). Local seqs never change:
-- every table that names one still means the same event. The events after local seq
-- `seq_base` are pushed under `device_id` as seq `local - seq_base`. Append-only, like 0001.
ALTER TABLE device ADD COLUMN seq_base INTEGER NOT NULL DEFAULT 0;
-- While the server's answer is awaited: the new device id asked for, and the first local seq
-- that goes under it (the first event the server has another one in place of).
ALTER TABLE device ADD COLUMN continue_as TEXT;
ALTER TABLE device ADD COLUMN continue_from INTEGER;

-- The device ids this database pushed under before, each for local seqs
-- `seq_base + 1 ..= last_seq` (its seq `local - seq_base`).
CREATE TABLE earlier_devices (
    device_id  TEXT PRIMARY KEY,
    seq_base   INTEGER NOT NULL,
    last_seq   INTEGER NOT NULL
) STRICT;

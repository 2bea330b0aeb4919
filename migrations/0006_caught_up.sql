-- When the pull last reached the end of the server's change log (device clock, Unix ms): how
-- old what the terminal shows of stock and work is. NULL before the first complete pull.
ALTER TABLE device ADD COLUMN caught_up_ms INTEGER;

-- A terminal whose database was restored from a backup goes on under a new device id
-- (POST /api/v1/devices/continue). `continues` names the device a new one continues (for the
-- shift lead and the logs); `continued_by` retires the old one: its token then works for nothing
-- but asking the same again. Shipped migrations are never edited: add a new NNNN_name.sql.
ALTER TABLE devices ADD COLUMN continues UUID;
ALTER TABLE devices ADD COLUMN continued_by UUID;
ALTER TABLE devices ADD COLUMN continued_at TIMESTAMPTZ;

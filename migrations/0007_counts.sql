-- Counts waiting for a shift lead's approval, as every device pulls them (goods and places, no
-- person); gone with the server's tombstone once a lead decided, or at once on the lead's own
-- terminal when the decision is recorded. Append-only, like 0001.
CREATE TABLE pending_counts (
    count_id  TEXT PRIMARY KEY,
    location  TEXT NOT NULL,
    data      TEXT NOT NULL                   -- the protocol's PendingCount, as JSON
) STRICT;

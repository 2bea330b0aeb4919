-- Who resolved an exception and when (a shift lead on a terminal). The columns are added by the
-- migration's hook in src/store/sqlite.rs, only where they are missing: 0002 adds them, but for
-- a while a build shipped 0002 without them, and databases made by it lack them.
SELECT 1;

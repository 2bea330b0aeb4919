-- Who resolved an exception and when (a shift lead on a terminal). The columns are added by the
-- migration's hook in src/store/sqlite.rs, only where they are missing: for a while 0002 added
-- them itself, and databases made then already have them.
SELECT 1;

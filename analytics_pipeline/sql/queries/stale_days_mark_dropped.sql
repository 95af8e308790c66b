-- Marks the derived days before the cutoff that still count events: their day partitions
-- are gone (dropped by retention, now or by a run killed before it could mark them).
INSERT INTO stats_stale_days (day, reason)
SELECT day, 'day dropped' FROM daily_stats WHERE day < %(cutoff)s AND total_events > 0
ON CONFLICT (day) DO UPDATE
    SET reason = EXCLUDED.reason, marked_at = now(), txid = pg_current_xact_id()

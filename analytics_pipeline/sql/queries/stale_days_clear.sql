-- Clears the stale marks of a recounted range that the recount's read saw.
DELETE FROM stats_stale_days
WHERE day BETWEEN %(first_day)s AND %(last_day)s
  AND pg_visible_in_snapshot(txid, %(snapshot)s::pg_snapshot)

-- Days whose statistics must be recounted (rows left the log), oldest first.
SELECT day, reason, marked_at, txid::text AS txid FROM stats_stale_days ORDER BY day

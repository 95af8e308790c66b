-- Events with snapshots, oldest first, between keyset bounds (after, until]: the events that
-- do not fit in the disk quota.
SELECT id, snapshot_path, "timestamp" FROM events
WHERE snapshot_path IS NOT NULL
  AND ("timestamp", id) > (%(after_ts)s, %(after_id)s)
  AND ("timestamp", id) <= (%(until_ts)s, %(until_id)s)
ORDER BY "timestamp", id
LIMIT %(limit)s

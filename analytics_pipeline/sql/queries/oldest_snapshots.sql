-- Events with snapshots, oldest first after a keyset bound (for the disk quota).
SELECT id, snapshot_path, "timestamp" FROM events
WHERE snapshot_path IS NOT NULL AND ("timestamp", id) > (%(after_ts)s, %(after_id)s)
ORDER BY "timestamp", id
LIMIT %(limit)s

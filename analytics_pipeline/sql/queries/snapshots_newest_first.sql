-- Events with snapshots, newest first (the disk quota keeps the newest that fit).
SELECT id, snapshot_path, "timestamp" FROM events
WHERE snapshot_path IS NOT NULL
ORDER BY "timestamp" DESC, id DESC

-- Snapshot paths of every event before a time (the rows of partitions about to be dropped).
SELECT snapshot_path FROM events
WHERE "timestamp" < %(before)s AND snapshot_path IS NOT NULL

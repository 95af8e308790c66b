-- Snapshot paths of one (detached) day table, by position, in batches.
SELECT id, snapshot_path FROM {table}
WHERE snapshot_path IS NOT NULL AND id > %(after_id)s
ORDER BY id
LIMIT %(limit)s

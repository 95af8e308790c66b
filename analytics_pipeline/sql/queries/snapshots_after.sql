-- Visible events with a snapshot after a position, in position order (thumbnail work).
SELECT id, snapshot_path
FROM visible_events(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
WHERE snapshot_path IS NOT NULL AND id > %(after_id)s
ORDER BY id
LIMIT %(limit)s

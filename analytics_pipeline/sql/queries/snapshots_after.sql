-- Visible events with a snapshot after a position, in position order (thumbnail work). A
-- clip_ready event's snapshot_path is its MP4 clip: it has no thumbnail.
SELECT id, snapshot_path
FROM visible_events(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
WHERE snapshot_path IS NOT NULL AND event_type <> 'clip_ready' AND id > %(after_id)s
ORDER BY id
LIMIT %(limit)s

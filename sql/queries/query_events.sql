-- Filtered events with keyset pagination on the log position (id). NULL filters are off.
-- {direction} is ASC or DESC, filled in by analytics_pipeline.db.query().
SELECT id, event_id, event_type, camera_id, "timestamp", frame_number, snapshot_path,
       event_data, created_at, txid::text::bigint AS txid
FROM events
WHERE (%(camera_ids)s::text[] IS NULL OR camera_id = ANY(%(camera_ids)s::text[]))
  AND (%(event_types)s::text[] IS NULL OR event_type = ANY(%(event_types)s::text[]))
  AND (%(start)s::timestamptz IS NULL OR "timestamp" >= %(start)s::timestamptz)
  AND (%(end)s::timestamptz IS NULL OR "timestamp" < %(end)s::timestamptz)
  AND (%(before_id)s::bigint IS NULL OR id < %(before_id)s::bigint)
  AND (%(after_id)s::bigint IS NULL OR id > %(after_id)s::bigint)
ORDER BY id {direction}
LIMIT %(limit)s

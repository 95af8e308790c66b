-- Visible events matching a filter, keyset-paginated on the log position (id).
-- {direction} is ASC or DESC, filled in by analytics_pipeline.db.query().
SELECT id, event_id, event_type, camera_id, "timestamp", frame_number, snapshot_path,
       event_data, created_at, txid::text::bigint AS txid
FROM visible_events(%(camera_ids)s, %(event_types)s, %(start)s, %(end)s,
                    %(object_class)s, %(plate)s, %(min_confidence)s, %(track_id)s)
WHERE (%(before_id)s::bigint IS NULL OR id < %(before_id)s::bigint)
  AND (%(after_id)s::bigint IS NULL OR id > %(after_id)s::bigint)
ORDER BY id {direction}
LIMIT %(limit)s OFFSET %(offset)s

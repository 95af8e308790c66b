-- read_committed_after.sql shaped as stream messages for the relay: event_data as JSON text
-- (never decoded and encoded again), whether there is a snapshot rather than its path.
SELECT id, event_id::text AS event_id, event_type, camera_id, "timestamp", frame_number,
       (snapshot_path IS NOT NULL AND event_type <> 'clip_ready') AS has_snapshot, event_data::text AS data,
       txid::text::bigint AS txid
FROM events
WHERE (txid, id) > (%(txid)s::text::xid8, %(id)s)
  AND txid < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY txid, id
LIMIT %(limit)s

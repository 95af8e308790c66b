-- read_tail.sql shaped as stream messages for the relay (see relay_after.sql).
SELECT * FROM (
    SELECT id, event_id::text AS event_id, event_type, camera_id, "timestamp", frame_number,
           (snapshot_path IS NOT NULL AND event_type <> 'clip_ready') AS has_snapshot, event_data::text AS data,
           txid::text::bigint AS txid
    FROM events
    WHERE txid < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY txid DESC, id DESC
    LIMIT %(limit)s
) newest
ORDER BY txid, id

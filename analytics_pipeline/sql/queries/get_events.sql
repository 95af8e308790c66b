-- Visible events by position, for batched loading.
SELECT id, event_id, event_type, camera_id, "timestamp", frame_number, snapshot_path,
       event_data, created_at, txid::text::bigint AS txid
FROM visible_events(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
WHERE id = ANY(%(ids)s::bigint[])

SELECT id, event_id, event_type, camera_id, "timestamp", frame_number, snapshot_path,
       event_data, created_at, txid::text::bigint AS txid
FROM events
WHERE id = %(id)s

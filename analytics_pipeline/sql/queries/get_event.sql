-- One visible event by position (deleted events and tombstones are not visible).
SELECT id, event_id, event_type, camera_id, "timestamp", frame_number, snapshot_path,
       event_data, created_at, txid::text::bigint AS txid
FROM visible_events(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
WHERE id = %(id)s

-- The visible clip_ready events of a source event. A clip_ready has its source's camera and
-- timestamp, so the lookup stays on the (camera_id, timestamp) index.
SELECT id, event_id, event_type, camera_id, "timestamp", frame_number, snapshot_path,
       event_data, created_at, txid::text::bigint AS txid
FROM visible_events(ARRAY[%(camera_id)s]::text[], ARRAY['clip_ready'], %(ts)s,
                    %(ts)s + interval '1 microsecond', NULL, NULL, NULL, NULL)
WHERE event_data ->> 'source_event_id' = %(event_id)s
ORDER BY id

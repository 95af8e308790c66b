-- The newest committed events (commit-safe order), oldest first: what a wiped stream replays.
SELECT * FROM (
    SELECT id, event_id, event_type, camera_id, "timestamp", frame_number, snapshot_path,
           event_data, created_at, txid::text::bigint AS txid
    FROM events
    WHERE txid < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY txid DESC, id DESC
    LIMIT %(limit)s
) newest
ORDER BY txid, id

-- Events after a (txid, id) cursor in commit-safe order: only rows written by transactions
-- older than every transaction still running, so a row committed late is never skipped.
SELECT id, event_id, event_type, camera_id, "timestamp", frame_number, snapshot_path,
       event_data, created_at, txid::text::bigint AS txid
FROM events
WHERE (txid, id) > (%(txid)s::text::xid8, %(id)s)
  AND txid < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY txid, id
LIMIT %(limit)s

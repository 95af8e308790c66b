-- Appends a batch in one statement. Rows whose event_id is already stored (any day, any
-- batch, any writer) are skipped; returns (event_id, id) for the rows stored now.
-- append_events() is in sql/migrations/0005_retention_without_blocking.sql.
SELECT event_id, id
FROM append_events(
    %(event_ids)s::uuid[], %(event_types)s::text[], %(camera_ids)s::text[],
    %(timestamps)s::timestamptz[], %(frame_numbers)s::integer[],
    %(snapshot_paths)s::text[], %(event_data)s::jsonb[]
)
ORDER BY id

-- Appends a batch in one statement. Rows whose event_id is already stored are skipped;
-- returns (event_id, id) for the rows stored now.
WITH input AS (
    SELECT *
    FROM unnest(
        %(event_ids)s::uuid[], %(event_types)s::text[], %(camera_ids)s::text[],
        %(timestamps)s::timestamptz[], %(frame_numbers)s::integer[],
        %(snapshot_paths)s::text[], %(event_data)s::jsonb[]
    ) WITH ORDINALITY AS t(event_id, event_type, camera_id, ts, frame_number,
                           snapshot_path, event_data, ord)
), firsts AS (
    SELECT DISTINCT ON (event_id) * FROM input ORDER BY event_id, ord
), fresh AS (
    INSERT INTO event_keys (event_id, "timestamp")
    SELECT event_id, ts FROM firsts
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id
), stored AS (
    INSERT INTO events (event_id, event_type, camera_id, "timestamp", frame_number,
                        snapshot_path, event_data)
    SELECT f.event_id, f.event_type, f.camera_id, f.ts, f.frame_number,
           f.snapshot_path, f.event_data
    FROM firsts f JOIN fresh USING (event_id)
    ORDER BY f.ord
    RETURNING event_id, id
)
SELECT event_id, id FROM stored ORDER BY id

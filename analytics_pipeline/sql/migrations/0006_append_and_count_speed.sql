-- Issue 9, part 1: appending through a per-connection staging table.
--
-- EventLog.append sends a batch with one binary COPY into the session's temporary table
-- append_staging (sql/queries/append_staging_create.sql makes it once per connection), then
-- calls append_staged(): the same rule as append_events() (0005) -- an event_id stored before,
-- on any day, in any batch, by any writer, is skipped -- without turning seven parameter
-- arrays into text and back. The staging rows hold distinct event_ids (EventLog drops the
-- repeats of a batch, keeping the first). append_events() stays for callers that pass arrays.
--
-- Locks as append_events(): a batch over 256 events takes one exclusive lock, a smaller one
-- the shared lock and one lock per event_id, so two writers of the same event_id take turns;
-- each statement after the locks runs on a snapshot taken after them (a volatile function,
-- READ COMMITTED) and sees the other writer's committed key. Under those locks no other
-- writer can be adding one of the batch's keys: one probe of each weekly event_keys
-- partition's primary key with the batch's ids finds the keys stored before, and the inserts
-- need no ON CONFLICT (no speculative insertion per key). The staging rows are removed once
-- read, so a second append in the same transaction starts empty.
CREATE FUNCTION append_staged(batch_size integer)
RETURNS TABLE (event_id uuid, id bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    lock_key bigint;
    stored_before uuid[];
BEGIN
    IF batch_size > 256 THEN
        PERFORM pg_advisory_xact_lock(1635150177, 1);
    ELSE
        PERFORM pg_advisory_xact_lock_shared(1635150177, 1);
        FOR lock_key IN
            SELECT DISTINCT hashtextextended(s.event_id::text, 0) FROM append_staging s ORDER BY 1
        LOOP
            PERFORM pg_advisory_xact_lock(lock_key);
        END LOOP;
    END IF;
    stored_before := ARRAY(
        SELECT o.event_id FROM event_keys o
        WHERE o.event_id = ANY(ARRAY(SELECT s.event_id FROM append_staging s)));
    IF cardinality(stored_before) = 0 THEN
        -- The usual case: nothing of the batch is stored yet.
        INSERT INTO event_keys (event_id, "timestamp")
        SELECT s.event_id, s.ts FROM append_staging s;
        RETURN QUERY
        INSERT INTO events AS e (event_id, event_type, camera_id, "timestamp", frame_number,
                                 snapshot_path, event_data)
        SELECT s.event_id, s.event_type, s.camera_id, s.ts, s.frame_number, s.snapshot_path,
               s.event_data
        FROM append_staging s
        ORDER BY s.ord
        RETURNING e.event_id, e.id;
    ELSE
        INSERT INTO event_keys (event_id, "timestamp")
        SELECT s.event_id, s.ts FROM append_staging s
        WHERE s.event_id <> ALL(stored_before);
        RETURN QUERY
        INSERT INTO events AS e (event_id, event_type, camera_id, "timestamp", frame_number,
                                 snapshot_path, event_data)
        SELECT s.event_id, s.event_type, s.camera_id, s.ts, s.frame_number, s.snapshot_path,
               s.event_data
        FROM append_staging s
        WHERE s.event_id <> ALL(stored_before)
        ORDER BY s.ord
        RETURNING e.event_id, e.id;
    END IF;
    DELETE FROM append_staging;
END;
$$;

-- Issue 9, part 2: counting a camera's events without reading the rows (issue 9: the REST events route counts
-- its total on every page): the (camera_id, timestamp) index also carries event_type and id,
-- everything visible_events() looks at for a camera and time filter, so the count is an
-- index-only scan. Replaces idx_camera_timestamp (same key). Building it locks writes to the
-- events table for as long as the build takes on an existing log.
CREATE INDEX idx_camera_timestamp_covering ON events (camera_id, "timestamp")
    INCLUDE (event_type, id);
DROP INDEX idx_camera_timestamp;

-- The filters of visible_events() without its tombstone check, so a count can take the
-- tombstoned events off once instead of probing deleted_events for every matching row
-- (count_events.sql); visible_events() is now that function less the deleted positions.
-- Both stay plain SQL functions that the planner inlines.
CREATE FUNCTION matching_events(
    camera_ids text[],
    event_types text[],
    start_at timestamptz,
    end_before timestamptz,
    object_class text,
    plate text,
    min_confidence double precision,
    track_id bigint
) RETURNS SETOF events
LANGUAGE sql STABLE AS $$
    SELECT e.*
    FROM events e
    WHERE e.event_type <> 'event_deleted'
      AND (camera_ids IS NULL OR e.camera_id = ANY(camera_ids))
      AND (event_types IS NULL OR e.event_type = ANY(event_types))
      AND (start_at IS NULL OR e."timestamp" >= start_at)
      AND (end_before IS NULL OR e."timestamp" < end_before)
      AND (object_class IS NULL
           OR e.event_data @> jsonb_build_object('class', object_class)
           OR e.event_data @> jsonb_build_object('objects',
                                                 jsonb_build_array(jsonb_build_object('class', object_class))))
      AND (plate IS NULL
           OR upper(regexp_replace(e.event_data ->> 'plate', '[^A-Za-z0-9]', '', 'g'))
              LIKE '%' || upper(regexp_replace(plate, '[^A-Za-z0-9]', '', 'g')) || '%')
      AND (min_confidence IS NULL
           OR (jsonb_typeof(e.event_data -> 'confidence') = 'number'
               AND (e.event_data ->> 'confidence')::double precision >= min_confidence)
           OR EXISTS (SELECT 1 FROM jsonb_array_elements(
                          CASE WHEN jsonb_typeof(e.event_data -> 'objects') = 'array'
                               THEN e.event_data -> 'objects' ELSE '[]'::jsonb END) o
                      WHERE jsonb_typeof(o -> 'confidence') = 'number'
                        AND (o ->> 'confidence')::double precision >= min_confidence))
      AND (track_id IS NULL OR e.event_data @> jsonb_build_object('track_id', track_id))
$$;

CREATE OR REPLACE FUNCTION visible_events(
    camera_ids text[],
    event_types text[],
    start_at timestamptz,
    end_before timestamptz,
    object_class text,
    plate text,
    min_confidence double precision,
    track_id bigint
) RETURNS SETOF events
LANGUAGE sql STABLE AS $$
    SELECT m.*
    FROM matching_events(camera_ids, event_types, start_at, end_before, object_class, plate,
                         min_confidence, track_id) m
    WHERE NOT EXISTS (SELECT 1 FROM deleted_events d WHERE d.id = m.id)
$$;

-- The read side: tombstones hide deleted events at once, and one filter function is shared
-- by every query (list, count, stats) of the API, the CLI and the REST routes.

-- Positions deleted through the API. The tombstone event (event_type 'event_deleted') in the
-- log is the record; this table, written in the same transaction, is its index.
CREATE TABLE deleted_events (
    id         bigint      PRIMARY KEY,
    deleted_at timestamptz NOT NULL DEFAULT now()
);

-- Expression indexes for the typed filters of the API.
CREATE INDEX idx_events_track_id ON events (((event_data ->> 'track_id')))
    WHERE event_data ? 'track_id';
CREATE INDEX idx_events_plate ON events (((event_data ->> 'plate')))
    WHERE event_type = 'anpr';

-- Visible events matching a filter; NULL arguments are no filter. A plain SQL function, so
-- the planner inlines it (partition pruning and indexes still apply).
CREATE FUNCTION visible_events(
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
      AND NOT EXISTS (SELECT 1 FROM deleted_events d WHERE d.id = e.id)
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

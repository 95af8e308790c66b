-- One UTC day of visible events as CSV for polars: the columns the daily statistics need.
COPY (
    SELECT camera_id, event_type,
           extract(hour FROM "timestamp" AT TIME ZONE 'UTC')::int AS hour,
           event_data ->> 'class' AS object_class,
           (SELECT string_agg(o ->> 'class', '|')
              FROM jsonb_array_elements(CASE WHEN jsonb_typeof(event_data -> 'objects') = 'array'
                                             THEN event_data -> 'objects' ELSE '[]' END) o)
               AS detected_classes,
           event_data ->> 'plate' AS plate,
           event_data ->> 'action' AS action,
           (event_data ->> 'dwell_seconds')::double precision AS dwell_seconds
    FROM visible_events(NULL, NULL, {start}, {end}, NULL, NULL, NULL, NULL)
) TO STDOUT WITH (FORMAT csv, HEADER true)

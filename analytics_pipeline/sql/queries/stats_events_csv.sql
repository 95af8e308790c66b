-- Visible events of [start, end) as CSV for polars: the columns the daily statistics need.
-- The hour is counted from the epoch (day = hour_number / 24 in UTC), and each JSON field is
-- read only for the event type that carries it, so the read stays one cheap pass.
COPY (
    SELECT floor(date_part('epoch', "timestamp") / 3600)::int AS hour_number,
           camera_id,
           event_type,
           CASE event_type WHEN 'tracking' THEN event_data ->> 'class' END AS object_class,
           CASE event_type WHEN 'detection' THEN
               jsonb_path_query_array(event_data,
                                      '$.objects[*].class ? (@.type() == "string")')::text
           END AS detected_classes,
           CASE event_type WHEN 'anpr' THEN event_data ->> 'plate' END AS plate,
           CASE event_type WHEN 'tracking' THEN event_data ->> 'action' END AS action,
           CASE WHEN event_type = 'tracking'
                     AND jsonb_typeof(event_data -> 'dwell_seconds') = 'number'
                THEN event_data ->> 'dwell_seconds' END AS dwell_seconds,
           CASE event_type WHEN 'line_crossed' THEN event_data ->> 'line' END AS line,
           CASE event_type WHEN 'line_crossed' THEN event_data ->> 'direction' END AS direction
    FROM visible_events(NULL, NULL, {start}, {end}, NULL, NULL, NULL, NULL)
) TO STDOUT WITH (FORMAT csv, HEADER true)

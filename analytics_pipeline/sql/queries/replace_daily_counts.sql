INSERT INTO daily_event_counts (day, camera_id, event_type, events)
SELECT %(day)s::date, camera_id, event_type, events
FROM unnest(%(camera_ids)s::text[], %(event_types)s::text[], %(events)s::int[])
     AS t(camera_id, event_type, events)

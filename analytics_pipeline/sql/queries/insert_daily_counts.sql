-- Per camera/type counts of many days in one statement (after delete_daily_stats_range).
INSERT INTO daily_event_counts (day, camera_id, event_type, events)
SELECT day, camera_id, event_type, events
FROM unnest(%(days)s::date[], %(camera_ids)s::text[], %(event_types)s::text[], %(events)s::int[])
     AS t(day, camera_id, event_type, events)

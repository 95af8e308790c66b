-- The statistics of many days in one statement (after delete_daily_stats_range).
INSERT INTO daily_stats (day, total_events, events_by_hour, object_classes, distinct_plates,
                         top_plates, mean_dwell_seconds)
SELECT day, total_events, events_by_hour, object_classes, distinct_plates, top_plates,
       mean_dwell_seconds
FROM unnest(%(days)s::date[], %(total_events)s::int[], %(events_by_hour)s::jsonb[],
            %(object_classes)s::jsonb[], %(distinct_plates)s::int[], %(top_plates)s::jsonb[],
            %(mean_dwell_seconds)s::double precision[])
     AS t(day, total_events, events_by_hour, object_classes, distinct_plates, top_plates,
          mean_dwell_seconds)

-- Derived daily statistics in a date range (inclusive), with per camera/type counts and per
-- camera/line/direction crossings.
SELECT s.day, s.total_events, s.events_by_hour, s.object_classes, s.distinct_plates,
       s.top_plates, s.mean_dwell_seconds, s.computed_at,
       coalesce((SELECT jsonb_agg(jsonb_build_object('camera_id', c.camera_id,
                                                     'event_type', c.event_type,
                                                     'events', c.events)
                                  ORDER BY c.camera_id, c.event_type)
                 FROM daily_event_counts c WHERE c.day = s.day), '[]'::jsonb) AS counts,
       coalesce((SELECT jsonb_agg(jsonb_build_object('camera_id', l.camera_id,
                                                     'line', l.line,
                                                     'direction', l.direction,
                                                     'crossings', l.crossings)
                                  ORDER BY l.camera_id, l.line, l.direction)
                 FROM daily_line_counts l WHERE l.day = s.day), '[]'::jsonb) AS line_counts
FROM daily_stats s
WHERE (%(first_day)s::date IS NULL OR s.day >= %(first_day)s::date)
  AND (%(last_day)s::date IS NULL OR s.day <= %(last_day)s::date)
ORDER BY s.day

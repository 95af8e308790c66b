-- Stored crossings per day, camera, line and direction in a date range (inclusive; NULL bounds
-- and cameras mean all), as daily_event_stats counted them.
SELECT day, camera_id, line, direction, crossings
FROM daily_line_counts
WHERE (%(first_day)s::date IS NULL OR day >= %(first_day)s::date)
  AND (%(last_day)s::date IS NULL OR day <= %(last_day)s::date)
  AND (%(camera_ids)s::text[] IS NULL OR camera_id = ANY (%(camera_ids)s::text[]))
ORDER BY day, camera_id, line, direction

-- Crossings per camera, line and direction of many days in one statement (after
-- delete_daily_stats_range).
INSERT INTO daily_line_counts (day, camera_id, line, direction, crossings)
SELECT day, camera_id, line, direction, crossings
FROM unnest(%(days)s::date[], %(camera_ids)s::text[], %(lines)s::text[], %(directions)s::text[],
            %(crossings)s::int[])
     AS t(day, camera_id, line, direction, crossings)

-- Totals, per type and per camera in one scan; grouping() tells the rows apart.
SELECT grouping(event_type) AS by_type_rollup, grouping(camera_id) AS by_camera_rollup,
       event_type, camera_id, count(*) AS n,
       min("timestamp") AS first_event, max("timestamp") AS last_event
FROM events
WHERE (%(camera_ids)s::text[] IS NULL OR camera_id = ANY(%(camera_ids)s::text[]))
  AND (%(event_types)s::text[] IS NULL OR event_type = ANY(%(event_types)s::text[]))
  AND (%(start)s::timestamptz IS NULL OR "timestamp" >= %(start)s::timestamptz)
  AND (%(end)s::timestamptz IS NULL OR "timestamp" < %(end)s::timestamptz)
GROUP BY GROUPING SETS ((), (event_type), (camera_id))

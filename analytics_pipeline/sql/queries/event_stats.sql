-- Totals, per type and per camera in one scan; grouping() tells the rows apart.
SELECT grouping(event_type) AS by_type_rollup, grouping(camera_id) AS by_camera_rollup,
       event_type, camera_id, count(*) AS n,
       min("timestamp") AS first_event, max("timestamp") AS last_event
FROM visible_events(%(camera_ids)s, %(event_types)s, %(start)s, %(end)s,
                    %(object_class)s, %(plate)s, %(min_confidence)s, %(track_id)s)
GROUP BY GROUPING SETS ((), (event_type), (camera_id))

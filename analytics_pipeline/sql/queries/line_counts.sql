-- Crossings per camera, line and direction among the visible line_crossed events matching a
-- filter (live counts, straight from the log; the arguments of visible_events, its event
-- types replaced by line_crossed).
SELECT camera_id, event_data ->> 'line' AS line, event_data ->> 'direction' AS direction,
       count(*) AS crossings
FROM visible_events(%(camera_ids)s, ARRAY['line_crossed'], %(start)s, %(end)s,
                    %(object_class)s, %(plate)s, %(min_confidence)s, %(track_id)s)
WHERE event_data ->> 'line' IS NOT NULL AND event_data ->> 'direction' IS NOT NULL
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3

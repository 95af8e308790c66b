-- Visible events per UTC day and camera/type straight from the log (the asset check's truth).
SELECT ("timestamp" AT TIME ZONE 'UTC')::date AS day, camera_id, event_type, count(*) AS events
FROM visible_events(NULL, NULL, %(start)s, %(end)s, NULL, NULL, NULL, NULL)
GROUP BY 1, 2, 3

-- Visible events per UTC minute, hour or day (%(unit)s), for the chart of the events page.
SELECT date_trunc(%(unit)s, "timestamp" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS start,
       count(*) AS n
FROM visible_events(%(camera_ids)s, %(event_types)s, %(start)s, %(end)s,
                    %(object_class)s, %(plate)s, %(min_confidence)s, %(track_id)s)
GROUP BY 1
ORDER BY 1

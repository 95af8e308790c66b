-- Events past their retention (the shorter of their camera's and their type's, in days), and
-- deleted events (erasure), oldest first, in batches. A clip_ready event keeps the days of its
-- source's type (event_data.source_event_type) unless clip_ready itself is named.
SELECT e.id, e.snapshot_path
FROM events e
WHERE e.id > %(after_id)s
  AND (e."timestamp" < %(now)s - make_interval(days => LEAST(
           coalesce((%(camera_days)s::jsonb ->> e.camera_id)::int, %(default_days)s),
           coalesce((%(type_days)s::jsonb ->> e.event_type)::int,
                    CASE e.event_type WHEN 'clip_ready' THEN
                        (%(type_days)s::jsonb ->> (e.event_data ->> 'source_event_type'))::int
                    END,
                    %(default_days)s)))
       OR EXISTS (SELECT 1 FROM deleted_events d WHERE d.id = e.id))
ORDER BY e.id
LIMIT %(limit)s

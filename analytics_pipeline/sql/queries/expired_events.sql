-- Events past their retention (the shorter of their camera's and their type's, in days), and
-- deleted events (erasure), oldest first, in batches.
SELECT e.id, e.snapshot_path
FROM events e
WHERE e.id > %(after_id)s
  AND (e."timestamp" < %(now)s - make_interval(days => LEAST(
           coalesce((%(camera_days)s::jsonb ->> e.camera_id)::int, %(default_days)s),
           coalesce((%(type_days)s::jsonb ->> e.event_type)::int, %(default_days)s)))
       OR EXISTS (SELECT 1 FROM deleted_events d WHERE d.id = e.id))
ORDER BY e.id
LIMIT %(limit)s

SELECT count(*)
FROM events
WHERE (%(camera_ids)s::text[] IS NULL OR camera_id = ANY(%(camera_ids)s::text[]))
  AND (%(event_types)s::text[] IS NULL OR event_type = ANY(%(event_types)s::text[]))
  AND (%(start)s::timestamptz IS NULL OR "timestamp" >= %(start)s::timestamptz)
  AND (%(end)s::timestamptz IS NULL OR "timestamp" < %(end)s::timestamptz)

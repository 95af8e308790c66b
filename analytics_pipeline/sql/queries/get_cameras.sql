SELECT id, name, source_url, enabled, settings, created_at, updated_at
FROM cameras
WHERE id = ANY(%(ids)s::text[])

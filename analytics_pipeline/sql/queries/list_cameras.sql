SELECT id, name, source_url, enabled, settings, created_at, updated_at
FROM cameras
WHERE (%(enabled_only)s IS FALSE OR enabled)
ORDER BY id

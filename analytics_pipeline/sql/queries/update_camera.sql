-- Changes the given fields of a camera; NULL leaves a field as it is.
UPDATE cameras
SET name = coalesce(%(name)s, name),
    source_url = coalesce(%(source_url)s, source_url),
    enabled = coalesce(%(enabled)s, enabled),
    settings = coalesce(%(settings)s, settings),
    updated_at = now()
WHERE id = %(id)s
RETURNING id, name, source_url, enabled, settings, created_at, updated_at

INSERT INTO cameras (id, name, source_url, enabled, settings)
VALUES (%(id)s, %(name)s, %(source_url)s, %(enabled)s, %(settings)s)
ON CONFLICT (id) DO UPDATE
SET name = EXCLUDED.name, source_url = EXCLUDED.source_url, enabled = EXCLUDED.enabled,
    settings = EXCLUDED.settings, updated_at = now()
RETURNING id, name, source_url, enabled, settings, created_at, updated_at

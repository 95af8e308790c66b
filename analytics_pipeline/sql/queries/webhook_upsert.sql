-- Registers a webhook, or replaces the one with the same name (its deliveries stay).
INSERT INTO webhooks (name, url, event_types, camera_ids, secret)
VALUES (%(name)s, %(url)s, %(event_types)s, %(camera_ids)s, %(secret)s)
ON CONFLICT (name) DO UPDATE
SET url = EXCLUDED.url, event_types = EXCLUDED.event_types, camera_ids = EXCLUDED.camera_ids,
    secret = EXCLUDED.secret, updated_at = now()
RETURNING name, url, event_types, camera_ids, secret, created_at, updated_at

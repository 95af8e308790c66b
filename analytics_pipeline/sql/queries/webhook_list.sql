-- Webhooks (all, or the one named) with how many of their deliveries are pending, delivered
-- and dead.
SELECT w.name, w.url, w.event_types, w.camera_ids, w.secret, w.created_at, w.updated_at,
       count(d.id) FILTER (WHERE d.status = 'pending')   AS pending,
       count(d.id) FILTER (WHERE d.status = 'delivered') AS delivered,
       count(d.id) FILTER (WHERE d.status = 'dead')      AS dead
FROM webhooks w
LEFT JOIN webhook_deliveries d ON d.webhook = w.name
WHERE %(name)s::text IS NULL OR w.name = %(name)s::text
GROUP BY w.name
ORDER BY w.name

-- Dead letters, oldest first: of one webhook, or of all when the name is NULL.
SELECT id, webhook, event_id, position, event_type, attempts, last_status, last_error,
       created_at, finished_at
FROM webhook_deliveries
WHERE status = 'dead' AND (%(name)s::text IS NULL OR webhook = %(name)s::text)
ORDER BY webhook, id
LIMIT %(limit)s

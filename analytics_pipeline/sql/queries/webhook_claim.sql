-- The next delivery that is due, locked for the caller's transaction; other workers skip it.
-- A worker that dies mid-delivery loses its connection, which releases the lock.
SELECT d.id, d.webhook, d.event_id, d.body, d.attempts, w.url, w.secret
FROM webhook_deliveries d
JOIN webhooks w ON w.name = d.webhook
WHERE d.status = 'pending' AND d.next_attempt_at <= now()
ORDER BY d.next_attempt_at, d.id
LIMIT 1
FOR UPDATE OF d SKIP LOCKED

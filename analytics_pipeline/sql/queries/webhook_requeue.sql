-- Sends a webhook's dead letters again: a fresh series of attempts, due now.
UPDATE webhook_deliveries
SET status = 'pending', attempts = 0, next_attempt_at = now(), finished_at = NULL
WHERE webhook = %(name)s AND status = 'dead'
RETURNING id

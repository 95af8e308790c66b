-- A delivery the receiver accepted (2xx).
UPDATE webhook_deliveries
SET status = 'delivered', attempts = attempts + 1, last_status = %(status)s, last_error = NULL,
    finished_at = now()
WHERE id = %(id)s

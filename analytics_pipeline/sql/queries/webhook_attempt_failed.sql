-- A failed attempt: retry after the back-off, or a dead letter after the last attempt.
UPDATE webhook_deliveries
SET attempts = attempts + 1,
    last_status = %(status)s,
    last_error = %(error)s,
    status = CASE WHEN attempts + 1 >= %(max_attempts)s THEN 'dead' ELSE 'pending' END,
    finished_at = CASE WHEN attempts + 1 >= %(max_attempts)s THEN now() END,
    next_attempt_at = now() + make_interval(secs => %(delay)s)
WHERE id = %(id)s
RETURNING status, attempts

-- Forgets deliveries done longer ago than the cutoff (dead letters stay until retried).
DELETE FROM webhook_deliveries
WHERE status = 'delivered' AND finished_at < now() - make_interval(secs => %(seconds)s)

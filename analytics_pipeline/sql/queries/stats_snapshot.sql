-- The snapshot a recount reads after: marks of transactions visible in it are cleared.
SELECT pg_current_snapshot()::text AS snapshot

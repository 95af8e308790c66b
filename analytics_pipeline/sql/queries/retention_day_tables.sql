-- The tables retention may have to remove: day partitions of events and week partitions of
-- event_keys (named by their first day), attached, half-detached (a DETACH ... CONCURRENTLY
-- that was interrupted) or detached and left behind by a killed run. Oldest first, events
-- before event_keys, half-detached first (a table can have only one pending detach).
SELECT c.relname AS name,
       CASE WHEN c.relname LIKE 'event\_keys\_%' THEN 'event_keys' ELSE 'events' END AS parent,
       i.inhrelid IS NOT NULL AS attached,
       coalesce(i.inhdetachpending, false) AS detach_pending,
       to_date(right(c.relname, 8), 'YYYYMMDD') AS day
FROM pg_class c
LEFT JOIN pg_inherits i ON i.inhrelid = c.oid
WHERE c.relkind = 'r'
  AND pg_table_is_visible(c.oid)
  AND (c.relname ~ '^events_[0-9]{8}$' OR c.relname ~ '^event_keys_[0-9]{8}$')
  AND (i.inhparent IS NULL OR i.inhparent IN ('events'::regclass, 'event_keys'::regclass))
ORDER BY 2 DESC, 4 DESC, 5

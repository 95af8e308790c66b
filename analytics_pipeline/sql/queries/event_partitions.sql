-- The day partitions of the log, oldest first.
SELECT c.relname AS partition_name, to_date(substr(c.relname, 8), 'YYYYMMDD') AS day
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'events'::regclass AND c.relname ~ '^events_[0-9]{8}$'
ORDER BY 2

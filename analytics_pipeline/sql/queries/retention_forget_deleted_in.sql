-- The deleted_events rows of the events in one detached day table (dropped next).
DELETE FROM deleted_events d USING {table} e WHERE d.id = e.id

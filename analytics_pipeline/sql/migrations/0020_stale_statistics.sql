-- Days whose derived statistics may no longer match the log because rows left it: events
-- purged (retention, erasure) are marked by a trigger in the purge's own transaction; days
-- dropped as whole partitions are marked by the retention asset. event_log_sensor requests a
-- recount of the marked days; daily_event_stats clears the marks that its read of the log saw
-- (txid visible in the snapshot taken before the read), so a purge committed during a recount
-- leaves its mark for the next one.

CREATE TABLE stats_stale_days (
    day       date        PRIMARY KEY,
    reason    text        NOT NULL,
    marked_at timestamptz NOT NULL DEFAULT now(),
    txid      xid8        NOT NULL DEFAULT pg_current_xact_id()
);

CREATE FUNCTION events_mark_stale_days() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stats_stale_days AS s (day, reason)
    SELECT DISTINCT (gone."timestamp" AT TIME ZONE 'UTC')::date, 'events purged'
    FROM gone
    -- Tombstones are never counted. (An erased event's deleted_events row leaves in the same
    -- statement, so its day is marked too: one recount that finds the same counts.)
    WHERE gone.event_type <> 'event_deleted'
    ON CONFLICT (day) DO UPDATE
        SET reason = EXCLUDED.reason, marked_at = now(), txid = pg_current_xact_id();
    RETURN NULL;
END;
$$;

-- Statement level, on the partitioned parent: one insert per purge, whatever its size.
CREATE TRIGGER events_purged_mark_stale
    AFTER DELETE ON events
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION events_mark_stale_days();

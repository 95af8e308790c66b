-- Retention that never blocks readers and survives being killed (issue 22).
--
-- 1. event_keys is partitioned by UTC week (Monday to Sunday), so keys leave with one
--    DETACH ... CONCURRENTLY and DROP TABLE once their whole week is past retention, never by
--    a per-row delete (they outlive their events by less than a week). A partitioned table
--    cannot hold a unique key on event_id alone, so append_events() keeps "appending twice
--    stores once" itself: advisory locks on the keys it appends, then one look-up in every
--    partition (weeks rather than days: a handful of partitions to look in, not 40).
-- 2. retention_pending_files: snapshot paths of rows purged by retention whose files are not
--    removed yet; written in the purge's own transaction, emptied once the files are gone, so
--    a killed run leaves work that the next run finishes instead of orphans.
-- 3. purge_events() and drop_event_partitions_before() also remove the deleted_events rows of
--    the events they remove.

CREATE TABLE retention_pending_files (
    path      text        PRIMARY KEY,
    queued_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE event_keys RENAME TO event_keys_unpartitioned;
ALTER INDEX event_keys_pkey RENAME TO event_keys_unpartitioned_pkey;
ALTER INDEX idx_event_keys_timestamp RENAME TO idx_event_keys_unpartitioned_timestamp;
DROP TRIGGER event_keys_append_only ON event_keys_unpartitioned;

CREATE TABLE event_keys (
    event_id    uuid        NOT NULL,
    "timestamp" timestamptz NOT NULL,
    PRIMARY KEY (event_id, "timestamp")
) PARTITION BY RANGE ("timestamp");

CREATE TRIGGER event_keys_append_only
    BEFORE UPDATE OR DELETE ON event_keys
    FOR EACH ROW EXECUTE FUNCTION events_forbid_change();

CREATE TRIGGER event_keys_no_truncate
    BEFORE TRUNCATE ON event_keys
    FOR EACH STATEMENT EXECUTE FUNCTION events_forbid_change();

-- Creates the partitions that do not exist yet for the given days: the day's partition of
-- events and the week's (Monday to Sunday, UTC) of event_keys; returns how many events
-- partitions were made. Safe to call from many processes.
CREATE OR REPLACE FUNCTION ensure_event_partitions(days date[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    one_day date;
    week date;
    partition_name text;
    created integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('analytics.events_partitions'));
    FOREACH one_day IN ARRAY days LOOP
        partition_name := 'events_' || to_char(one_day, 'YYYYMMDD');
        IF to_regclass(quote_ident(partition_name)) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
                partition_name,
                to_char(one_day, 'YYYY-MM-DD') || ' 00:00:00+00',
                to_char(one_day + 1, 'YYYY-MM-DD') || ' 00:00:00+00');
            EXECUTE format(
                'CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON %I '
                'FOR EACH STATEMENT EXECUTE FUNCTION events_forbid_change()',
                partition_name);
            created := created + 1;
        END IF;
        week := date_trunc('week', one_day)::date;
        partition_name := 'event_keys_' || to_char(week, 'YYYYMMDD');
        IF to_regclass(quote_ident(partition_name)) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF event_keys FOR VALUES FROM (%L) TO (%L)',
                partition_name,
                to_char(week, 'YYYY-MM-DD') || ' 00:00:00+00',
                to_char(week + 7, 'YYYY-MM-DD') || ' 00:00:00+00');
            EXECUTE format(
                'CREATE TRIGGER event_keys_no_truncate BEFORE TRUNCATE ON %I '
                'FOR EACH STATEMENT EXECUTE FUNCTION events_forbid_change()',
                partition_name);
        END IF;
    END LOOP;
    RETURN created;
END;
$$;

SELECT ensure_event_partitions(ARRAY(
    SELECT to_date(substr(c.relname, 8), 'YYYYMMDD')
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'events'::regclass AND c.relname ~ '^events_[0-9]{8}$'
    UNION
    SELECT DISTINCT ("timestamp" AT TIME ZONE 'UTC')::date FROM event_keys_unpartitioned));

INSERT INTO event_keys (event_id, "timestamp")
SELECT event_id, "timestamp" FROM event_keys_unpartitioned;
DROP TABLE event_keys_unpartitioned;

-- Appends a batch; rows whose event_id is stored already (any day, any batch, any writer) are
-- skipped. Returns (event_id, id) of the rows stored now, in position order.
--
-- A writer first takes an advisory lock per event_id (a batch over 256 events takes one lock
-- for all instead, exclusive against every small batch's shared one), so two writers of the
-- same event_id take turns; each statement below then runs on a snapshot taken after the
-- locks (a volatile function, READ COMMITTED), and sees the other writer's committed key.
CREATE FUNCTION append_events(
    event_ids uuid[], event_types text[], camera_ids text[], timestamps timestamptz[],
    frame_numbers integer[], snapshot_paths text[], event_data jsonb[]
) RETURNS TABLE (event_id uuid, id bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    lock_key bigint;
BEGIN
    IF cardinality(event_ids) > 256 THEN
        PERFORM pg_advisory_xact_lock(1635150177, 1);
    ELSE
        PERFORM pg_advisory_xact_lock_shared(1635150177, 1);
        FOR lock_key IN
            SELECT DISTINCT hashtextextended(k::text, 0) FROM unnest(event_ids) AS k ORDER BY 1
        LOOP
            PERFORM pg_advisory_xact_lock(lock_key);
        END LOOP;
    END IF;
    RETURN QUERY
    WITH input AS (
        SELECT *
        FROM unnest(event_ids, event_types, camera_ids, timestamps, frame_numbers,
                    snapshot_paths, event_data)
             WITH ORDINALITY AS t(event_id, event_type, camera_id, ts, frame_number,
                                  snapshot_path, event_data, ord)
    ), firsts AS (
        SELECT DISTINCT ON (event_id) * FROM input ORDER BY event_id, ord
    ), fresh AS (
        INSERT INTO event_keys AS k (event_id, "timestamp")
        SELECT f.event_id, f.ts FROM firsts f
        WHERE f.event_id NOT IN (SELECT o.event_id FROM event_keys o
                                 WHERE o.event_id = ANY(event_ids))
        ON CONFLICT DO NOTHING
        RETURNING k.event_id
    ), stored AS (
        INSERT INTO events AS e (event_id, event_type, camera_id, "timestamp", frame_number,
                                 snapshot_path, event_data)
        SELECT f.event_id, f.event_type, f.camera_id, f.ts, f.frame_number,
               f.snapshot_path, f.event_data
        FROM firsts f JOIN fresh USING (event_id)
        ORDER BY f.ord
        RETURNING e.event_id, e.id
    )
    SELECT s.event_id, s.id FROM stored s ORDER BY s.id;
END;
$$;

-- The explicit purge path (retention, erasure): deletes the given positions, their keys and
-- their deleted_events rows.
CREATE OR REPLACE FUNCTION purge_events(positions bigint[])
RETURNS TABLE (id bigint, event_id uuid, snapshot_path varchar)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('analytics.allow_purge', 'on', true);
    RETURN QUERY
        WITH gone AS (
            DELETE FROM events e WHERE e.id = ANY(positions)
            RETURNING e.id, e.event_id, e."timestamp", e.snapshot_path
        ), keys AS (
            DELETE FROM event_keys k USING gone
            WHERE k.event_id = gone.event_id AND k."timestamp" = gone."timestamp"
        ), tombstoned AS (
            DELETE FROM deleted_events d USING gone WHERE d.id = gone.id
        )
        SELECT gone.id, gone.event_id, gone.snapshot_path FROM gone;
    PERFORM set_config('analytics.allow_purge', 'off', true);
END;
$$;

-- Whole days in one transaction (an administrator's tool and the tests'; retention itself
-- detaches concurrently, see analytics_pipeline/retention.py): every day partition of events
-- before cutoff is dropped, the deleted_events rows of its events removed and its snapshot
-- paths queued in retention_pending_files for the next retention run; so are the weekly
-- partitions of event_keys that end on or before cutoff.
CREATE OR REPLACE FUNCTION drop_event_partitions_before(cutoff date)
RETURNS TABLE (partition_name text, day date)
LANGUAGE plpgsql AS $$
DECLARE
    part record;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('analytics.events_partitions'));
    FOR part IN
        SELECT c.relname::text AS name, to_date(right(c.relname, 8), 'YYYYMMDD') AS part_day
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'events'::regclass AND c.relname ~ '^events_[0-9]{8}$'
        ORDER BY 2
    LOOP
        CONTINUE WHEN part.part_day >= cutoff;
        EXECUTE format(
            'INSERT INTO retention_pending_files (path) SELECT snapshot_path FROM %I '
            'WHERE snapshot_path IS NOT NULL ON CONFLICT DO NOTHING', part.name);
        EXECUTE format('DELETE FROM deleted_events d USING %I e WHERE d.id = e.id', part.name);
        EXECUTE format('ALTER TABLE events DETACH PARTITION %I', part.name);
        EXECUTE format('DROP TABLE %I', part.name);
        partition_name := part.name;
        day := part.part_day;
        RETURN NEXT;
    END LOOP;
    FOR part IN
        SELECT c.relname::text AS name, to_date(right(c.relname, 8), 'YYYYMMDD') AS part_day
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'event_keys'::regclass AND c.relname ~ '^event_keys_[0-9]{8}$'
    LOOP
        CONTINUE WHEN part.part_day + 7 > cutoff;
        EXECUTE format('ALTER TABLE event_keys DETACH PARTITION %I', part.name);
        EXECUTE format('DROP TABLE %I', part.name);
    END LOOP;
END;
$$;

-- The append-only event log, partitioned by UTC day on "timestamp".
-- Columns of the original service stay; event_id (UUID) is the idempotency key and txid
-- (the writing transaction) lets readers follow the log in commit-safe order.

CREATE TABLE events (
    id            bigint GENERATED ALWAYS AS IDENTITY,
    event_id      uuid         NOT NULL,
    event_type    varchar(50)  NOT NULL,
    camera_id     varchar(100) NOT NULL,
    "timestamp"   timestamptz  NOT NULL,
    frame_number  integer      NOT NULL,
    snapshot_path varchar(500),
    event_data    jsonb        NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz  NOT NULL DEFAULT now(),
    txid          xid8         NOT NULL DEFAULT pg_current_xact_id(),
    PRIMARY KEY (id, "timestamp")
) PARTITION BY RANGE ("timestamp");

CREATE INDEX idx_camera_timestamp ON events (camera_id, "timestamp");
CREATE INDEX idx_event_type_timestamp ON events (event_type, "timestamp");
CREATE INDEX idx_events_commit_order ON events (txid, id);

-- One row per event ever appended: a global unique key on event_id, which a partitioned
-- table cannot have on its own (its unique keys must include the partition key).
CREATE TABLE event_keys (
    event_id    uuid        PRIMARY KEY,
    "timestamp" timestamptz NOT NULL
);
CREATE INDEX idx_event_keys_timestamp ON event_keys ("timestamp");

-- Append-only: UPDATE, DELETE and TRUNCATE raise, except DELETE inside purge_events().
CREATE FUNCTION events_forbid_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('analytics.allow_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the events log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'raise_exception',
              HINT = 'rows leave only through purge_events() or drop_event_partitions_before()';
END;
$$;

CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_forbid_change();

-- TRUNCATE triggers do not reach partitions: ensure_event_partitions() adds one to each.
CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_forbid_change();

CREATE TRIGGER event_keys_append_only
    BEFORE UPDATE OR DELETE ON event_keys
    FOR EACH ROW EXECUTE FUNCTION events_forbid_change();

-- Wake listeners (the relay) when new events commit.
CREATE FUNCTION events_notify_appended() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('events_appended', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_appended
    AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_notify_appended();

-- Creates the day partitions that do not exist yet; safe to call from many processes.
CREATE FUNCTION ensure_event_partitions(days date[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    day date;
    partition_name text;
    created integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('analytics.events_partitions'));
    FOREACH day IN ARRAY days LOOP
        partition_name := 'events_' || to_char(day, 'YYYYMMDD');
        IF to_regclass(quote_ident(partition_name)) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
                partition_name,
                to_char(day, 'YYYY-MM-DD') || ' 00:00:00+00',
                to_char(day + 1, 'YYYY-MM-DD') || ' 00:00:00+00');
            EXECUTE format(
                'CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON %I '
                'FOR EACH STATEMENT EXECUTE FUNCTION events_forbid_change()',
                partition_name);
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END;
$$;

-- The explicit purge path (retention, erasure): deletes the given positions and their keys.
CREATE FUNCTION purge_events(positions bigint[])
RETURNS TABLE (id bigint, event_id uuid, snapshot_path varchar)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('analytics.allow_purge', 'on', true);
    RETURN QUERY
        WITH gone AS (
            DELETE FROM events e WHERE e.id = ANY(positions)
            RETURNING e.id, e.event_id, e.snapshot_path
        ), keys AS (
            DELETE FROM event_keys k USING gone WHERE k.event_id = gone.event_id
        )
        SELECT gone.id, gone.event_id, gone.snapshot_path FROM gone;
    PERFORM set_config('analytics.allow_purge', 'off', true);
END;
$$;

-- Retention by whole days: drops every day partition that ends on or before cutoff.
CREATE FUNCTION drop_event_partitions_before(cutoff date)
RETURNS TABLE (partition_name text, day date)
LANGUAGE plpgsql AS $$
DECLARE
    part record;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('analytics.events_partitions'));
    FOR part IN
        SELECT c.relname::text AS name, to_date(substr(c.relname, 8), 'YYYYMMDD') AS part_day
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'events'::regclass AND c.relname ~ '^events_[0-9]{8}$'
        ORDER BY 1
    LOOP
        IF part.part_day < cutoff THEN
            EXECUTE format('ALTER TABLE events DETACH PARTITION %I', part.name);
            EXECUTE format('DROP TABLE %I', part.name);
            PERFORM set_config('analytics.allow_purge', 'on', true);
            DELETE FROM event_keys k
            WHERE k."timestamp" >= part.part_day::timestamp AT TIME ZONE 'UTC'
              AND k."timestamp" < (part.part_day + 1)::timestamp AT TIME ZONE 'UTC';
            PERFORM set_config('analytics.allow_purge', 'off', true);
            partition_name := part.name;
            day := part.part_day;
            RETURN NEXT;
        END IF;
    END LOOP;
END;
$$;

SELECT ensure_event_partitions(
    ARRAY(SELECT generate_series(current_date - 1, current_date + 7, interval '1 day')::date));

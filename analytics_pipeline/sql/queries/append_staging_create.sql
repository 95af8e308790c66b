-- The session's staging table of EventLog.append, made once per connection; emptied by
-- append_staged() and at every commit (sql/migrations/0006_append_and_count_speed.sql).
CREATE TEMPORARY TABLE IF NOT EXISTS append_staging (
    ord           integer     NOT NULL,
    event_id      uuid        NOT NULL,
    event_type    text        NOT NULL,
    camera_id     text        NOT NULL,
    ts            timestamptz NOT NULL,
    frame_number  integer     NOT NULL,
    snapshot_path text,
    event_data    jsonb       NOT NULL
) ON COMMIT DELETE ROWS

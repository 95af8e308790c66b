-- Tables derived from the log by Dagster (assets/statistics.py). Unlike the log they are
-- replaced in place: a materialization of a day deletes and rewrites that day's rows.

CREATE TABLE daily_event_counts (
    day        date         NOT NULL,
    camera_id  varchar(100) NOT NULL,
    event_type varchar(50)  NOT NULL,
    events     integer      NOT NULL,
    PRIMARY KEY (day, camera_id, event_type)
);

CREATE TABLE daily_stats (
    day                 date        PRIMARY KEY,
    total_events        integer     NOT NULL,
    events_by_hour      jsonb       NOT NULL,  -- 24 counts, UTC hours 0..23
    object_classes      jsonb       NOT NULL,  -- {class: objects seen}
    distinct_plates     integer     NOT NULL,
    top_plates          jsonb       NOT NULL,  -- [{plate, reads}], most read first
    mean_dwell_seconds  double precision,      -- over tracking 'left' events
    computed_at         timestamptz NOT NULL DEFAULT now()
);

-- Crossings of counting lines per UTC day, camera, line and direction, derived from the log's
-- line_crossed events by daily_event_stats with the rest of a day's statistics (same
-- transaction: delete_daily_stats_range, then insert_daily_line_counts). Direction is a_to_b
-- or b_to_a, defined by the order of the line's two points (docs/events.md).

CREATE TABLE daily_line_counts (
    day        date         NOT NULL,
    camera_id  varchar(100) NOT NULL,
    line       varchar(64)  NOT NULL,
    direction  varchar(8)   NOT NULL CHECK (direction IN ('a_to_b', 'b_to_a')),
    crossings  integer      NOT NULL,
    PRIMARY KEY (day, camera_id, line, direction)
);

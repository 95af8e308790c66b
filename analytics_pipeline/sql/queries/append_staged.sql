-- Appends the batch just copied into append_staging; returns (event_id, id) of the rows
-- stored now. append_staged() is in sql/migrations/0006_append_and_count_speed.sql.
SELECT event_id, id FROM append_staged(%(batch_size)s)

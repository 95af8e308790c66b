-- Purges events and queues their snapshot paths in retention_pending_files, in one
-- transaction: a run killed before the files are gone leaves them for the next run to remove.
WITH gone AS (
    SELECT id, event_id, snapshot_path FROM purge_events(%(ids)s::bigint[])
), queued AS (
    INSERT INTO retention_pending_files (path)
    SELECT snapshot_path FROM gone WHERE snapshot_path IS NOT NULL
    ON CONFLICT DO NOTHING
)
SELECT id, snapshot_path FROM gone

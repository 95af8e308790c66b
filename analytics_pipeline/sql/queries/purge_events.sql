SELECT id, event_id, snapshot_path FROM purge_events(%(ids)s::bigint[])

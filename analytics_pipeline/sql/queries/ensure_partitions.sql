SELECT ensure_event_partitions(%(days)s::date[])

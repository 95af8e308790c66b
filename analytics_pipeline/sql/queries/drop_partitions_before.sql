SELECT partition_name, day FROM drop_event_partitions_before(%(cutoff)s)

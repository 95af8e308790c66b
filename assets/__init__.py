"""Dagster assets derived from the event log (statistics, thumbnails, retention, reports),
each with the job that runs it; their resources and partitions."""

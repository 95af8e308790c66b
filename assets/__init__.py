"""Dagster assets derived from the event log: statistics, thumbnails, retention, reports."""

"""Dagster sensors and schedules: they watch the log and the clock and start the jobs that
live beside their assets in ``assets/``."""

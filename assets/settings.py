"""The few settings the code location needs when it is defined, not when it runs.

Partitions and schedules are part of the definitions, so their start date and crons are read
at import: from the environment and ``.env`` only, with static defaults, never from the
database, and without loading (and validating) every other setting of the service. Resources
read the service's settings when Dagster builds them for a run (``assets/resources.py``).
"""

from __future__ import annotations

from datetime import date

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from analytics_pipeline.config import Settings

DEFAULT_STATS_START = date(2026, 1, 1)
"""The first statistics partition when STATS_START_DATE is not set."""


class LocationSettings(BaseSettings):
    """STATS_START_DATE, RETENTION_CRON and REPORT_CRON (same names as the service's)."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", case_sensitive=False, env_ignore_empty=True
    )

    stats_start_date: date | None = None
    retention_cron: str = Settings.model_fields["retention_cron"].default
    report_cron: str = Settings.model_fields["report_cron"].default

    @property
    def first_partition_day(self) -> date:
        return self.stats_start_date or DEFAULT_STATS_START

    @field_validator("retention_cron", "report_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError("must be a five-field cron expression, e.g. '0 3 * * *'")
        return value


LOCATION = LocationSettings()

"""Runs stored in PostgreSQL through dagster.yaml (dagster-postgres), as `dagster dev` does."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from dagster import DagsterInstance, materialize

from analytics_pipeline.config import Settings
from analytics_pipeline.dagster_instance import dagster_postgres_url, prepare_dagster_environment
from tests.conftest import drop_database


def test_materializations_are_stored_in_postgres(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assets.resources import EventLogResource
    from assets.statistics import daily_event_stats

    settings = Settings(_env_file=None, database_url=database_url)
    env = prepare_dagster_environment(settings, home=tmp_path / "home")
    assert env["DAGSTER_POSTGRES_URL"].startswith("postgresql+psycopg2://")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    dagster_db = dagster_postgres_url(settings).rsplit("/", 1)[1]
    try:
        with DagsterInstance.get() as instance:
            result = materialize(
                [daily_event_stats],
                partition_key="2026-06-01",
                resources={"event_log": EventLogResource(database_url=database_url)},
                instance=instance,
            )
            assert result.success
            assert len(instance.get_runs()) == 1
            assert instance.get_latest_materialization_event(daily_event_stats.key) is not None
        plain = env["DAGSTER_POSTGRES_URL"].replace("postgresql+psycopg2", "postgresql")
        with psycopg.connect(plain) as conn:
            assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    finally:
        drop_database(dagster_db)

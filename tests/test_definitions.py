"""The Dagster code location loads, as workspace.yaml names it."""

from __future__ import annotations

from pathlib import Path

import yaml
from dagster import AssetKey, DailyPartitionsDefinition, Definitions

ROOT = Path(__file__).resolve().parent.parent


def test_workspace_points_at_the_definitions() -> None:
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    target = workspace["load_from"][0]["python_file"]
    assert (ROOT / target["relative_path"]).is_file()
    instance = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    assert instance["telemetry"]["enabled"] is False
    assert instance["storage"]["postgres"]["postgres_url"] == {"env": "DAGSTER_POSTGRES_URL"}


def test_definitions_load_with_assets_checks_jobs_sensor_and_schedules() -> None:
    from definitions import defs

    Definitions.validate_loadable(defs)
    repository = defs.get_repository_def()
    keys = {key.to_user_string() for key in repository.asset_graph.get_all_asset_keys()}
    assert keys == {"daily_event_stats", "snapshot_thumbnails", "retention", "daily_report"}
    stats = repository.asset_graph.get(AssetKey("daily_event_stats"))
    assert isinstance(stats.partitions_def, DailyPartitionsDefinition)
    assert stats.partitions_def.get_first_partition_key() == "2026-01-01"
    assert {job.name for job in repository.get_all_jobs()} >= {
        "daily_stats_job",
        "thumbnails_job",
        "retention_job",
        "daily_report_job",
    }
    assert [s.name for s in repository.sensor_defs] == ["event_log_sensor"]
    crons = {s.name: s.cron_schedule for s in repository.schedule_defs}
    assert crons == {"retention_schedule": "0 3 * * *", "daily_report_schedule": "0 6 * * *"}

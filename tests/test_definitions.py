"""The Dagster code location loads, as workspace.yaml names it, with no side effect."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import yaml
from dagster import (
    AssetKey,
    DailyPartitionsDefinition,
    Definitions,
    IdentityPartitionMapping,
    MonthlyPartitionsDefinition,
    TimeWindowPartitionMapping,
    WeeklyPartitionsDefinition,
)
from dagster._core.definitions.backfill_policy import BackfillPolicyType

ROOT = Path(__file__).resolve().parent.parent


def test_workspace_points_at_the_definitions() -> None:
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    target = workspace["load_from"][0]["python_file"]
    assert (ROOT / target["relative_path"]).is_file()
    instance = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    assert instance["telemetry"]["enabled"] is False
    assert instance["storage"]["postgres"]["postgres_url"] == {"env": "DAGSTER_POSTGRES_URL"}
    assert instance["run_monitoring"]["enabled"] is True
    assert instance["run_launcher"]["class"] == "LocalRunLauncher"


def test_definitions_load_with_assets_checks_jobs_sensor_and_schedules() -> None:
    from definitions import defs

    Definitions.validate_loadable(defs)
    repository = defs.get_repository_def()
    keys = {key.to_user_string() for key in repository.asset_graph.get_all_asset_keys()}
    assert keys == {
        "daily_event_stats",
        "snapshot_thumbnails",
        "retention",
        "daily_report",
        "weekly_report",
        "monthly_report",
        "plate_reread",
    }
    stats = repository.asset_graph.get(AssetKey("daily_event_stats"))
    assert isinstance(stats.partitions_def, DailyPartitionsDefinition)
    assert stats.partitions_def.get_first_partition_key() == "2026-01-01"
    jobs = {job.name: job for job in repository.get_all_jobs()}
    assert set(jobs) >= {
        "daily_stats_job",
        "thumbnails_job",
        "retention_job",
        "daily_report_job",
        "weekly_report_job",
        "monthly_report_job",
        "plate_reread_job",
    }
    # Steps run in the run's process: stopping the run (or the CLI) stops the step.
    assert jobs["retention_job"].executor_def.name == "in_process"
    assert [s.name for s in repository.sensor_defs] == ["event_log_sensor"]
    crons = {s.name: s.cron_schedule for s in repository.schedule_defs}
    assert crons == {
        "retention_schedule": "0 3 * * *",
        "daily_report_schedule": "0 6 * * *",
        "weekly_report_schedule": "0 7 * * 1",
        "monthly_report_schedule": "15 7 1 * *",
    }
    assert set(repository.get_top_level_resources()) == {
        "event_log",
        "snapshots",
        "reports",
        "stream",
        "retention_policy",
    }


def test_partitioned_assets_run_a_range_as_one_run_and_reports_follow_their_days() -> None:
    from definitions import defs

    graph = defs.get_repository_def().asset_graph
    for name in ("daily_event_stats", "daily_report", "weekly_report", "monthly_report"):
        policy = graph.get(AssetKey(name)).backfill_policy
        assert policy is not None and policy.policy_type == BackfillPolicyType.SINGLE_RUN, name
    stats = AssetKey("daily_event_stats")
    daily = graph.get(AssetKey("daily_report"))
    assert daily.parent_keys == {stats}
    assert isinstance(graph.get_partition_mapping(daily.key, stats), IdentityPartitionMapping)
    weekly = graph.get(AssetKey("weekly_report"))
    assert isinstance(weekly.partitions_def, WeeklyPartitionsDefinition)
    assert weekly.partitions_def.get_first_partition_key() == "2026-01-05"  # first Monday
    assert isinstance(graph.get_partition_mapping(weekly.key, stats), TimeWindowPartitionMapping)
    monthly = graph.get(AssetKey("monthly_report"))
    assert isinstance(monthly.partitions_def, MonthlyPartitionsDefinition)
    # A week's report maps to its seven days of statistics.
    mapping = graph.get_partition_mapping(weekly.key, stats)
    mapped = mapping.get_upstream_mapped_partitions_result_for_partitions(
        weekly.partitions_def.subset_with_partition_keys(["2026-11-09"]),
        weekly.partitions_def,
        graph.get(stats).partitions_def,
    )
    days = sorted(mapped.partitions_subset.get_partition_keys())
    assert days == [f"2026-11-{d:02d}" for d in range(9, 16)]


def test_jobs_live_beside_the_assets_they_run() -> None:
    from assets.reports import daily_report_job
    from assets.retention import retention_job
    from assets.statistics import daily_stats_job
    from assets.thumbnails import thumbnails_job

    assert importlib.util.find_spec("sensors.jobs") is None
    names = {daily_report_job.name, retention_job.name, daily_stats_job.name, thumbnails_job.name}
    assert len(names) == 4
    from assets.reports import monthly_report_job, weekly_report_job

    assert {weekly_report_job.name, monthly_report_job.name} == {
        "weekly_report_job",
        "monthly_report_job",
    }


PROBE = """
import json, time
began = time.perf_counter()
from definitions import defs
seconds = time.perf_counter() - began
repository = defs.get_repository_def()
stats = repository.asset_graph.get(__import__("dagster").AssetKey("daily_event_stats"))
print(json.dumps({
    "seconds": seconds,
    "first_partition": stats.partitions_def.get_first_partition_key(),
    "crons": sorted(s.cron_schedule for s in repository.schedule_defs),
    "resources": {k: r.model_dump() for k, r in defs.resources.items()},
}))
"""


def import_definitions(**env: str) -> dict:
    """Import definitions.py in a fresh process with PostgreSQL and Redis at a port that
    records every connection made to it (none may be)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    connections: list[object] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connections.append(connection)
            connection.close()

    threading.Thread(target=accept, daemon=True).start()
    environment = {k: v for k, v in os.environ.items() if k != "STATS_START_DATE"}
    environment |= {
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/analytics",
        "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        **env,
    }
    try:
        done = subprocess.run(
            [sys.executable, "-c", PROBE],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    finally:
        listener.close()
    assert connections == [], "importing the definitions connected to PostgreSQL or Redis"
    assert "Warning" not in done.stderr, done.stderr  # nothing for a user to decode
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_definitions_touches_no_database() -> None:
    plain = import_definitions()
    print(f"\nimport definitions, PostgreSQL unreachable: {plain['seconds']:.2f} s")
    assert plain["first_partition"] == "2026-01-01"  # the static default
    assert plain["crons"] == ["0 3 * * *", "0 6 * * *", "0 7 * * 1", "15 7 1 * *"]
    assert plain["resources"]["event_log"] == {"database_url": None}  # read at run time
    chosen = import_definitions(
        STATS_START_DATE="2026-02-03", RETENTION_CRON="30 2 * * *", REPORT_CRON="0 7 * * 1"
    )
    assert chosen["first_partition"] == "2026-02-03"
    assert chosen["crons"] == ["0 7 * * 1", "0 7 * * 1", "15 7 1 * *", "30 2 * * *"]
    assert chosen["resources"] == plain["resources"]

"""The backfill command of the README's Dagster section works as written: one run through the
CLI computes every day of the range, with no warning printed."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

from analytics_pipeline.config import Settings
from analytics_pipeline.dagster_instance import dagster_postgres_url
from analytics_pipeline.daily_stats import read_daily_stats
from tests.conftest import drop_database

ROOT = Path(__file__).resolve().parent.parent


def readme_backfill_command() -> str:
    """The `--partition-range` command of the README's Dagster section, as written."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Dagster: everything derived from the log", 1)[1].split("\n## ")[0]
    [command] = [
        line.strip()
        for block in re.findall(r"```bash\n(.*?)```", section, re.S)
        for line in block.splitlines()
        if "--partition-range" in line
    ]
    return command


def test_the_readme_backfill_command_runs_the_range_in_one_run(
    database_url: str, event_log, tmp_path: Path
) -> None:
    command = readme_backfill_command()
    first, last = re.search(r"--partition-range (\S+)\.\.\.(\S+)", command).groups()
    days = [date.fromisoformat(first) + timedelta(days=n) for n in range(5)]
    assert days[-1] == date.fromisoformat(last)
    from analytics_pipeline.events import NewEvent

    event_log.append(
        [
            NewEvent(
                camera_id="gate",
                event_type="motion",
                frame_number=n,
                timestamp=datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
                + timedelta(minutes=n),
            )
            for i, day in enumerate(days)
            for n in range(i + 1)
        ]
    )
    words = shlex.split(command)
    assert words[:5] == ["analytics-pipeline", "dagster", "asset", "materialize", "--select"]
    cli = str(Path(sys.executable).parent / "analytics-pipeline")
    settings = Settings(_env_file=None, database_url=database_url)
    try:
        done = subprocess.run(
            [cli, "--env-file", str(tmp_path / "none.env"), *words[1:]],
            cwd=ROOT,
            env=os.environ | {"DATABASE_URL": database_url, "REPORTS_DIR": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        plain = dagster_postgres_url(settings).replace("postgresql+psycopg2", "postgresql")
        with psycopg.connect(plain) as conn:
            assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    finally:
        drop_database(dagster_postgres_url(settings).rsplit("/", 1)[1])
    totals = {row["day"]: row["total_events"] for row in read_daily_stats(event_log.pool)}
    assert totals == {day: i + 1 for i, day in enumerate(days)}
    assert "Warning" not in done.stderr and "superseded" not in done.stderr

"""Runs stored in PostgreSQL through dagster.yaml (dagster-postgres), as `dagster dev` does;
a stopped materialize stops its step; run monitoring marks a killed run failed."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from dagster import DagsterInstance, DagsterRunStatus, materialize
from dagster._daemon.monitoring.run_monitoring import monitor_started_run

from analytics_pipeline.config import Settings
from analytics_pipeline.dagster_instance import (
    LocalRunLauncher,
    dagster_postgres_url,
    prepare_dagster_environment,
)
from analytics_pipeline.retention import PAUSE_AT_ENV, PAUSED_FILE_ENV
from tests.conftest import drop_database

ROOT = Path(__file__).resolve().parent.parent


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


@pytest.fixture
def dagster_home(database_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of `analytics-pipeline dagster ...` on this test's database and
    folders, with an orphan file old enough for retention to sweep."""
    settings = Settings(_env_file=None, database_url=database_url)
    env = prepare_dagster_environment(settings, home=tmp_path / "home")
    orphan = tmp_path / "snapshots" / "lost" / "orphan.png"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"lost")
    os.utime(orphan, (time.time() - 7200, time.time() - 7200))
    env |= {
        "DATABASE_URL": database_url,
        "SNAPSHOTS_DIR": str(tmp_path / "snapshots"),
        "THUMBNAILS_DIR": str(tmp_path / "thumbnails"),
        "REPORTS_DIR": str(tmp_path / "reports"),
    }
    yield env
    drop_database(dagster_postgres_url(settings).rsplit("/", 1)[1])


def materialize_retention_until_it_sweeps(env: dict[str, str], tmp_path: Path) -> subprocess.Popen:
    """`dagster asset materialize --select retention`, paused in its step; its pid."""
    paused = tmp_path / "paused"
    dagster = str(Path(sys.executable).parent / "dagster")
    process = subprocess.Popen(
        [dagster, "asset", "materialize", "--select", "retention", "-f", "definitions.py"],
        cwd=ROOT,
        env=os.environ | env | {PAUSE_AT_ENV: "sweep:1", PAUSED_FILE_ENV: str(paused)},
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not paused.exists():
        assert process.poll() is None, "materialize ended before its step paused"
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return process


def group_members(group: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == group:
                    members.append(int(entry.name))
            except ProcessLookupError:
                pass
    return members


def the_run(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> tuple:
    for name in ("DAGSTER_HOME", "DAGSTER_POSTGRES_URL"):
        monkeypatch.setenv(name, env[name])
    instance = DagsterInstance.get()
    [record] = instance.get_run_records()
    return instance, record


def test_a_stopped_materialize_stops_its_step(
    dagster_home: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    process = materialize_retention_until_it_sweeps(dagster_home, tmp_path)
    process.send_signal(signal.SIGTERM)  # the CLI only, as a user's Ctrl-C or kill would
    process.wait(60)
    assert group_members(process.pid) == []  # no step left running in a child process
    instance, record = the_run(dagster_home, monkeypatch)
    with instance:
        assert record.dagster_run.status == DagsterRunStatus.FAILURE


def test_run_monitoring_marks_a_killed_run_failed(
    dagster_home: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    process = materialize_retention_until_it_sweeps(dagster_home, tmp_path)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(60)
    instance, record = the_run(dagster_home, monkeypatch)
    with instance:
        assert instance.run_monitoring_enabled
        assert isinstance(instance.run_launcher, LocalRunLauncher)
        assert record.dagster_run.status == DagsterRunStatus.STARTED  # what kill -9 leaves
        monitor_started_run(instance, None, record, logging.getLogger(__name__))  # one tick
        run = instance.get_run_by_id(record.dagster_run.run_id)
        assert run.status == DagsterRunStatus.FAILURE


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


def ignore_sigint() -> None:
    """What bash does to a command started with `&` in a script (no job control)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("sigint_ignored", [False, True], ids=["terminal", "started-with-&"])
def test_dagster_dev_serves_the_ui_and_stops_on_sigint_without_noise(
    database_url: str, tmp_path: Path, sigint_ignored: bool
) -> None:
    """`analytics-pipeline dagster-dev` on a free port: the UI answers, SIGINT stops the UI
    and the daemon within 20 s, with no traceback and no warning to decode; also when
    started with SIGINT ignored, as `&` in a script does."""
    port = free_port()
    settings = Settings(_env_file=None, database_url=database_url)
    cli = str(Path(sys.executable).parent / "analytics-pipeline")
    process = subprocess.Popen(
        [cli, "--env-file", str(tmp_path / "none.env"), "dagster-dev", "-p", str(port)],
        cwd=ROOT,
        env=os.environ | {"DATABASE_URL": database_url, "REPORTS_DIR": str(tmp_path)},
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ignore_sigint if sigint_ignored else None,
    )
    try:
        deadline = time.monotonic() + 180
        while not answers(port):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the UI never answered"
            time.sleep(0.5)
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in a terminal signals the group
        began = time.monotonic()
        out, err = process.communicate(timeout=60)
        stopped_in = time.monotonic() - began
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
        drop_database(dagster_postgres_url(settings).rsplit("/", 1)[1])
    print(f"\ndagster-dev stopped {stopped_in:.1f} s after SIGINT")
    assert process.returncode == 0, err
    assert stopped_in < 20
    for text in (out, err):
        assert "Traceback" not in text
        assert "Warning" not in text and "superseded" not in text
        assert "will not be used" not in text
    assert not answers(port)

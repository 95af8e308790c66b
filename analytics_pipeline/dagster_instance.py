"""Where Dagster keeps its runs (a database of its own beside the log, and DAGSTER_HOME), and
the run launcher that lets run monitoring mark a killed run failed."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from dagster import DagsterEventType, DagsterInstance, DagsterRun, DefaultRunLauncher
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus

from analytics_pipeline.config import Settings
from analytics_pipeline.db import create_database_if_missing

REPO_ROOT = Path(__file__).resolve().parent.parent


def dagster_postgres_url(settings: Settings) -> str:
    """DATABASE_URL's server, database ``<name>_dagster``, through psycopg2.

    psycopg2 explicitly: SQLAlchemy 2.1 defaults to psycopg 3, with which dagster-postgres
    fails on its first event write (DESIGN.md, traps).
    """
    parts = urlsplit(settings.database_url)
    name = parts.path.lstrip("/") or "analytics"
    return urlunsplit(parts._replace(scheme="postgresql+psycopg2", path=f"/{name}_dagster"))


def prepare_dagster_environment(
    settings: Settings, home: Path = REPO_ROOT / ".dagster_home"
) -> dict[str, str]:
    """Create the Dagster database and DAGSTER_HOME (holding a link to ``dagster.yaml``);
    return the environment variables ``dagster`` commands need."""
    url = dagster_postgres_url(settings)
    create_database_if_missing(url.replace("postgresql+psycopg2://", "postgresql://", 1))
    home.mkdir(parents=True, exist_ok=True)
    link = home / "dagster.yaml"
    if not link.exists():
        link.symlink_to(REPO_ROOT / "dagster.yaml")
    return {"DAGSTER_HOME": str(home), "DAGSTER_POSTGRES_URL": url}


def _process_alive(pid: int, since: float) -> bool:
    """Whether process ``pid`` runs and started no later than ``since`` (a pid reused by a
    newer process is not the run's); a zombie is not alive."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration, ValueError):
        return True  # no /proc: trust os.kill
    fields = stat.rpartition(")")[2].split()
    started = boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    return fields[0] != "Z" and started <= since + 2


def run_process(instance: DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """(process id, when it said so) of the newest engine event of a run that names its
    process: the run worker's, or the ``dagster asset materialize`` process's."""
    found = None
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        data = entry.dagster_event.engine_event_data if entry.dagster_event else None
        pid = data.metadata.get("pid") if data else None
        if pid is not None:
            found = (int(pid.value), entry.timestamp)
    return found


class LocalRunLauncher(DefaultRunLauncher):
    """Dagster's default launcher, plus the health check that run monitoring needs.

    Runs here execute on this machine (``dagster dev``, ``dagster asset materialize``); a
    run's engine events name its process. A run whose process is gone (killed, machine
    restarted) is reported FAILED and run monitoring marks it failed, so it can be retried;
    a run that has named no process yet counts as running (the start timeout covers it).
    """

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        process = run_process(self._instance, run.run_id)
        if process is None:
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no process named yet")
        pid, since = process
        if _process_alive(pid, since):
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"process {pid} runs")
        return CheckRunHealthResult(WorkerStatus.FAILED, f"the run's process {pid} is gone")

"""Where Dagster keeps its runs (a database of its own beside the log, and DAGSTER_HOME), the
run launcher that lets run monitoring mark a killed run failed, and the local deployment that
``analytics-pipeline dagster-dev`` runs (the UI and the daemon, stopped cleanly by Ctrl-C)."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit, urlunsplit

from dagster import DagsterEventType, DagsterInstance, DagsterRun, DefaultRunLauncher
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus

from analytics_pipeline.config import Settings
from analytics_pipeline.db import create_database_if_missing

REPO_ROOT = Path(__file__).resolve().parent.parent
STOP_TIMEOUT_S = 30
"""How long the UI and the daemon get to stop before they are killed."""
log = logging.getLogger(__name__)


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


def _services(host: str, port: int, log_level: str) -> dict[str, list[str]]:
    """The two processes of a local deployment, as `dagster dev` starts them, on
    workspace.yaml: the UI (dagster-webserver) and the daemon (schedules, sensors, backfills,
    run monitoring)."""
    bin_dir = Path(sys.executable).parent
    return {
        "dagster-webserver": [
            str(bin_dir / "dagster-webserver"),
            *("-w", "workspace.yaml", "-h", host, "-p", str(port)),
            *("--dagster-log-level", log_level, "--log-level", "warning"),
        ],
        "dagster-daemon": [
            str(bin_dir / "dagster-daemon"),
            *("run", "-w", "workspace.yaml", "--log-level", log_level),
        ],
    }


def serve_dagster(env: dict[str, str], host: str, port: int, log_level: str = "info") -> int:
    """Run the Dagster UI and daemon from the repository root until SIGINT or SIGTERM (Ctrl-C,
    even when started in the background), then stop both; the exit status.

    Each runs in a session of its own and is stopped through the shutdown pipe that `dagster
    dev` uses (and stops by itself if this process dies); a second signal kills them at once.
    The handlers are set before the children start, so they inherit default signal handling
    even where this process was started with SIGINT ignored (``&`` in a script)."""
    stop = threading.Event()
    children: dict[str, subprocess.Popen] = {}

    def handle(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            for child in children.values():
                _kill_group(child)
            os._exit(128 + signum)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handle)
    pipes: dict[str, int] = {}
    for name, command in _services(host, port, log_level).items():
        read_end, pipes[name] = os.pipe()
        children[name] = subprocess.Popen(
            [*command, "--shutdown-pipe", str(read_end)],
            cwd=REPO_ROOT,
            env=os.environ | env,
            pass_fds=[read_end],
            start_new_session=True,
        )
        os.close(read_end)
    log.info("starting the Dagster UI (http://%s:%s) and daemon; Ctrl-C stops both", host, port)
    status = 0
    while not stop.wait(0.5):
        gone = [(name, c.returncode) for name, c in children.items() if c.poll() is not None]
        if gone:
            log.error("%s stopped (exit %s): stopping the rest", *gone[0])
            status = 1
            break
    log.info("stopping the Dagster UI and daemon")
    for write_end in pipes.values():
        with contextlib.suppress(OSError):
            os.write(write_end, b"SHUTDOWN\n")
            os.close(write_end)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for name, child in children.items():
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %s s: killed", name, STOP_TIMEOUT_S)
            _kill_group(child)
    log.info("Dagster stopped")
    return status


def _kill_group(child: subprocess.Popen) -> None:
    """Kill a child and what it started (its own session); reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()

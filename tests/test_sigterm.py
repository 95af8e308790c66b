"""SIGTERM, what a platform sends, under load: every event a command accepted is stored once.

`events append` stores the lines it read and says up to which line; a second run with the same
input stores the rest and nothing twice. `analyze` finishes the frame in hand and stores what it
buffered: the events its summary counts are the events in the log."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from analytics_pipeline.analyzer.synthetic import demo_street
from tests.conftest import make_events
from tests.test_cli import CLI

EVENTS = 60_000


def _count(database_url: str, sql: str = "SELECT count(*) FROM events") -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute(sql).fetchone()[0]


def _wait_for_rows(database_url: str, process: subprocess.Popen, at_least: int = 1) -> None:
    deadline = time.monotonic() + 120
    while _count(database_url) < at_least:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "nothing was stored"
        time.sleep(0.05)


@pytest.fixture
def env(database_url: str, stream_key: str, tmp_path: Path) -> dict[str, str]:
    return os.environ | {
        "DATABASE_URL": database_url,
        "REDIS_STREAM": stream_key,
        "SNAPSHOTS_DIR": str(tmp_path / "snapshots"),
    }


def test_sigterm_during_appends_loses_and_duplicates_nothing(
    database_url: str, env: dict[str, str], tmp_path: Path
) -> None:
    lines = tmp_path / "events.jsonl"
    lines.write_text("".join(e.model_dump_json() + "\n" for e in make_events(EVENTS)))
    command = [CLI, "--env-file", str(tmp_path / "none.env"), "events", "append", str(lines)]
    first = subprocess.Popen(
        [*command, "--batch-size", "200"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for_rows(database_url, first)
    first.send_signal(signal.SIGTERM)
    out, err = first.communicate(timeout=60)
    assert first.returncode == 128 + signal.SIGTERM, err
    stored = int(re.search(r"stored (\d+), already stored 0, rejected 0", out).group(1))
    assert 0 < stored < EVENTS, "the signal came after the end: raise EVENTS"
    assert _count(database_url) == stored  # what it says it stored is what is there
    assert re.search(r"stopped by SIGTERM after line \d+", err)
    assert "Traceback" not in err

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert f"stored {EVENTS - stored}, already stored {stored}, rejected 0" in second.stdout
    assert _count(database_url) == EVENTS
    assert _count(database_url, "SELECT count(DISTINCT event_id) FROM events") == EVENTS


def test_sigterm_during_analysis_stores_every_event_it_counted(
    database_url: str, env: dict[str, str], tmp_path: Path
) -> None:
    video = demo_street().write(tmp_path / "street.avi")
    analyze = subprocess.Popen(
        [
            CLI,
            "--env-file",
            str(tmp_path / "none.env"),
            "analyze",
            "--source",
            str(video),
            "--camera-id",
            "street",
            "--realtime",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for_rows(database_url, analyze, at_least=2)
    analyze.send_signal(signal.SIGTERM)
    out, err = analyze.communicate(timeout=60)
    assert analyze.returncode == 0, err
    assert "Traceback" not in err
    summary = re.search(r"^street: (.*?)(;|$)", out + err, re.M)
    assert summary, out + err
    counted = Counter({kind: int(n) for kind, n in re.findall(r"(\w+)=(\d+)", summary.group(1))})
    with psycopg.connect(database_url) as conn:
        stored = Counter(
            dict(conn.execute("SELECT event_type, count(*) FROM events GROUP BY 1").fetchall())
        )
    assert stored == counted
    assert sum(stored.values()) >= 2
    frames = int(re.search(r"frames analysed (\d+)", out + err).group(1))
    assert frames < 5 * 30  # it stopped mid-video: 30 s at the default 5 fps

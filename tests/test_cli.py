"""The installed ``analytics-pipeline`` command, run as a user would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analytics_pipeline.db import connect, query
from analytics_pipeline.eventlog import EventFilter
from tests.conftest import REDIS_URL

CLI = shutil.which("analytics-pipeline") or str(Path(sys.executable).parent / "analytics-pipeline")
COMMANDS = [
    [],
    ["db"],
    ["db", "migrate"],
    ["relay"],
    ["cameras"],
    ["cameras", "add"],
    ["cameras", "list"],
    ["cameras", "remove"],
    ["events"],
    ["events", "append"],
    ["events", "list"],
    ["events", "tail"],
    ["demo"],
    ["analyze"],
    ["serve"],
    ["dagster-dev"],
    ["dagster"],
    ["graphql-schema"],
    ["webhooks"],
    ["webhooks", "add"],
    ["webhooks", "list"],
    ["webhooks", "remove"],
    ["webhooks", "failures"],
    ["webhooks", "retry"],
    ["plates"],
    ["plates", "watch"],
    ["plates", "unwatch"],
    ["plates", "list"],
    ["deliver"],
]


@pytest.fixture
def run(database_url: str, stream_key: str, tmp_path: Path):
    env = os.environ | {
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "REDIS_STREAM": stream_key,
        "SNAPSHOTS_DIR": str(tmp_path / "snapshots"),
    }

    def invoke(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [CLI, "--env-file", str(tmp_path / "none.env"), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=600,  # the demo analyses 80 s of real footage
        )

    return invoke


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "main")
def test_every_command_has_help(command: list[str]) -> None:
    result = subprocess.run([CLI, *command, "--help"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def lines(*events: dict) -> str:
    return "\n".join(json.dumps(e) for e in events) + "\n"


GOOD = {
    "event_type": "motion",
    "camera_id": "cam-1",
    "timestamp": "2026-02-01T10:00:00Z",
    "frame_number": 3,
    "event_data": {"area_percent": 4.5},
}


def test_append_reports_bad_lines_and_stores_good_ones(run) -> None:
    text = (
        lines(GOOD | {"event_id": "7d0b8a36-3a5c-4f38-8b1e-1f7e8f1b0c11"})
        + "this is not json\n"
        + lines({"event_type": "motion", "camera_id": "../etc", "timestamp": "x"})
        + lines(GOOD | {"event_id": "2f7e5a80-8d47-4b55-b4c3-3b1c8d3c9a22", "camera_id": "cam-2"})
    )
    result = run("events", "append", stdin=text)
    assert result.returncode == 1
    assert "line 2:" in result.stderr and "line 3:" in result.stderr
    assert "camera_id" in result.stderr and "timestamp" in result.stderr
    assert "stored 2, already stored 0, rejected 2" in result.stdout
    again = run("events", "append", stdin=text)
    assert "stored 0, already stored 2, rejected 2" in again.stdout
    listed = run("events", "list", "--json")
    assert listed.returncode == 0
    stored = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [e["camera_id"] for e in stored] == ["cam-2", "cam-1"]
    assert stored[1]["event_data"] == {"area_percent": 4.5}


def test_append_from_a_file_and_list_with_filters(run, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(
        lines(GOOD, GOOD | {"event_type": "anpr"}, GOOD | {"timestamp": "2026-02-02T00:00:00Z"})
    )
    assert run("events", "append", str(path)).returncode == 0
    anpr = run("events", "list", "--event-type", "anpr", "--json").stdout.splitlines()
    assert [json.loads(x)["event_type"] for x in anpr] == ["anpr"]
    day = run("events", "list", "--start", "2026-02-01", "--end", "2026-02-02", "--json")
    assert len(day.stdout.splitlines()) == 2


def test_relay_once_then_tail(run) -> None:
    run("events", "append", stdin=lines(GOOD, GOOD | {"frame_number": 4}))
    published = run("relay", "--once")
    assert published.returncode == 0, published.stderr
    assert "published 2 event(s)" in published.stdout
    tail = run("events", "tail", "--from-start", "--count", "2")
    messages = [json.loads(line) for line in tail.stdout.splitlines()]
    assert [m["frame_number"] for m in messages] == ["3", "4"]
    assert {m["event_type"] for m in messages} == {"motion"}


def test_cameras_add_list_remove(run) -> None:
    added = run(
        "cameras", "add", "gate", "--source", "rtsp://192.0.2.1/s", "--settings", '{"fps": 5}'
    )
    assert added.returncode == 0, added.stderr
    listed = [json.loads(x) for x in run("cameras", "list", "--json").stdout.splitlines()]
    assert [(c["id"], c["settings"]) for c in listed] == [("gate", {"fps": 5})]
    assert run("cameras", "add", "bad/id", "--source", "x").returncode == 2
    assert run("cameras", "remove", "gate").returncode == 0
    missing = run("cameras", "remove", "gate")
    assert missing.returncode == 1 and "no camera 'gate'" in missing.stderr


def test_cameras_cli_never_prints_credentials(run) -> None:
    source = "rtsp://admin:hunter2@192.0.2.1/stream1?token=s3cret"
    added = run("cameras", "add", "gate", "--source", source)
    assert added.returncode == 0, added.stderr
    shown = added.stdout + run("cameras", "list").stdout + run("cameras", "list", "--json").stdout
    assert "hunter2" not in shown and "s3cret" not in shown
    assert "rtsp://admin:***@192.0.2.1/stream1" in shown


def test_demo_shows_all_four_event_types_with_snapshots(
    run, tmp_path: Path, database_url: str
) -> None:
    result = run("demo")
    assert result.returncode == 0, result.stderr
    street = next(line for line in result.stdout.splitlines() if line.startswith("demo-street:"))
    for kind in ("anpr=", "detection=", "motion=", "tracking=", "line_crossed=", "clip_ready="):
        assert kind in street
    assert "plates read: " in result.stdout
    assert len(list((tmp_path / "snapshots" / "demo-street").rglob("*.png"))) >= 8
    # The street's counting line: cars cross it one way, a person the other; each has a clip.
    clips = list((tmp_path / "snapshots" / "demo-street").rglob("clips/*.mp4"))
    assert clips and all(clip.read_bytes()[4:8] == b"ftyp" for clip in clips)
    with connect(database_url) as conn:
        params = EventFilter(camera_ids=["demo-street"]).params()
        rows = conn.execute(query("line_counts"), params).fetchall()
    directions = {row["direction"]: row["crossings"] for row in rows if row["line"] == "gate"}
    assert directions.get("a_to_b", 0) >= 1 and directions.get("b_to_a", 0) >= 1


def test_bad_configuration_exits_2_naming_the_variable(run, tmp_path: Path) -> None:
    env_file = tmp_path / "bad.env"
    env_file.write_text("REDIS_STREAM_MAXLEN=many\n")
    result = subprocess.run(
        [CLI, "--env-file", str(env_file), "events", "list"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "REDIS_STREAM_MAXLEN" in result.stderr


def test_unreachable_database_exits_3(tmp_path: Path) -> None:
    env = os.environ | {"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere"}
    result = subprocess.run(
        [CLI, "db", "migrate"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
    )
    assert result.returncode == 3
    assert "does not answer" in result.stderr

"""``analyze --source PATH --camera-id ID --settings JSON``: the ad-hoc camera's settings are
validated as ``cameras add`` validates them, and stored with the camera."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analytics_pipeline.analyzer.synthetic import StreetVideo
from tests.conftest import REDIS_URL

CLI = str(Path(sys.executable).parent / "analytics-pipeline")


@pytest.fixture
def run(database_url: str, stream_key: str, tmp_path: Path):
    env = os.environ | {
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "REDIS_STREAM": stream_key,
        "SNAPSHOTS_DIR": str(tmp_path / "snapshots"),
    }

    def invoke(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [CLI, "--env-file", str(tmp_path / "none.env"), *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=300,
        )

    return invoke


def cameras(run) -> list[dict]:
    listed = run("cameras", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    return [json.loads(line) for line in listed.stdout.splitlines()]


def test_bad_settings_are_refused_before_anything_runs(run, tmp_path: Path) -> None:
    video = StreetVideo(frames=5).write(tmp_path / "street.avi")
    line = {"name": "gate", "points": [[0.5, 1.0]]}  # one point
    refused = run(
        "analyze", "--source", str(video), "--camera-id", "adhoc",
        "--settings", json.dumps({"lines": [line]}),
    )  # fmt: skip
    assert refused.returncode == 2
    assert "a line needs 2 distinct points" in refused.stderr
    not_json = run("analyze", "--source", str(video), "--camera-id", "adhoc", "--settings", "{")
    assert not_json.returncode == 2 and "Invalid value" in not_json.stderr
    alone = run("analyze", "--settings", "{}")
    assert alone.returncode == 2 and "--settings goes with --source" in alone.stderr
    assert cameras(run) == []


def test_good_settings_are_stored_with_the_camera(run, tmp_path: Path) -> None:
    video = StreetVideo(frames=5).write(tmp_path / "street.avi")
    settings = {"fps": 2, "lines": [{"name": "gate", "points": [[0.5, 1.0], [0.5, 0.45]]}]}
    result = run(
        "analyze", "--source", str(video), "--camera-id", "adhoc",
        "--settings", json.dumps(settings),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (camera,) = cameras(run)
    assert camera["id"] == "adhoc" and camera["settings"] == settings

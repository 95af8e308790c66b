"""An API app on the test's own database, stream key and snapshot folder."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from starlette.testclient import TestClient

from analytics_pipeline.api.app import create_app
from analytics_pipeline.config import Settings
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.events import NewEvent
from analytics_pipeline.snapshots import SnapshotStore
from tests.conftest import API_KEY, REDIS_URL, free_port

WRITE_HEADERS = {"Authorization": f"Bearer {API_KEY}"}
T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def make_client(settings: Settings) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def build(**overrides: Any) -> TestClient:
        client = TestClient(
            create_app(settings.model_copy(update=overrides)), raise_server_exceptions=False
        )
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


@pytest.fixture
def snapshot_store(settings: Settings) -> SnapshotStore:
    return SnapshotStore.from_settings(settings)


@pytest.fixture
def seed(event_log: EventLog, snapshot_store: SnapshotStore) -> Callable[..., list[int]]:
    """Append events, each with a real snapshot file unless ``snapshot=False``."""

    def append(*specs: dict[str, Any], snapshot: bool = True) -> list[int]:
        events = []
        for i, spec in enumerate(specs):
            spec = {
                "camera_id": "cam-a",
                "event_type": "motion",
                "timestamp": T0 + timedelta(minutes=i),
                "frame_number": i,
            } | spec
            if snapshot:
                frame = np.full((360, 640, 3), 40 + i % 200, np.uint8)
                spec["snapshot_path"] = snapshot_store.write(
                    spec["camera_id"], spec["event_type"], spec["timestamp"], frame
                )
            events.append(NewEvent(**spec))
        return event_log.append(events)

    return append


def gql(
    client: TestClient, query: str, variables: dict | None = None, headers: dict | None = None
) -> dict:
    """POST a GraphQL operation; returns the response body (asserting HTTP 200)."""
    response = client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers or {}
    )
    assert response.status_code == 200, response.text
    return response.json()


class RunningServer:
    """The API under a real uvicorn, in a process of its own (see run_server.py)."""

    def __init__(self, process: subprocess.Popen, url: str) -> None:
        self.process = process
        self.url = url
        self.port = int(url.rsplit(":", 1)[1])

    def rss_bytes(self) -> int:
        """The server process's resident memory."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(line.split()[1]) * 1024


def server_env(
    database_url: str, stream_key: str, tmp_path: Path, **overrides: str
) -> dict[str, str]:
    """The environment of an API server process on this test's database, stream and folders."""
    return (
        os.environ
        | {
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "REDIS_STREAM": stream_key,
            "SNAPSHOTS_DIR": str(tmp_path / "snapshots"),
            "THUMBNAILS_DIR": str(tmp_path / "thumbnails"),
            "REPORTS_DIR": str(tmp_path / "reports"),
            "API_KEYS": API_KEY,
            "LOG_LEVEL": "WARNING",
        }
        | overrides
    )


@pytest.fixture
def real_server(database_url: str, stream_key: str, tmp_path: Path) -> Iterator[RunningServer]:
    """``serve`` on a free loopback port, on this test's database and stream."""
    port = free_port()
    env = server_env(database_url, stream_key, tmp_path, HEADER_SECONDS="1")
    script = Path(__file__).with_name("run_server.py")
    process = subprocess.Popen([sys.executable, str(script), str(port)], env=env, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise RuntimeError("the API server did not start")
        yield RunningServer(process, url)
    finally:
        process.terminate()
        process.wait(15)

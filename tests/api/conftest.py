"""An API app on the test's own database, stream key and snapshot folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from analytics_pipeline.api.app import create_app
from analytics_pipeline.config import Settings
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.events import NewEvent
from analytics_pipeline.snapshots import SnapshotStore
from tests.conftest import API_KEY

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

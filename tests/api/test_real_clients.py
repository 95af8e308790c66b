"""Real third-party GraphQL clients against a real API server (issue 15): Apollo Client and
the graphql-ws client from npm, run in Node (tests/clients, pinned by its package-lock.json,
installed by scripts/setup.sh with ``npm ci``)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from analytics_pipeline.api.gql.relay import to_global_id
from analytics_pipeline.eventlog import EventLog
from tests.api.conftest import T0, WRITE_HEADERS, RunningServer, server_env
from tests.api.test_graphql_ws import relay
from tests.conftest import API_KEY, free_port

CLIENTS = Path(__file__).parents[1] / "clients"


def node() -> str:
    found = shutil.which("node")
    if not found or not (CLIENTS / "node_modules" / "graphql-ws").is_dir():
        pytest.fail("Node or tests/clients/node_modules is missing: run scripts/setup.sh")
    return found


def start(database_url: str, stream_key: str, tmp_path: Path, **env: str) -> RunningServer:
    port = free_port()
    script = Path(__file__).with_name("run_server.py")
    process = subprocess.Popen(
        [sys.executable, str(script), str(port)],
        env=server_env(database_url, stream_key, tmp_path, **env),
        cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return RunningServer(process, url)
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the API server did not start")


@pytest.fixture
def keyed_server(database_url: str, stream_key: str, tmp_path: Path) -> Iterator[RunningServer]:
    """A server whose reads need the key too."""
    server = start(database_url, stream_key, tmp_path, API_READS_NEED_KEY="true")
    yield server
    server.process.terminate()
    server.process.wait(15)


def seed_events(event_log: EventLog, count: int) -> list[int]:
    from datetime import timedelta

    from analytics_pipeline.events import NewEvent

    return event_log.append(
        [
            NewEvent(
                camera_id="gate",
                event_type="motion",
                timestamp=T0 + timedelta(minutes=i),
                frame_number=i,
            )
            for i in range(count)
        ]
    )


def test_apollo_client_pages_refetches_and_mutates(real_server, event_log) -> None:
    positions = seed_events(event_log, 5)
    httpx.post(
        f"{real_server.url}/api/cameras",
        json=[{"id": "gate", "name": "Front gate", "source_url": "rtsp://g/s"}],
        headers=WRITE_HEADERS,
    ).raise_for_status()
    run = subprocess.run(
        [node(), str(CLIENTS / "apollo.mjs"), real_server.url, API_KEY],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=CLIENTS,
    )
    assert run.returncode == 0, run.stderr
    out: dict[str, Any] = json.loads(run.stdout)

    def shown(page: dict[str, Any]) -> list[int]:
        return [int(edge["node"]["position"]) for edge in page["edges"]]

    newest_first = positions[::-1]
    assert shown(out["first"]) == newest_first[:2] and out["first"]["totalCount"] == 5
    assert out["first"]["pageInfo"]["hasNextPage"] is True
    assert out["first"]["pageInfo"]["hasPreviousPage"] is False
    assert shown(out["second"]) == newest_first[2:4]
    assert out["second"]["pageInfo"]["hasPreviousPage"] is True
    assert shown(out["back"]) == newest_first[:2]  # last/before pages back to the first page
    assert out["back"]["pageInfo"]["endCursor"] == out["first"]["pageInfo"]["endCursor"]
    for page in (out["first"], out["second"]):
        assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]

    newest = out["first"]["edges"][0]["node"]
    assert newest["id"] == to_global_id("Event", newest_first[0])
    assert out["eventNode"] == {
        "__typename": "Event",
        "id": newest["id"],
        "position": str(newest_first[0]),
        "eventType": "motion",
    }
    assert out["cameraNode"] == {
        "__typename": "Camera",
        "id": to_global_id("Camera", "gate"),
        "cameraId": "gate",
        "name": "Front gate",
    }
    assert [n and n["__typename"] for n in out["nodes"]] == ["Camera", None, "Event"]

    assert out["refused"]["status"] == 401
    assert out["refused"]["messages"] == [{"message": "mutations need an API key"}]
    deleted = out["deleted"]  # Apollo adds __typename to every object it asks for
    assert deleted["deleted"] is True and deleted["__typename"] == "DeleteEventPayload"
    assert deleted["event"]["id"] == newest["id"]
    assert deleted["event"]["position"] == str(newest_first[0])
    assert shown(out["afterDelete"]) == newest_first[1:]
    # The REST id of the refetched event is its position.
    assert httpx.get(f"{real_server.url}/api/events/{newest_first[1]}").status_code == 200


def test_graphql_ws_receives_live_events_and_resumes_after_a_drop(
    real_server, event_log, stream_key
) -> None:
    ws_url = real_server.url.replace("http", "ws") + "/graphql"
    process = subprocess.Popen(
        [node(), str(CLIENTS / "subscription.mjs"), ws_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=CLIENTS,
    )
    assert process.stdout is not None and process.stdin is not None

    def line() -> dict[str, Any]:
        message = json.loads(process.stdout.readline())
        assert "error" not in message, message
        return message

    try:
        assert line() == {"ready": True}
        first = seed_events(event_log, 2)  # appended while the subscription is open
        relay(event_log, stream_key, 2)
        received = line()
        assert [int(p) for p in received["first"]] == first
        assert line() == {"dropped": True}
        missed = seed_events(event_log, 3)
        relay(event_log, stream_key, 3)
        process.stdin.write("go\n")
        process.stdin.flush()
        assert [int(p) for p in line()["resumed"]] == missed  # nothing missed, nothing twice
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_graphql_ws_is_refused_without_the_key(keyed_server) -> None:
    ws_url = keyed_server.url.replace("http", "ws") + "/graphql"
    refused = subprocess.run(
        [node(), str(CLIENTS / "subscription.mjs"), ws_url],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=CLIENTS,
    )
    assert json.loads(refused.stdout.splitlines()[-1])["error"]["code"] == 4403
    with_key = subprocess.Popen(
        [node(), str(CLIENTS / "subscription.mjs"), ws_url, API_KEY],
        stdout=subprocess.PIPE,
        text=True,
        cwd=CLIENTS,
    )
    try:
        assert with_key.stdout is not None
        assert json.loads(with_key.stdout.readline()) == {"ready": True}
    finally:
        with_key.kill()
        with_key.wait(10)

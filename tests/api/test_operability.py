"""The API as a site runs it (issues 17 and 20): started before PostgreSQL, stopped with live
clients attached, a PostgreSQL restart between requests, live clients that reconnect."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import redis
import redis.asyncio as aioredis

from analytics_pipeline.api.resume import backlog
from analytics_pipeline.db import migrate
from analytics_pipeline.eventlog import START, EventLog, format_cursor
from analytics_pipeline.events import NewEvent
from analytics_pipeline.relay import message_fields
from tests.api.conftest import T0, server_env
from tests.conftest import REDIS_URL, PostgresServer, free_port


def start_server(
    database_url: str, stream_key: str, tmp_path: Path
) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = server_env(database_url, stream_key, tmp_path, LOG_LEVEL="INFO")
    script = Path(__file__).with_name("run_server.py")
    process = subprocess.Popen(
        [sys.executable, str(script), str(port)],
        env=env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(f"{url}/livez", timeout=1)
            return process, url
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the API server did not start")


@pytest.fixture
def late_postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()  # initdb'd, not started
    yield server
    server.remove()


def test_serve_starts_before_postgresql_and_waits(late_postgres, stream_key, tmp_path) -> None:
    process, url = start_server(late_postgres.url, stream_key, tmp_path)
    try:
        assert httpx.get(f"{url}/livez").status_code == 200
        for path in ("/readyz", "/health"):
            response = httpx.get(f"{url}{path}", timeout=10)
            assert response.status_code == 503
            assert response.json()["missing"] == ["PostgreSQL"]
            assert "waiting for PostgreSQL" in response.json()["detail"]
        response = httpx.get(f"{url}/api/events")
        assert response.status_code == 503
        assert response.json()["detail"] == "waiting for PostgreSQL"
        graphql = httpx.post(f"{url}/graphql", json={"query": "{ cameras { id } }"})
        assert graphql.status_code == 503
        time.sleep(3)  # PostgreSQL comes 5-10 s after the server
        late_postgres.start()
        migrate(late_postgres.url)
        deadline = time.monotonic() + 30
        while httpx.get(f"{url}/readyz", timeout=10).status_code != 200:
            assert time.monotonic() < deadline, "never ready"
            time.sleep(0.5)
        assert httpx.get(f"{url}/api/events").status_code == 200
        assert httpx.post(f"{url}/graphql", json={"query": "{ cameras { id } }"}).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=15)
    assert "Traceback" not in err
    assert err.count("waiting for PostgreSQL") == 1, err
    assert err.count("PostgreSQL answers again") == 1, err


def test_a_postgresql_restart_between_requests_costs_no_request(
    postgres_server, stream_key, tmp_path
) -> None:
    process, url = start_server(postgres_server.url, stream_key, tmp_path)
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            for _ in range(3):  # several pooled connections
                assert http.get("/api/events").status_code == 200
                assert (
                    http.post("/graphql", json={"query": "{ cameras { id } }"}).status_code == 200
                )
            postgres_server.stop()
            postgres_server.start()
            statuses = [http.get("/api/events").status_code for _ in range(10)]
            statuses += [
                http.post("/graphql", json={"query": "{ events { totalCount } }"}).status_code
                for _ in range(10)
            ]
        assert statuses == [200] * 20, statuses
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=15)


def test_sigint_with_three_live_clients_stops_promptly(database_url, stream_key, tmp_path) -> None:
    process, url = start_server(database_url, stream_key, tmp_path)
    connected = threading.Barrier(4, timeout=20)
    endings: list[str] = []

    def listen() -> None:
        try:
            with httpx.stream("GET", f"{url}/api/events/live", timeout=30) as response:
                assert response.status_code == 200
                for line in response.iter_lines():
                    if line == ": connected":
                        connected.wait()
            endings.append("clean")
        except Exception as exc:  # an unclean end: a cut chunked stream
            endings.append(type(exc).__name__)

    threads = [threading.Thread(target=listen) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        connected.wait()
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
        took = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
        for thread in threads:
            thread.join(10)
    assert took < 5, f"stopped after {took:.1f} s"
    assert endings == ["clean"] * 3


def _publish(event_log: EventLog, stream_key: str, count: int) -> list[tuple[str, str]]:
    """Append ``count`` events and put them on the stream; ``(stream id, cursor)`` of each."""
    event_log.append(
        [
            NewEvent(
                camera_id="cam-a",
                event_type="motion",
                timestamp=T0 + timedelta(seconds=i),
                frame_number=i,
            )
            for i in range(count)
        ]
    )
    sync = redis.Redis.from_url(REDIS_URL)
    sent = []
    deadline = time.monotonic() + 20
    # read_after sees only transactions older than every running one (any database's).
    while len(events := event_log.read_after(START, 1000)) < count:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    for event in events:
        fields = message_fields(event)
        sent.append((sync.xadd(stream_key, fields).decode(), format_cursor(event.cursor)))
    sync.close()
    return sent


def _positions(frames: list[str]) -> list[int]:
    import json

    return [int(json.loads(f.split("data: ", 1)[1])["position"]) for f in frames]


def test_last_event_id_resumes_from_the_stream_then_from_the_log(event_log, stream_key) -> None:
    sent = _publish(event_log, stream_key, 5)
    positions = [e.id for e in event_log.read_after(START, 1000)]

    async def run(last: str | None) -> tuple[list[str], object]:
        client = aioredis.Redis.from_url(REDIS_URL)
        try:
            return await backlog(client, stream_key, event_log, last)
        finally:
            await client.aclose()

    stream_id, cursor = sent[1]
    frames, _newest = asyncio.run(run(f"{stream_id}@{cursor}"))
    assert _positions(frames) == positions[2:]
    assert frames[-1].startswith(f"id: {sent[-1][0]}@")
    assert asyncio.run(run(None))[0] == []
    assert asyncio.run(run("garbage"))[0] == []

    redis.Redis.from_url(REDIS_URL).xtrim(
        stream_key, maxlen=2, approximate=False
    )  # trimmed past the id
    frames, _ = asyncio.run(run(f"{stream_id}@{cursor}"))
    assert _positions(frames) == positions[2:]  # position 3 from the log, 4 and 5 the stream
    assert frames[0].startswith("id: 0-0@")
    again, _ = asyncio.run(run(frames[0][4:].split("\n", 1)[0]))
    assert _positions(again) == positions[3:]


def test_the_live_route_sends_what_a_reconnecting_client_missed(
    real_server, event_log, stream_key
) -> None:
    sent = _publish(event_log, stream_key, 3)
    stream_id, cursor = sent[0]
    seen: list[str] = []
    with httpx.stream(
        "GET",
        f"{real_server.url}/api/events/live",
        headers={"Last-Event-ID": f"{stream_id}@{cursor}"},
        timeout=10,
    ) as response:
        for line in response.iter_lines():
            if line.startswith("id: "):
                seen.append(line[4:].split("@")[0])
            if len(seen) == 2:
                break
    assert seen == [sent[1][0], sent[2][0]]

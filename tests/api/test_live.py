"""Live events: one Redis reader per process, fanned out to every client (issue 21), and the
reader that outlived its socket timeout and lost events after an error (issue 12, item 10)."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import httpx
import pytest
import redis
import redis.asyncio as aioredis

from analytics_pipeline.api import hub
from analytics_pipeline.api.hub import LiveHub
from tests.conftest import REDIS_URL

FIELDS = {"event_id": "e-1", "position": "1", "event_type": "motion", "camera_id": "cam-a"}


def test_the_reader_blocks_for_less_than_its_socket_timeout() -> None:
    assert hub.BLOCK_MS / 1000 < hub.SOCKET_TIMEOUT_SECONDS / 2


async def _next_frame(client: hub.LiveClient, timeout: float = 5) -> str:
    return str(await asyncio.wait_for(client.queue.get(), timeout))


def test_a_quiet_stream_is_not_an_outage(monkeypatch, stream_key, caplog) -> None:
    # Scaled down: blocks of 0.2 s inside a socket timeout of 0.6 s, for 2 s of silence.
    monkeypatch.setattr(hub, "BLOCK_MS", 200)
    monkeypatch.setattr(hub, "SOCKET_TIMEOUT_SECONDS", 0.6)
    caplog.set_level(logging.WARNING)

    async def scenario() -> str:
        reader = LiveHub(REDIS_URL, stream_key, max_clients=5)
        reader.start()
        client = reader.join()
        await asyncio.sleep(2)
        redis.Redis.from_url(REDIS_URL).xadd(stream_key, FIELDS)
        try:
            return await _next_frame(client)
        finally:
            await reader.stop()

    frame = asyncio.run(scenario())
    assert frame.startswith("id: ") and "event: event" in frame
    assert json.loads(frame.split("data: ", 1)[1]) == FIELDS
    assert "unavailable" not in caplog.text


def test_after_an_error_the_reader_resumes_where_it_was(monkeypatch, stream_key) -> None:
    monkeypatch.setattr(hub, "RETRY_SECONDS", (0.1,))
    sync = redis.Redis.from_url(REDIS_URL)

    async def scenario() -> list[str]:
        reader = LiveHub(REDIS_URL, stream_key, max_clients=5)
        real_xread = reader.redis.xread
        calls = 0

        async def flaky_xread(*args, **kwargs):
            nonlocal calls
            calls += 1
            if calls == 2:  # an event arrives while the reader is failing
                sync.xadd(stream_key, FIELDS | {"position": "2"})
                raise aioredis.TimeoutError("Timeout reading from socket")
            return await real_xread(*args, **kwargs)

        reader.redis.xread = flaky_xread  # type: ignore[method-assign]
        client = reader.join()
        reader.start()
        await asyncio.sleep(0.2)
        sync.xadd(stream_key, FIELDS)
        frames = [await _next_frame(client) for _ in range(4)]
        await reader.stop()
        return frames

    frames = asyncio.run(scenario())
    events = [json.loads(f.split("data: ", 1)[1]) for f in frames if "event: event" in f]
    assert [e["position"] for e in events] == ["1", "2"]
    assert any("event: unavailable" in f for f in frames)
    assert any("event: available" in f for f in frames)


def test_a_slow_client_is_dropped_not_buffered(stream_key) -> None:
    async def scenario() -> tuple[bool, int]:
        reader = LiveHub(REDIS_URL, stream_key, max_clients=5)
        client = reader.join()
        for i in range(hub.QUEUE_SIZE + 10):
            reader._broadcast(f"data: {i}\n\n")
        await reader.redis.aclose()
        return client.dropped, client.queue.qsize()

    dropped, size = asyncio.run(scenario())
    assert dropped and size == 1  # what was queued dropped: only the end of its stream


def test_live_clients_past_the_cap_get_503(client) -> None:
    client.app.state.app.live.max_clients = 0
    response = client.get("/api/events/live")
    assert response.status_code == 503
    assert "too many live clients" in response.json()["detail"]
    assert response.headers["retry-after"]


@pytest.mark.parametrize("clients", [150])
def test_many_live_clients_share_one_reader_and_health_stays_green(
    real_server, stream_key, clients
) -> None:
    """More clients than redis-py's default pool of 100: every one gets the new event."""

    async def scenario() -> tuple[list[float], list[int], int]:
        limits = httpx.Limits(max_connections=clients + 10)
        async with httpx.AsyncClient(base_url=real_server.url, limits=limits, timeout=30) as http:
            connected = asyncio.Event()
            ready = 0
            received: list[float] = []

            async def listen() -> None:
                nonlocal ready
                async with http.stream("GET", "/api/events/live") as response:
                    assert response.status_code == 200
                    async for line in response.aiter_lines():
                        if line == ": connected":
                            ready += 1
                            if ready == clients:
                                connected.set()
                        if line == "event: event":
                            received.append(time.perf_counter())
                            return

            listeners = [asyncio.create_task(listen()) for _ in range(clients)]
            await asyncio.wait_for(connected.wait(), 30)
            statuses = [(await http.get("/health")).status_code for _ in range(3)]
            readers = [
                c
                for c in redis.Redis.from_url(REDIS_URL).client_list()
                if c.get("name") == f"live-hub:{stream_key}"
            ]
            sent = time.perf_counter()
            redis.Redis.from_url(REDIS_URL).xadd(stream_key, FIELDS)
            await asyncio.wait_for(asyncio.gather(*listeners), 20)
            statuses.append((await http.get("/health")).status_code)
            return [t - sent for t in received], statuses, len(readers)

    delays, statuses, readers = asyncio.run(scenario())
    assert len(delays) == clients
    assert statuses == [200, 200, 200, 200]
    assert readers == 1
    assert max(delays) < 5

"""The API under a real uvicorn (api/server.py's settings): no request stalls another, huge
documents leave no memory behind, slow or oversized request heads are cut off."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import httpx
import pytest

from analytics_pipeline.api.middleware import BodyDeadline
from tests.api.test_graphql_security import fragment_bomb


def test_a_fragment_bomb_never_stalls_health(real_server) -> None:
    results: list[tuple[int, float]] = []

    def bomb() -> None:
        started = time.perf_counter()
        response = httpx.post(
            f"{real_server.url}/graphql", json={"query": fragment_bomb(24)}, timeout=30
        )
        results.append((response.status_code, time.perf_counter() - started))

    threads = [threading.Thread(target=bomb) for _ in range(4)]
    for thread in threads:
        thread.start()
    health: list[float] = []
    while any(t.is_alive() for t in threads) or len(health) < 5:
        started = time.perf_counter()
        assert httpx.get(f"{real_server.url}/health", timeout=5).status_code == 200
        health.append(time.perf_counter() - started)
    for thread in threads:
        thread.join()
    assert [status for status, _ in results] == [400] * 4
    assert max(seconds for _, seconds in results) < 1.0
    assert max(health) < 1.0


def test_huge_documents_leave_no_memory_behind(real_server) -> None:
    before = real_server.rss_bytes()
    for letter in "abc":
        query = "{ " + f"{letter} " * 450_000 + "}"  # 900 KB, under the 1 MB body cap
        started = time.perf_counter()
        response = httpx.post(f"{real_server.url}/graphql", json={"query": query}, timeout=30)
        assert response.status_code == 400
        assert time.perf_counter() - started < 2.0
    grown = real_server.rss_bytes() - before
    assert grown < 50 * 1024 * 1024, f"grew {grown / 2**20:.0f} MiB"


def test_a_trickled_request_head_is_cut_off(real_server) -> None:
    with socket.create_connection(("127.0.0.1", real_server.port), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        started = time.perf_counter()
        closed = False
        while time.perf_counter() - started < 5:
            try:
                sock.sendall(b"X")
                time.sleep(0.2)
            except OSError:
                closed = True
                break
            sock.settimeout(0.01)
            try:
                if sock.recv(1) == b"":
                    closed = True
                    break
            except TimeoutError:
                pass
        assert closed
        assert time.perf_counter() - started < 3


def test_an_idle_connection_is_closed(real_server) -> None:
    with socket.create_connection(("127.0.0.1", real_server.port), timeout=5) as sock:
        started = time.perf_counter()
        assert sock.recv(1) == b""
        assert time.perf_counter() - started < 3


def test_oversized_headers_are_refused(real_server) -> None:
    response = httpx.get(f"{real_server.url}/health", headers={"X-Big": "a" * 32_000}, timeout=5)
    assert response.status_code in (400, 431)
    assert httpx.get(f"{real_server.url}/health", timeout=5).status_code == 200


@pytest.mark.parametrize(("declared", "sent"), [(100, 10)])
def test_a_stalled_body_is_a_408(declared, sent) -> None:
    answered: list[dict] = []

    async def app(scope, receive, send) -> None:
        while (await receive()).get("more_body"):
            pass

    async def scenario() -> None:
        chunks = [{"type": "http.request", "body": b"x" * sent, "more_body": True}]

        async def receive():
            if chunks:
                return chunks.pop()
            await asyncio.sleep(3600)

        async def send(message) -> None:
            answered.append(message)

        scope = {
            "type": "http",
            "method": "POST",
            "path": "/",
            "headers": [(b"content-length", str(declared).encode())],
        }
        from starlette.middleware.exceptions import ExceptionMiddleware

        await ExceptionMiddleware(BodyDeadline(app, seconds=0.3))(scope, receive, send)

    started = time.perf_counter()
    asyncio.run(scenario())
    assert time.perf_counter() - started < 2
    assert answered[0]["status"] == 408

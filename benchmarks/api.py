"""Query latency of the API against the same SQL run directly, at a stated data size.

    python benchmarks/api.py [--events 1000000] [--requests 500]
    python benchmarks/api.py --probes [--events 10000] [--live-clients 200]

Loads N events (16 cameras, 4 types, spread over 10 days) into a throwaway database with COPY,
starts `analytics-pipeline serve` on it, and prints p50/p99 latency of
  * the events query (one camera, one day, page of 50): GraphQL, REST, direct SQL;
  * the stats query (one camera, one day): GraphQL, REST, direct SQL;
with the ratios API/SQL. Requests go one at a time over loopback HTTP, the three ways side by
side (a round of one request each, the order rotating), so that a busy moment of the machine
falls on all of them.

``--probes`` instead serves with the hardened uvicorn settings (``api/server.py``) and measures
the security probes of issue 21: a 24-fragment "bomb" refused while ``/health`` is polled,
the server's memory after three distinct 900 KB queries, and N live clients all receiving a
new event with ``/health`` green.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import redis
from psycopg.types.json import Jsonb

from analytics_pipeline.db import create_pool, drop_database, migrate, query, with_database_name
from analytics_pipeline.eventlog import EventFilter, EventLog

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/analytics")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CAMERAS = [f"cam-{i:02d}" for i in range(16)]
TYPES = ("motion", "detection", "tracking", "anpr")
DAYS = 10
START = datetime(2026, 10, 1, tzinfo=UTC)
EVENTS_QUERY = """query($filter: EventFilter, $first: Int) {
  events(filter: $filter, first: $first) {
    edges { node { id eventType cameraId timestamp data snapshotUrl thumbnailUrl } } } }"""
STATS_QUERY = """query($filter: EventFilter) { eventStats(filter: $filter) {
  totalEvents byType { eventType count } byCamera { cameraId count } firstEvent lastEvent } }"""


def load(url: str, count: int) -> None:
    pool = create_pool(url, max_size=1)
    EventLog(pool).ensure_partitions([(START + timedelta(days=d)).date() for d in range(DAYS)])
    pool.close()
    step = timedelta(days=DAYS) / count
    columns = (
        'COPY events (event_id, event_type, camera_id, "timestamp", frame_number,'
        " snapshot_path, event_data) FROM STDIN"
    )
    with psycopg.connect(url) as conn, conn.cursor() as cursor, cursor.copy(columns) as copy:
        for i in range(count):
            camera, kind = CAMERAS[i % 16], TYPES[(i // 16) % 4]
            copy.write_row(
                (
                    uuid.uuid4(),
                    kind,
                    camera,
                    START + step * i,
                    i,
                    f"{camera}/2026-10-01/{kind}_000000_{i % 1000000:06d}.png",
                    Jsonb({"n": i, "confidence": 0.5}),
                )
            )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE events")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.99) - 1] * 1000


def measure(
    calls: dict[str, Callable[[random.Random], None]], requests: int
) -> dict[str, tuple[float, float]]:
    """p50 and p99 milliseconds of each call, measured side by side: round after round, each
    call once a round (the order rotating), so that all of them see the same machine; each
    call asks for the same sequence of camera-days."""
    rngs = {name: random.Random(7) for name in calls}
    for name, call in calls.items():
        for _ in range(10):  # warm-up
            call(rngs[name])
    rngs = {name: random.Random(7) for name in calls}
    samples: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    for round_number in range(requests):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            began = time.perf_counter()
            calls[name](rngs[name])
            samples[name].append(time.perf_counter() - began)
    figures = {name: percentiles(values) for name, values in samples.items()}
    for name, (p50, p99) in figures.items():
        print(f"  {name:<10} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")
    return figures


def one_camera_day(rng: random.Random) -> tuple[str, datetime, datetime]:
    day = START + timedelta(days=rng.randrange(DAYS))
    return rng.choice(CAMERAS), day, day + timedelta(days=1)


SERVER = (
    "import sys, uvicorn\n"
    "from analytics_pipeline.api.app import create_app\n"
    "from analytics_pipeline.api.server import uvicorn_config\n"
    "from analytics_pipeline.config import Settings\n"
    "settings = Settings(_env_file=None)\n"
    "uvicorn.run(create_app(settings), **uvicorn_config(settings, port=int(sys.argv[1])))\n"
)


def fragment_bomb(count: int) -> str:
    """``count`` fragments, each spreading the previous one twice (2**count fields)."""
    fragments = ["fragment F0 on Query { cameras { id } }"]
    fragments += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, count)]
    return " ".join(fragments) + f" {{ ...F{count - 1} }}"


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(x for x in status.splitlines() if x.startswith("VmRSS:")).split()[1]) / 1024


def ms(seconds: list[float]) -> str:
    return f"p50 {statistics.median(seconds) * 1000:.1f} ms, max {max(seconds) * 1000:.1f} ms"


def probe_bomb(base: str) -> dict[str, float]:
    bombs: list[float] = []
    stop = threading.Event()

    def bomber() -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            while not stop.is_set():
                began = time.perf_counter()
                response = http.post("/graphql", json={"query": fragment_bomb(24)})
                assert response.status_code == 400, response.text
                bombs.append(time.perf_counter() - began)

    threads = [threading.Thread(target=bomber) for _ in range(4)]
    for thread in threads:
        thread.start()
    health: list[float] = []
    with httpx.Client(base_url=base, timeout=30) as http:
        end = time.perf_counter() + 3
        while time.perf_counter() < end:
            began = time.perf_counter()
            assert http.get("/health").status_code == 200
            health.append(time.perf_counter() - began)
            time.sleep(0.02)
    stop.set()
    for thread in threads:
        thread.join()
    print(
        f"24-fragment document ({len(fragment_bomb(24))} bytes), 4 clients for 3 s: "
        f"{len(bombs)} refused (400), {ms(bombs)}; /health meanwhile: {len(health)} x 200, "
        f"{ms(health)}"
    )
    return {
        "fragment_bomb_max_ms": round(max(bombs) * 1000, 1),
        "health_during_bomb_max_ms": round(max(health) * 1000, 1),
    }


def probe_memory(base: str, pid: int) -> dict[str, float]:
    before, took = rss_mib(pid), []
    with httpx.Client(base_url=base, timeout=60) as http:
        for letter in "abc":
            began = time.perf_counter()
            response = http.post("/graphql", json={"query": "{ " + f"{letter} " * 450_000 + "}"})
            assert response.status_code == 400
            took.append(time.perf_counter() - began)
    after = rss_mib(pid)
    print(
        f"three distinct 900 KB queries: refused (400) in {ms(took)}; server RSS "
        f"{before:.0f} MiB before, {after:.0f} MiB after"
    )
    return {"rss_after_huge_queries_vs_before": round(after / before, 3)}


async def probe_live(base: str, stream: str, clients: int) -> dict[str, float]:
    limits = httpx.Limits(max_connections=clients + 10)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
        ready, connected, received = 0, asyncio.Event(), []

        async def listen() -> None:
            nonlocal ready
            async with http.stream("GET", "/api/events/live") as response:
                assert response.status_code == 200
                async for line in response.aiter_lines():
                    if line == ": connected":
                        ready += 1
                        if ready == clients:
                            connected.set()
                    elif line == "event: event":
                        received.append(time.perf_counter())
                        return

        listeners = [asyncio.create_task(listen()) for _ in range(clients)]
        await asyncio.wait_for(connected.wait(), 60)
        health = [await http.get("/health") for _ in range(3)]
        sent = time.perf_counter()
        redis.Redis.from_url(REDIS_URL).xadd(stream, {"event_id": "probe", "position": "0"})
        await asyncio.wait_for(asyncio.gather(*listeners), 60)
        health.append(await http.get("/health"))
    print(
        f"{clients} live clients: {len(received)} received the new event within "
        f"{(max(received) - sent) * 1000:.0f} ms; /health while connected: "
        f"{[r.status_code for r in health]} ({health[0].json()})"
    )
    return {"live_clients_received_share": len(received) / clients, "live_clients": clients}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--probes", action="store_true", help="the security probes instead")
    parser.add_argument("--live-clients", type=int, default=200)
    args = parser.parse_args()
    name = f"analytics_bench_api_{uuid.uuid4().hex[:8]}"
    url = with_database_name(DATABASE_URL, name)
    migrate(url)
    began = time.perf_counter()
    load(url, args.events)
    print(
        f"loaded {args.events:,} events with COPY in {time.perf_counter() - began:.1f} s "
        f"({len(CAMERAS)} cameras, {DAYS} days, ~{args.events // DAYS // 16:,} events "
        "per camera-day)"
    )
    port = 18069
    cli = shutil.which("analytics-pipeline") or str(
        Path(sys.executable).parent / "analytics-pipeline"
    )
    stream = f"bench:events:{uuid.uuid4().hex[:8]}"
    env = os.environ | {
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "REDIS_STREAM": stream,
        "LOG_LEVEL": "WARNING",
        "API_MAX_PAGE_SIZE": "200",
    }
    command = [cli, "--env-file", "/dev/null", "serve", "--port", str(port)]
    if args.probes:
        command = [sys.executable, "-c", SERVER, str(port)]
    server = subprocess.Popen(command, env=env)
    pool = create_pool(url, max_size=1)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            for _ in range(100):
                try:
                    http.get("/health")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            if args.probes:
                result = probe_bomb(base) | probe_memory(base, server.pid)
                result |= asyncio.run(probe_live(base, stream, args.live_clients))
                print("RESULT " + json.dumps(result))
                return

            def gql(text: str, variables: dict) -> None:
                response = http.post("/graphql", json={"query": text, "variables": variables})
                assert response.status_code == 200 and "errors" not in response.json()

            def graphql_events(rng: random.Random) -> None:
                camera, start, end = one_camera_day(rng)
                gql(
                    EVENTS_QUERY,
                    {
                        "first": 50,
                        "filter": {
                            "cameraId": camera,
                            "start": start.isoformat(),
                            "end": end.isoformat(),
                        },
                    },
                )

            def rest_events(rng: random.Random) -> None:
                camera, start, end = one_camera_day(rng)
                response = http.get(
                    "/api/events",
                    params={
                        "camera_id": camera,
                        "start_time": start.isoformat(),
                        "end_time": end.isoformat(),
                        "page_size": 50,
                    },
                )
                assert response.status_code == 200

            def sql_events(rng: random.Random) -> None:
                camera, start, end = one_camera_day(rng)
                params = EventFilter(camera_ids=[camera], start=start, end=end).params() | {
                    "before_id": None,
                    "after_id": None,
                    "limit": 50,
                    "offset": 0,
                }
                with pool.connection() as conn:
                    conn.execute(
                        query("query_events", direction="DESC"), params, prepare=False
                    ).fetchall()

            def graphql_stats(rng: random.Random) -> None:
                camera, start, end = one_camera_day(rng)
                gql(
                    STATS_QUERY,
                    {
                        "filter": {
                            "cameraId": camera,
                            "start": start.isoformat(),
                            "end": end.isoformat(),
                        }
                    },
                )

            def rest_stats(rng: random.Random) -> None:
                camera, start, end = one_camera_day(rng)
                response = http.get(
                    "/api/events/stats",
                    params={
                        "camera_id": camera,
                        "start_time": start.isoformat(),
                        "end_time": end.isoformat(),
                    },
                )
                assert response.status_code == 200

            def sql_stats(rng: random.Random) -> None:
                camera, start, end = one_camera_day(rng)
                params = EventFilter(camera_ids=[camera], start=start, end=end).params()
                with pool.connection() as conn:
                    conn.execute(query("event_stats"), params, prepare=False).fetchall()

            print(f"events query (one camera, one day, page of 50), {args.requests} requests:")
            figures = measure(
                {"SQL": sql_events, "GraphQL": graphql_events, "REST": rest_events}, args.requests
            )
            sql, gql_events, rest = figures["SQL"], figures["GraphQL"], figures["REST"]
            print(
                f"  p50 ratio: GraphQL/SQL {gql_events[0] / sql[0]:.1f}x, "
                f"REST/SQL {rest[0] / sql[0]:.1f}x (REST also counts the total)"
            )
            result = {
                "graphql_p99_vs_sql_p99": round(gql_events[1] / sql[1], 2),
                "rest_p99_vs_sql_p99": round(rest[1] / sql[1], 2),
            }
            print(f"stats (one camera, one day), {args.requests} requests:")
            figures = measure(
                {"SQL": sql_stats, "GraphQL": graphql_stats, "REST": rest_stats}, args.requests
            )
            sql, gql_stats, rest = figures["SQL"], figures["GraphQL"], figures["REST"]
            print(
                f"  p50 ratio: GraphQL/SQL {gql_stats[0] / sql[0]:.1f}x, "
                f"REST/SQL {rest[0] / sql[0]:.1f}x"
            )
            result["stats_graphql_p99_vs_sql_p99"] = round(gql_stats[1] / sql[1], 2)
            result["events"] = args.events
            print("RESULT " + json.dumps(result))
    finally:
        server.terminate()
        server.wait(10)
        pool.close()
        drop_database(url)
        redis.Redis.from_url(REDIS_URL).delete(stream)


if __name__ == "__main__":
    main()

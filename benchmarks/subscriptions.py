"""GraphQL subscriptions under load: N concurrent subscribers on one API process.

    python benchmarks/subscriptions.py [--subscribers 200] [--events 600] [--rate 40]

Appends the events to a throwaway database's log, starts `analytics-pipeline serve` on it,
opens N graphql-transport-ws connections (Python `websockets` client, all in this process)
each subscribed to ``eventAdded``, then puts the events on the Redis stream at ``--rate`` a
second, as the relay does (XADD of each event's message). In the same run a raw Redis XREAD
loop reads the same stream. Prints, for both: messages delivered per second and the latency
from the stream message (its id is Redis's clock at XADD, in ms) to receipt, p50/p99; ends
with ``RESULT {json}`` (``subscription_p99_ms``, ``subscribers``, ratios to raw XREAD).
Both server and clients share this machine's cores: the figures are an upper bound on cost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import redis
from websockets.asyncio.client import connect

from analytics_pipeline.db import create_pool, drop_database, migrate, with_database_name
from analytics_pipeline.eventlog import EventFilter, EventLog
from analytics_pipeline.events import NewEvent
from analytics_pipeline.relay import message_fields

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/analytics")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
QUERY = "subscription { eventAdded { id position eventType cameraId timestamp } }"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def stream_ms(after: str) -> int:
    """The Redis clock (ms) at XADD, from a result's ``extensions.after``."""
    return int(after.split("-", 1)[0])


async def subscriber(url: str, latencies: list[float], expected: int, ready: asyncio.Event) -> None:
    async with connect(url, subprotocols=["graphql-transport-ws"], max_size=2**20) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": QUERY}}))
        ready.set()
        got = 0
        while got < expected:
            message = json.loads(await ws.recv())
            if message["type"] == "ping":
                await ws.send('{"type":"pong"}')
                continue
            if message["type"] != "next":
                raise RuntimeError(f"unexpected message: {message}")
            latencies.append(
                time.time() * 1000 - stream_ms(message["payload"]["extensions"]["after"])
            )
            got += 1


def raw_reader(
    stream: str, expected: int, latencies: list[float], started: threading.Event
) -> None:
    """The baseline: one blocking XREAD loop on the same stream."""
    client = redis.Redis.from_url(REDIS_URL)
    last = "$"
    started.set()
    while len(latencies) < expected:
        reply = client.xread({stream: last}, block=5000, count=100)
        now = time.time() * 1000
        for _stream, messages in reply or ():
            for message_id, _fields in messages:
                last = message_id.decode()
                latencies.append(now - int(last.split("-", 1)[0]))


def publish(stream: str, fields: list[dict[str, str]], rate: float) -> tuple[float, float]:
    client = redis.Redis.from_url(REDIS_URL)
    began = time.perf_counter()
    for i, message in enumerate(fields):
        delay = began + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        client.xadd(stream, message, maxlen=100_000, approximate=True)
    return began, time.perf_counter()


async def run(args: argparse.Namespace, ws_url: str, stream: str, fields: list[dict]) -> dict:
    latencies: list[float] = []
    ready = [asyncio.Event() for _ in range(args.subscribers)]
    tasks = [
        asyncio.create_task(subscriber(ws_url, latencies, len(fields), ready[i]))
        for i in range(args.subscribers)
    ]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready)), 60)
    await asyncio.sleep(1.0)  # every subscribe has reached its feed
    raw: list[float] = []
    started = threading.Event()
    reader = threading.Thread(target=raw_reader, args=(stream, len(fields), raw, started))
    reader.start()
    started.wait()
    await asyncio.sleep(0.2)
    began = time.perf_counter()
    await asyncio.to_thread(publish, stream, fields, args.rate)
    await asyncio.wait_for(asyncio.gather(*tasks), 120)
    took = time.perf_counter() - began
    reader.join(30)
    delivered = len(latencies)
    return {
        "subscribers": args.subscribers,
        "events": len(fields),
        "rate_offered": args.rate,
        "delivered": delivered,
        "subscription_deliveries_per_s": round(delivered / took, 1),
        "subscription_p50_ms": round(percentile(latencies, 0.50), 1),
        "subscription_p99_ms": round(percentile(latencies, 0.99), 1),
        "xread_p50_ms": round(percentile(raw, 0.50), 1),
        "xread_p99_ms": round(percentile(raw, 0.99), 1),
        "xread_messages_per_s": round(len(raw) / took, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--rate", type=float, default=40.0, help="events a second")
    args = parser.parse_args()
    url = with_database_name(DATABASE_URL, f"analytics_bench_subs_{uuid.uuid4().hex[:8]}")
    migrate(url)
    pool = create_pool(url, max_size=2)
    event_log = EventLog(pool)
    start = datetime.now(UTC)
    event_log.append(
        [
            NewEvent(
                event_type="motion",
                camera_id=f"cam-{i % 8}",
                timestamp=start + timedelta(milliseconds=i),
                frame_number=i,
            )
            for i in range(args.events)
        ]
    )
    # Not read_after: it waits behind every running transaction of the server (any database).
    stored = event_log.query(EventFilter(), limit=args.events, descending=False)
    assert len(stored) == args.events
    fields = [message_fields(e) for e in stored]
    stream = f"bench:subs:{uuid.uuid4().hex[:8]}"
    port = 18070
    cli = shutil.which("analytics-pipeline") or str(
        Path(sys.executable).parent / "analytics-pipeline"
    )
    env = os.environ | {
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "REDIS_STREAM": stream,
        "LOG_LEVEL": "WARNING",
        "GRAPHQL_MAX_SUBSCRIBERS": str(max(1000, args.subscribers)),
    }
    server = subprocess.Popen(
        [cli, "--env-file", "/dev/null", "serve", "--port", str(port)], env=env
    )
    try:
        for _ in range(200):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        result = asyncio.run(run(args, f"ws://127.0.0.1:{port}/graphql", stream, fields))
        result["p99_ratio_to_xread"] = round(
            result["subscription_p99_ms"] / max(result["xread_p99_ms"], 0.1), 1
        )
        result["deliveries_ratio_to_xread"] = round(
            result["subscription_deliveries_per_s"] / max(result["xread_messages_per_s"], 0.1), 1
        )
        print(
            f"{args.subscribers} subscribers, {len(fields)} events at {args.rate:g}/s: "
            f"{result['subscription_deliveries_per_s']:,} deliveries/s, latency stream->client "
            f"p50 {result['subscription_p50_ms']} ms, p99 {result['subscription_p99_ms']} ms; "
            f"raw XREAD p50 {result['xread_p50_ms']} ms, p99 {result['xread_p99_ms']} ms"
        )
        print("RESULT " + json.dumps(result))
    finally:
        server.terminate()
        server.wait(20)
        pool.close()
        redis.Redis.from_url(REDIS_URL).delete(stream)
        drop_database(url)


if __name__ == "__main__":
    main()

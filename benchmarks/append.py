"""Event log and relay throughput against their raw baselines, in one run.

    python benchmarks/append.py [--events 100000] [--batch 1000]

Uses a throwaway database on the DATABASE_URL server and throwaway stream keys on REDIS_URL.
Prints events per second of EventLog.append against a raw COPY of the same rows, and of the
relay against raw pipelined XADD of the same messages, with the ratios (best of ``--rounds``,
each pair measured side by side). Ends with one line: RESULT {json} (append_vs_copy,
relay_vs_xadd).
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import redis
from psycopg.types.json import Jsonb

from analytics_pipeline.db import create_pool, drop_database, migrate, with_database_name
from analytics_pipeline.eventlog import START, EventLog
from analytics_pipeline.events import NewEvent
from analytics_pipeline.relay import Relay, message_fields

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/analytics")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def make_events(count: int) -> list[NewEvent]:
    start = datetime.now(UTC) - timedelta(hours=1)
    types = ("motion", "detection", "tracking", "anpr")
    return [
        NewEvent(
            event_type=types[i % 4],
            camera_id=f"cam-{i % 16}",
            timestamp=start + timedelta(milliseconds=20 * i),
            frame_number=i,
            snapshot_path=f"cam-{i % 16}/2026-11-24/motion_{i:06d}_000000.png",
            event_data={"area_percent": 3.5, "regions": [[10, 20, 30, 40]], "n": i},
        )
        for i in range(count)
    ]


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>10,.0f} events/s ({seconds:6.2f} s)"


def fresh_database(label: str) -> str:
    url = with_database_name(DATABASE_URL, f"analytics_bench_{label}_{uuid.uuid4().hex[:8]}")
    migrate(url)
    return url


def copy_rows(url: str, events: list[NewEvent]) -> float:
    """Seconds for one raw COPY of the rows into the events table (no idempotency keys)."""
    columns = (
        'COPY events (event_id, event_type, camera_id, "timestamp", frame_number,'
        " snapshot_path, event_data) FROM STDIN"
    )
    began = time.perf_counter()
    with psycopg.connect(url) as conn, conn.cursor() as cursor, cursor.copy(columns) as copy:
        for e in events:
            copy.write_row(
                (
                    e.event_id,
                    e.event_type,
                    e.camera_id,
                    e.timestamp,
                    e.frame_number,
                    e.snapshot_path,
                    Jsonb(e.event_data),
                )
            )
    return time.perf_counter() - began


def append_rows(url: str, events: list[NewEvent], batch: int) -> float:
    """Seconds for EventLog.append of the rows in ``batch``-event batches."""
    pool = create_pool(url)
    try:
        event_log = EventLog(pool)
        event_log.ensure_partitions(sorted({e.timestamp.date() for e in events}))
        began = time.perf_counter()
        for i in range(0, len(events), batch):
            event_log.append(events[i : i + batch])
        return time.perf_counter() - began
    finally:
        pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="best of this many, interleaved")
    args = parser.parse_args()
    events = make_events(args.events)
    days = sorted({e.timestamp.date() for e in events})
    client = redis.Redis.from_url(REDIS_URL)
    raw_stream = f"bench:raw:{uuid.uuid4().hex}"
    relay_streams = [f"bench:relay:{uuid.uuid4().hex}" for _ in range(args.rounds)]
    urls: list[str] = []
    copy_times, append_times, xadd_times, relay_times = [], [], [], []
    try:
        # Each round: a fresh database each for COPY and for EventLog.append, side by side.
        for _ in range(args.rounds):
            copy_url, log_url = fresh_database("copy"), fresh_database("log")
            urls += [copy_url, log_url]
            copy_pool = create_pool(copy_url, max_size=1)
            EventLog(copy_pool).ensure_partitions(days)
            copy_pool.close()
            copy_times.append(copy_rows(copy_url, events))
            append_times.append(append_rows(log_url, events, args.batch))
        pool = create_pool(urls[-1])
        event_log = EventLog(pool)
        # Baseline: pipelined XADD of the very messages the relay will send; the relay reads
        # the log in commit-safe order and publishes (an empty stream makes it replay the
        # newest maxlen events, i.e. all of them here). Interleaved, best of the rounds.
        messages = [message_fields(e) for e in event_log.read_after(START, limit=args.events)]
        published = 0
        for relay_stream in relay_streams:
            client.delete(raw_stream)
            began = time.perf_counter()
            for i in range(0, len(messages), args.batch):
                pipe = client.pipeline(transaction=False)
                for fields in messages[i : i + args.batch]:
                    pipe.xadd(raw_stream, fields, maxlen=args.events, approximate=True)
                pipe.execute()
            xadd_times.append(time.perf_counter() - began)
            relay = Relay(
                event_log, client, relay_stream, maxlen=args.events, batch_size=args.batch
            )
            began = time.perf_counter()
            published = relay.publish_pending()
            relay_times.append(time.perf_counter() - began)
        pool.close()
        assert published == len(messages) == args.events

        copy_seconds, append_seconds = min(copy_times), min(append_times)
        xadd_seconds, relay_seconds = min(xadd_times), min(relay_times)
        with psycopg.connect(urls[-1]) as conn:
            server = conn.info.server_version
        print(
            f"events: {args.events:,}   batch: {args.batch:,}   PostgreSQL {server}   "
            f"Redis {client.info()['redis_version']}   best of {args.rounds}"
        )
        print(f"raw COPY, one transaction (baseline)  {rate(args.events, copy_seconds)}")
        print(
            f"EventLog.append, {args.batch}-event batches      {rate(args.events, append_seconds)}"
        )
        append_vs_copy = copy_seconds / append_seconds
        print(f"  append rate / COPY rate             {append_vs_copy:.2f}")
        print(f"raw pipelined XADD (baseline)         {rate(len(messages), xadd_seconds)}")
        print(f"Relay.publish_pending                 {rate(published, relay_seconds)}")
        relay_vs_xadd = xadd_seconds / relay_seconds
        print(f"  relay rate / XADD rate              {relay_vs_xadd:.2f}")
        result = {
            "append_vs_copy": round(append_vs_copy, 2),
            "relay_vs_xadd": round(relay_vs_xadd, 2),
            "events": args.events,
            "batch": args.batch,
        }
        print("RESULT " + json.dumps(result))
    finally:
        client.delete(raw_stream, *relay_streams)
        for url in urls:
            drop_database(url)


if __name__ == "__main__":
    main()

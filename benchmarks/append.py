"""Event log and relay throughput against their raw baselines, in one run.

    python benchmarks/append.py [--events 100000] [--batch 1000]

Uses a throwaway database on the DATABASE_URL server and throwaway stream keys on REDIS_URL.
Prints events per second of EventLog.append against a raw COPY of the same rows, and of the
relay against raw pipelined XADD of the same messages, with the ratios.
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    events = make_events(args.events)
    days = sorted({e.timestamp.date() for e in events})
    copy_url, log_url = fresh_database("copy"), fresh_database("log")
    client = redis.Redis.from_url(REDIS_URL)
    raw_stream, relay_stream = f"bench:raw:{uuid.uuid4().hex}", f"bench:relay:{uuid.uuid4().hex}"
    pool = create_pool(log_url)
    try:
        copy_pool = create_pool(copy_url, max_size=1)
        EventLog(copy_pool).ensure_partitions(days)
        copy_pool.close()
        copy_seconds = copy_rows(copy_url, events)

        event_log = EventLog(pool)
        event_log.ensure_partitions(days)
        began = time.perf_counter()
        for i in range(0, len(events), args.batch):
            event_log.append(events[i : i + args.batch])
        append_seconds = time.perf_counter() - began

        # Baseline: pipelined XADD of the very messages the relay will send.
        messages = [message_fields(e) for e in event_log.read_after(START, limit=args.events)]
        began = time.perf_counter()
        for i in range(0, len(messages), args.batch):
            pipe = client.pipeline(transaction=False)
            for fields in messages[i : i + args.batch]:
                pipe.xadd(raw_stream, fields, maxlen=args.events, approximate=True)
            pipe.execute()
        xadd_seconds = time.perf_counter() - began

        # The relay reads the log in commit-safe order and publishes; an empty stream makes
        # it replay the newest maxlen events, i.e. all of them here.
        relay = Relay(event_log, client, relay_stream, maxlen=args.events, batch_size=args.batch)
        began = time.perf_counter()
        published = relay.publish_pending()
        relay_seconds = time.perf_counter() - began

        with psycopg.connect(log_url) as conn:
            server = conn.info.server_version
        print(
            f"events: {args.events:,}   batch: {args.batch:,}   PostgreSQL {server}   "
            f"Redis {client.info()['redis_version']}"
        )
        print(f"raw COPY, one transaction (baseline)  {rate(args.events, copy_seconds)}")
        print(
            f"EventLog.append, {args.batch}-event batches      {rate(args.events, append_seconds)}"
        )
        print(f"  append rate / COPY rate             {copy_seconds / append_seconds:.2f}")
        print(f"raw pipelined XADD (baseline)         {rate(len(messages), xadd_seconds)}")
        print(f"Relay.publish_pending                 {rate(published, relay_seconds)}")
        print(
            f"  relay rate / XADD rate              "
            f"{(published / relay_seconds) / (len(messages) / xadd_seconds):.2f}"
        )
    finally:
        pool.close()
        client.delete(raw_stream, relay_stream)
        for url in (copy_url, log_url):
            drop_database(url)


if __name__ == "__main__":
    main()

"""The Dagster assets' heavy parts against their baselines, in one run.

    python benchmarks/dagster_assets.py [--events 1000000] [--retention-events 200000]

1. One day's statistics at N events: polars (COPY out + summarise, what daily_event_stats does)
   against the equivalent SQL GROUP BY queries run in PostgreSQL.
2. Retention of one day of M events: dropping its partition as retention does (DETACH
   PARTITION ... CONCURRENTLY, then DROP TABLE: readers are not blocked) against deleting its
   rows through the purge path.
Uses a throwaway database on the DATABASE_URL server.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import psycopg
from psycopg.types.json import Jsonb

from analytics_pipeline.daily_stats import day_bounds, read_day, summarise
from analytics_pipeline.db import create_pool, drop_database, migrate, query, with_database_name
from analytics_pipeline.eventlog import EventLog

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/analytics")
DAY = date(2026, 9, 1)
SQL_BASELINE = [
    "SELECT camera_id, event_type, count(*) FROM events WHERE {window} GROUP BY 1, 2",
    "SELECT extract(hour FROM \"timestamp\" AT TIME ZONE 'UTC') AS h, count(*) FROM events "
    "WHERE {window} GROUP BY 1",
    "SELECT event_data ->> 'class', count(*) FROM events WHERE {window} AND event_type = "
    "'tracking' AND event_data ->> 'action' = 'entered' GROUP BY 1",
    "SELECT o ->> 'class', count(*) FROM events, jsonb_array_elements(event_data -> 'objects') o "
    "WHERE {window} AND event_type = 'detection' GROUP BY 1",
    "SELECT count(DISTINCT event_data ->> 'plate') FROM events WHERE {window} "
    "AND event_type = 'anpr'",
    "SELECT event_data ->> 'plate', count(*) FROM events WHERE {window} AND event_type = 'anpr' "
    "GROUP BY 1 ORDER BY 2 DESC LIMIT 10",
    "SELECT avg((event_data ->> 'dwell_seconds')::float) FROM events WHERE {window} "
    "AND event_type = 'tracking' AND event_data ->> 'action' = 'left'",
]


def event_row(i: int, day: date, count: int) -> tuple:
    moment = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(
        seconds=86_399 * i / count
    )
    camera, kind = f"cam-{i % 16:02d}", ("motion", "detection", "tracking", "anpr")[i % 4]
    data = {
        "motion": {"area_percent": 2.5},
        "detection": {
            "objects": [{"class": "car", "confidence": 0.9}, {"class": "person", "confidence": 0.6}]
        },
        "tracking": {
            "action": ("entered", "left")[i % 8 // 4],
            "track_id": i,
            "class": "car",
            "dwell_seconds": float(i % 300),
        },
        "anpr": {"plate": f"AB{i % 5000:04d}", "confidence": 0.9},
    }[kind]
    return (uuid.uuid4(), kind, camera, moment, i, None, Jsonb(data))


def load(url: str, day: date, count: int) -> None:
    pool = create_pool(url, max_size=1)
    EventLog(pool).ensure_partitions([day])
    pool.close()
    columns = (
        'COPY events (event_id, event_type, camera_id, "timestamp", frame_number,'
        " snapshot_path, event_data) FROM STDIN"
    )
    with psycopg.connect(url) as conn, conn.cursor() as cursor, cursor.copy(columns) as copy:
        for i in range(count):
            copy.write_row(event_row(i, day, count))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE events")


def timed(action) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--retention-events", type=int, default=200_000)
    args = parser.parse_args()
    name = f"analytics_bench_dagster_{uuid.uuid4().hex[:8]}"
    url = with_database_name(DATABASE_URL, name)
    migrate(url)
    pool = create_pool(url, max_size=2)
    try:
        load(url, DAY, args.events)
        start, end = day_bounds(DAY)
        window = f"\"timestamp\" >= '{start.isoformat()}' AND \"timestamp\" < '{end.isoformat()}'"

        def run_sql() -> None:
            with pool.connection() as conn:
                for statement in SQL_BASELINE:
                    conn.execute(statement.format(window=window)).fetchall()

        frames = {}

        def run_polars() -> None:
            frames["stats"] = summarise(DAY, read_day(pool, DAY))

        sql_seconds = min(timed(run_sql) for _ in range(2))
        polars_seconds = min(timed(run_polars) for _ in range(2))
        copy_seconds = min(timed(lambda: read_day(pool, DAY)) for _ in range(2))
        print(f"one day's statistics at {args.events:,} events (best of 2):")
        print(f"  SQL GROUP BY queries (baseline)   {sql_seconds:6.2f} s")
        print(
            f"  polars (COPY out + summarise)     {polars_seconds:6.2f} s "
            f"(of which COPY out {copy_seconds:.2f} s)"
        )
        print(f"  polars / SQL                      {polars_seconds / sql_seconds:6.2f}x")
        assert frames["stats"].total_events == args.events

        drop_day, delete_day = date(2026, 9, 10), date(2026, 9, 11)
        load(url, drop_day, args.retention_events)
        load(url, delete_day, args.retention_events)

        def drop_partition() -> None:
            name = f"events_{drop_day:%Y%m%d}"
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"ALTER TABLE events DETACH PARTITION {name} CONCURRENTLY")
                conn.execute(f"DROP TABLE {name}")

        def delete_rows() -> None:
            first, last = day_bounds(delete_day)
            with pool.connection() as conn:
                ids = [
                    r["id"]
                    for r in conn.execute(
                        'SELECT id FROM events WHERE "timestamp" >= %s AND "timestamp" < %s',
                        (first, last),
                    ).fetchall()
                ]
                conn.execute(query("purge_events"), {"ids": ids}).fetchall()

        # The partition of DAY goes too when dropping before drop_day + 1: drop it first.
        with pool.connection() as conn:
            conn.execute(query("drop_partitions_before"), {"cutoff": DAY + timedelta(days=1)})
        drop_seconds = timed(drop_partition)
        delete_seconds = timed(delete_rows)
        print(f"retention of one day of {args.retention_events:,} events:")
        print(f"  row delete through purge_events   {delete_seconds:6.2f} s")
        print(f"  partition detach + drop           {drop_seconds:6.3f} s")
        print(f"  delete / drop                     {delete_seconds / drop_seconds:6.0f}x")
    finally:
        pool.close()
        drop_database(url)


if __name__ == "__main__":
    main()

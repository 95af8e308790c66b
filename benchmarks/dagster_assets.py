"""The Dagster assets' heavy parts against their baselines, in one run.

    python benchmarks/dagster_assets.py [--events 1000000] [--retention-events 200000]
        [--year-days 365] [--year-events-per-day 20000] [--no-cli] [--no-year]

1. One day's statistics at N events: polars (COPY out + summarise, what daily_event_stats does)
   against the equivalent SQL GROUP BY queries run in PostgreSQL.
2. Retention of one day: dropping its partition as retention does (DETACH PARTITION ...
   CONCURRENTLY, then its deleted_events rows and DROP TABLE: readers are not blocked), a day
   of M events against a day of M/10 (an O(1) drop: ``drop_large_vs_small`` near 1; after a
   CHECKPOINT, as an expired day's pages are long on disk), and
   deleting a day of M events through the purge path against dropping one
   (``delete_vs_drop``).
3. A year's backfill: 365 days of 20,000 events (7.3 million, loaded with COPY) materialized
   through Dagster as one run over the partition range (what a backfill with the single-run
   policy, or ``dagster asset materialize --partition-range``, launches), against one SQL
   GROUP BY (day, camera, type) over the same range. Best of two each, interleaved. Then the
   same range through the CLI once (``--no-cli`` skips it): start-up and the asset check
   ``daily_totals_match_log`` over the range (a second GROUP BY) included.
Throwaway databases on the DATABASE_URL server. Ends with one line: RESULT {json}.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from analytics_pipeline.daily_stats import (
    day_bounds,
    read_daily_stats,
    read_range,
    summarise_range,
)
from analytics_pipeline.db import create_pool, drop_database, migrate, query, with_database_name
from analytics_pipeline.eventlog import EventLog

YEAR_START = date(2025, 1, 1)
ROOT = Path(__file__).resolve().parent.parent

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/analytics")
DAY = date(2026, 9, 1)
KINDS = ("motion", "detection", "tracking", "anpr")
COPY_COLUMNS = (
    'COPY events (event_id, event_type, camera_id, "timestamp", frame_number,'
    " snapshot_path, event_data) FROM STDIN"
)
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
YEAR_GROUP_BY = (
    "SELECT (\"timestamp\" AT TIME ZONE 'UTC')::date AS day, camera_id, event_type, count(*) "
    'FROM events WHERE "timestamp" >= %(start)s AND "timestamp" < %(end)s GROUP BY 1, 2, 3'
)


def payload(i: int) -> dict:
    return {
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
    }[KINDS[i % 4]]


def day_template(per_day: int) -> str:
    """One day of events as COPY text, with @KEY@ and @DAY@ to fill in per day."""
    lines = []
    for i in range(per_day):
        moment = (datetime.min + timedelta(seconds=86_399 * i / per_day)).time().isoformat()
        kind, camera, data = KINDS[i % 4], f"cam-{i % 16:02d}", json.dumps(payload(i))
        lines.append(f"@KEY@{i:012x}\t{kind}\t{camera}\t@DAY@ {moment}+00\t{i}\t\\N\t{data}\n")
    return "".join(lines)


def load(url: str, days: list[date], per_day: int, connections: int = 2) -> float:
    """COPY ``per_day`` events into each day (over a few connections), VACUUM ANALYZE; the
    seconds it took."""
    began = time.perf_counter()
    pool = create_pool(url, max_size=1)
    EventLog(pool).ensure_partitions(days)
    pool.close()
    template = day_template(per_day)
    prefix = uuid.uuid4().hex[:12]

    def copy_days(share: list[date]) -> None:
        with (
            psycopg.connect(url) as conn,
            conn.cursor() as cursor,
            cursor.copy(COPY_COLUMNS) as copy,
        ):
            for day in share:
                key = f"{prefix}{(day - days[0]).days:08x}"
                copy.write(template.replace("@KEY@", key).replace("@DAY@", day.isoformat()))

    shares = [days[n::connections] for n in range(min(connections, len(days)))]
    with ThreadPoolExecutor(len(shares)) as workers:
        list(workers.map(copy_days, shares))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE events")
    return time.perf_counter() - began


def timed(action) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def bench_one_day(url: str, events: int, retention_events: int) -> dict:
    """Parts 1 and 2: one day's statistics, and retention of one day."""
    pool = create_pool(url, max_size=2)
    try:
        load(url, [DAY], events)
        start, end = day_bounds(DAY)
        window = f"\"timestamp\" >= '{start.isoformat()}' AND \"timestamp\" < '{end.isoformat()}'"

        def run_sql() -> None:
            with pool.connection() as conn:
                for statement in SQL_BASELINE:
                    conn.execute(statement.format(window=window)).fetchall()

        frames = {}

        def run_polars() -> None:
            frames["stats"] = summarise_range(DAY, DAY, read_range(pool, DAY, DAY).frame)[0]

        sql_seconds = min(timed(run_sql) for _ in range(2))
        polars_seconds = min(timed(run_polars) for _ in range(2))
        copy_seconds = min(timed(lambda: read_range(pool, DAY, DAY)) for _ in range(2))
        print(f"one day's statistics at {events:,} events (best of 2):")
        print(f"  SQL GROUP BY queries (baseline)   {sql_seconds:6.2f} s")
        print(
            f"  polars (COPY out + summarise)     {polars_seconds:6.2f} s "
            f"(of which COPY out {copy_seconds:.2f} s)"
        )
        print(f"  polars / SQL                      {polars_seconds / sql_seconds:6.2f}x")
        assert frames["stats"].total_events == events

        # Retention: two large days and two small ones dropped as retention drops a day
        # (DETACH ... CONCURRENTLY, then its deleted_events rows and the table in one
        # transaction), best of two each; and one large day deleted row by row.
        large_days = [date(2026, 9, 10), date(2026, 9, 11)]
        small_days = [date(2026, 9, 12), date(2026, 9, 13)]
        delete_day = date(2026, 9, 14)
        load(url, [*large_days, delete_day], retention_events)
        load(url, small_days, retention_events // 10)

        def drop_partition(day: date) -> tuple[float, float]:
            """Seconds for the whole drop, and of them the commit (the table's files go)."""
            name = sql.Identifier(f"events_{day:%Y%m%d}")
            parts = {"parent": sql.Identifier("events"), "partition": name}
            with psycopg.connect(url, autocommit=True) as conn:
                began = time.perf_counter()
                conn.execute(query("retention_detach", mode="CONCURRENTLY", **parts))
                with conn.transaction():
                    conn.execute(query("retention_forget_deleted_in", table=name))
                    conn.execute(query("retention_drop_table", table=name))
                    committing = time.perf_counter()
                ended = time.perf_counter()
            return ended - began, ended - committing

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

        # The partition of DAY goes too when dropping before DAY + 1: drop it first.
        with pool.connection() as conn:
            conn.execute(query("drop_partitions_before"), {"cutoff": DAY + timedelta(days=1)})
        # An expired day was written long ago: its pages are on disk, not waiting in memory.
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CHECKPOINT")
        large_drops, small_drops = [], []
        for large, small in zip(large_days, small_days, strict=True):  # interleaved
            large_drops.append(drop_partition(large))
            small_drops.append(drop_partition(small))
        (drop_large, commit_large), (drop_small, commit_small) = min(large_drops), min(small_drops)
        delete_seconds = timed(delete_rows)
        small_events = retention_events // 10
        rows = [
            (f"row delete through purge_events, {retention_events:,} events", delete_seconds),
            (f"partition drop, {retention_events:,} events", drop_large),
            ("  of which the commit (its files removed)", commit_large),
            (f"partition drop, {small_events:,} events", drop_small),
            ("  of which the commit (its files removed)", commit_small),
        ]
        print("retention of one day (drops: best of 2):")
        for label, seconds in rows:
            print(f"  {label:<48} {seconds:8.3f} s")
        print(f"  {'delete / drop':<48} {delete_seconds / drop_large:8.0f}x")
        print(f"  {'drop large day / drop small day':<48} {drop_large / drop_small:8.2f}x")
        return {
            "polars_vs_sql": round(polars_seconds / sql_seconds, 2),
            "drop_large_vs_small": round(drop_large / drop_small, 2),
            # The same without the commit, where the file system frees the table's files.
            "drop_before_commit_large_vs_small": round(
                (drop_large - commit_large) / (drop_small - commit_small), 2
            ),
            "delete_vs_drop": round(delete_seconds / drop_large, 1),
        }
    finally:
        pool.close()


def backfill_through_cli(url: str, first: date, last: date) -> float:
    """``analytics-pipeline dagster asset materialize --partition-range`` once: seconds."""
    from analytics_pipeline.config import Settings
    from analytics_pipeline.dagster_instance import dagster_postgres_url

    cli = str(Path(sys.executable).parent / "analytics-pipeline")
    command = [cli, "dagster", "asset", "materialize", "--select", "daily_event_stats"]
    command += ["--partition-range", f"{first}...{last}", "-f", "definitions.py"]
    env = os.environ | {"DATABASE_URL": url, "STATS_START_DATE": YEAR_START.isoformat()}
    try:
        began = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
        return time.perf_counter() - began
    finally:
        dagster_db = dagster_postgres_url(Settings(_env_file=None, database_url=url))
        drop_database(dagster_db.replace("postgresql+psycopg2://", "postgresql://", 1))


def bench_year(url: str, days: int, per_day: int, cli: bool) -> dict:
    """Part 3: a year's backfill through Dagster, one run, against one SQL GROUP BY."""
    from dagster import DagsterInstance, materialize
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    from assets.resources import EventLogResource
    from assets.statistics import daily_event_stats

    all_days = [YEAR_START + timedelta(days=n) for n in range(days)]
    first, last = all_days[0], all_days[-1]
    load_seconds = load(url, all_days, per_day)
    total = days * per_day
    print(f"a year's backfill: {days} days of {per_day:,} events ({total:,}), loaded with COPY")
    print(f"  load (COPY, 2 connections) + VACUUM ANALYZE  {load_seconds:6.1f} s")
    pool = create_pool(url, max_size=2)
    bounds = {"start": day_bounds(first)[0], "end": day_bounds(last)[1]}
    tags = {ASSET_PARTITION_RANGE_START_TAG: str(first), ASSET_PARTITION_RANGE_END_TAG: str(last)}
    runs: list[dict] = []

    def group_by() -> None:
        with pool.connection() as conn:
            rows = conn.execute(YEAR_GROUP_BY, bounds).fetchall()
        assert sum(r["count"] for r in rows) == total

    def backfill() -> None:
        with DagsterInstance.ephemeral() as instance:
            result = materialize(
                [daily_event_stats],
                tags=tags,
                instance=instance,
                resources={"event_log": EventLogResource(database_url=url)},
            )
            assert result.success
            runs.append({"runs": len(instance.get_runs()), "steps": result.all_events})

    try:
        sql_times, dagster_times = [], []
        for _ in range(2):  # interleaved, so both see the same machine
            sql_times.append(timed(group_by))
            dagster_times.append(timed(backfill))
        rows = read_daily_stats(pool, first, last)
        assert len(rows) == days and sum(r["total_events"] for r in rows) == total
        assert all(run["runs"] == 1 for run in runs)
        step = max(
            e.event_specific_data.duration_ms / 1000 for e in runs[-1]["steps"] if e.is_step_success
        )
        sql_s, dagster_s = min(sql_times), min(dagster_times)
        print(f"  SQL GROUP BY (day, camera, type), best of 2   {sql_s:6.2f} s")
        print(f"  Dagster, one run over the range, best of 2    {dagster_s:6.2f} s")
        print(f"    of which the asset's step                   {step:6.2f} s")
        print(f"  Dagster / SQL                                 {dagster_s / sql_s:6.2f}x")
        result = {
            "backfill_year_vs_sql": round(dagster_s / sql_s, 2),
            "backfill_year_s": round(dagster_s, 2),
            "sql_group_by_year_s": round(sql_s, 2),
            "backfill_step_s": round(step, 2),
            "year_events": total,
            "year_days": days,
            "runs_per_backfill": 1,
            "load_s": round(load_seconds, 1),
        }
        if cli:
            cli_s = backfill_through_cli(url, first, last)
            print(f"  the CLI (--partition-range; start-up, check)  {cli_s:6.2f} s")
            result["backfill_year_cli_s"] = round(cli_s, 2)
        return result
    finally:
        pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--retention-events", type=int, default=200_000)
    parser.add_argument("--year-days", type=int, default=365)
    parser.add_argument("--year-events-per-day", type=int, default=20_000)
    parser.add_argument("--no-cli", action="store_true", help="Skip the CLI backfill.")
    parser.add_argument("--no-year", action="store_true", help="Skip the year's backfill.")
    args = parser.parse_args()
    os.environ["STATS_START_DATE"] = YEAR_START.isoformat()  # the partitions hold the year
    sys.path.insert(0, str(ROOT))  # assets/ (imported by bench_year)
    began = time.perf_counter()
    result: dict = {}
    for part in ("day",) if args.no_year else ("day", "year"):
        name = f"analytics_bench_dagster_{part}_{uuid.uuid4().hex[:8]}"
        url = with_database_name(DATABASE_URL, name)
        migrate(url)
        try:
            if part == "day":
                result |= bench_one_day(url, args.events, args.retention_events)
            else:
                result |= bench_year(
                    url, args.year_days, args.year_events_per_day, cli=not args.no_cli
                )
        finally:
            drop_database(url)
    result["total_s"] = round(time.perf_counter() - began, 1)
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()

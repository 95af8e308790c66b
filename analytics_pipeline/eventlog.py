"""The append-only event log in PostgreSQL: append, follow, query and summarise."""

from __future__ import annotations

import json
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from analytics_pipeline.db import query
from analytics_pipeline.events import NewEvent, StoredEvent
from analytics_pipeline.payloads import EventDeletedData

Cursor = tuple[int, int]
"""A place in commit-safe order: (writing transaction id, position)."""

START: Cursor = (0, 0)


def format_cursor(cursor: Cursor) -> str:
    """A cursor as text, ``"txid:position"`` (stream messages, Dagster sensor cursors)."""
    return f"{cursor[0]}:{cursor[1]}"


def parse_cursor(text: bytes | str | None) -> Cursor:
    """The cursor written by :func:`format_cursor`; the log's start for ``None`` or ``""``."""
    if not text:
        return START
    value = text.decode() if isinstance(text, bytes) else text
    txid, _, position = value.partition(":")
    return int(txid), int(position)


TOMBSTONE_NAMESPACE = uuid.UUID("5b8f3f0e-2d0a-4c52-9a53-0c6f7c1d2e01")


@dataclass(frozen=True)
class EventFilter:
    """Filters shared by every read path; ``None`` means no filter. ``end`` is exclusive."""

    camera_ids: Sequence[str] | None = None
    event_types: Sequence[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    object_class: str | None = None
    plate: str | None = None
    """Substring of the plate text, case-, space- and punctuation-insensitive."""
    min_confidence: float | None = None
    track_id: int | None = None

    def params(self) -> dict[str, Any]:
        """The arguments of ``visible_events()`` in ``sql/migrations/0003_read_side.sql``."""
        return {
            "camera_ids": list(self.camera_ids) if self.camera_ids is not None else None,
            "event_types": list(self.event_types) if self.event_types is not None else None,
            "start": self.start,
            "end": self.end,
            "object_class": self.object_class,
            "plate": self.plate,
            "min_confidence": self.min_confidence,
            "track_id": self.track_id,
        }


@dataclass(frozen=True)
class EventStats:
    """Totals of a filtered slice of the log."""

    total_events: int
    events_by_type: dict[str, int] = field(default_factory=dict)
    events_by_camera: dict[str, int] = field(default_factory=dict)
    first_event: datetime | None = None
    last_event: datetime | None = None


@dataclass(frozen=True)
class PurgedEvent:
    """A row removed through the purge path, with the snapshot it pointed to."""

    id: int
    event_id: str
    snapshot_path: str | None


def append_params(events: Sequence[NewEvent]) -> dict[str, list[Any]]:
    """The column arrays that ``sql/queries/append_events.sql`` takes."""
    return {
        "event_ids": [e.event_id for e in events],
        "event_types": [e.event_type for e in events],
        "camera_ids": [e.camera_id for e in events],
        "timestamps": [e.timestamp for e in events],
        "frame_numbers": [e.frame_number for e in events],
        "snapshot_paths": [e.snapshot_path for e in events],
        "event_data": [json.dumps(e.event_data) for e in events],
    }


_ZERO = timedelta(0)


def _utc_day(moment: datetime) -> date:
    return (moment if moment.utcoffset() == _ZERO else moment.astimezone(UTC)).date()


def dump_json(value: Any) -> bytes:
    """JSON text of ``value`` (orjson; the standard library for what orjson refuses, such as
    integers beyond 64 bits)."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(value).encode()


STAGING_TYPES = ["int4", "uuid", "text", "text", "timestamptz", "int4", "text", "jsonb"]
"""The columns of the ``append_staging`` table, for binary COPY."""


def stage_batch(conn: psycopg.Connection, events: Sequence[NewEvent]) -> None:
    """Binary COPY of a batch into the session's ``append_staging`` table (which must exist)."""
    with conn.cursor() as cursor, cursor.copy(query("append_staging_copy")) as copy:
        copy.set_types(STAGING_TYPES)
        write = copy.write_row
        for ord_, e in enumerate(events):
            write(
                (
                    ord_,
                    e.event_id,
                    e.event_type,
                    e.camera_id,
                    e.timestamp,
                    e.frame_number,
                    e.snapshot_path,
                    Jsonb(e.event_data, dumps=dump_json),
                )
            )


def _tombstone(event: StoredEvent, snapshot_deleted: bool) -> NewEvent:
    """The ``event_deleted`` event that hides ``event`` (its id derived from the event's)."""
    return NewEvent(
        event_id=uuid.uuid5(TOMBSTONE_NAMESPACE, str(event.event_id)),
        event_type="event_deleted",
        camera_id=event.camera_id,
        timestamp=datetime.now(UTC),
        frame_number=event.frame_number,
        event_data=EventDeletedData(
            deleted_id=event.id,
            deleted_event_id=event.event_id,
            deleted_event_type=event.event_type,
            deleted_timestamp=event.timestamp,
            snapshot_deleted=snapshot_deleted,
        ).event_data(),
    )


class EventLog:
    """Reads and appends events through a connection pool."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool
        self._days_with_partition: set[date] = set()
        self._staged: weakref.WeakSet[psycopg.Connection] = weakref.WeakSet()

    def append(self, events: Sequence[NewEvent]) -> list[int | None]:
        """Append a batch in one transaction (one binary COPY, one statement).

        Returns, for each input event, its new position, or ``None`` when an event with the
        same ``event_id`` was stored before (or earlier in the batch): appending twice
        stores once.
        """
        if not events:
            return []
        with self.pool.connection() as conn:
            if conn not in self._staged:
                conn.execute(query("append_staging_create"))
                conn.commit()  # the temporary table outlives this append
                self._staged.add(conn)
            return self.append_in(conn, events)

    def append_in(self, conn: psycopg.Connection, events: Sequence[NewEvent]) -> list[int | None]:
        """:meth:`append` on ``conn``, inside the caller's transaction when one is open (a
        savepoint: the analyzer's fenced sink checks its leases and appends in one)."""
        try:
            with conn.transaction():
                return self._append_in(conn, events)
        except psycopg.errors.UndefinedTable:
            # The session lost its staging table (DISCARD TEMP, a pooler's other session).
            self._staged.discard(conn)
            with conn.transaction():
                return self._append_in(conn, events)
        except psycopg.errors.CheckViolation as exc:
            if "no partition" not in str(exc):
                raise
            # A partition this process thought existed was dropped by retention meanwhile.
            self._days_with_partition.clear()
            with conn.transaction():
                return self._append_in(conn, events)

    def _append_in(self, conn: psycopg.Connection, events: Sequence[NewEvent]) -> list[int | None]:
        """Append inside the caller's transaction: one binary COPY into the session's staging
        table, then ``append_staged()`` (``sql/migrations/0006_append_and_count_speed.sql``)."""
        days = {_utc_day(e.timestamp) for e in events}
        missing = sorted(days - self._days_with_partition)
        if missing:
            conn.execute(query("ensure_partitions"), {"days": missing})
        if conn not in self._staged:  # made in this transaction: it may be rolled back
            conn.execute(query("append_staging_create"))
        firsts: dict[uuid.UUID, NewEvent] = {}
        for event in events:
            firsts.setdefault(event.event_id, event)  # a repeat in the batch is skipped
        stage_batch(conn, list(firsts.values()))
        rows = conn.execute(query("append_staged"), {"batch_size": len(firsts)}).fetchall()
        self._days_with_partition |= days
        positions = {row["event_id"]: row["id"] for row in rows}
        return [positions.pop(e.event_id, None) for e in events]

    def delete(self, position: int, *, snapshot_deleted: bool = False) -> StoredEvent | None:
        """Hide an event from every read at once by appending a tombstone.

        The tombstone (``event_deleted``) carries the deleted position and event id; its own
        event id is derived from the deleted one, so deleting twice stores one tombstone. The
        event's ``clip_ready`` events (its clips) are deleted with it, in the same transaction.
        Returns the deleted event, or ``None`` when there is no visible event there.
        """
        with self.pool.connection() as conn, conn.transaction():
            event = self._fetch_in(conn, "get_event", {"id": position})
            if not event or not conn.execute(query("mark_deleted"), {"id": position}).fetchone():
                return None
            clips = self._clips_in(conn, event[0])
            gone = [event[0]] + [
                clip
                for clip in clips
                if conn.execute(query("mark_deleted"), {"id": clip.id}).fetchone()
            ]
            self._append_in(conn, [_tombstone(e, snapshot_deleted) for e in gone])
        return event[0]

    def clips_of(self, event: StoredEvent) -> list[StoredEvent]:
        """The visible ``clip_ready`` events of ``event`` (none for a ``clip_ready`` itself)."""
        with self.pool.connection() as conn:
            return self._clips_in(conn, event)

    def _clips_in(self, conn: psycopg.Connection, event: StoredEvent) -> list[StoredEvent]:
        if event.event_type == "clip_ready":
            return []
        params = {"camera_id": event.camera_id, "ts": event.timestamp}
        return self._fetch_in(conn, "clip_events_of", params | {"event_id": str(event.event_id)})

    def ensure_partitions(self, days: Sequence[date]) -> int:
        """Create the day partitions that do not exist yet; return how many were made."""
        with self.pool.connection() as conn:
            row = conn.execute(query("ensure_partitions"), {"days": list(days)}).fetchone()
        self._days_with_partition |= set(days)
        return int(row["ensure_event_partitions"]) if row else 0

    def ping(self) -> None:
        """Raise when PostgreSQL cannot answer."""
        with self.pool.connection(timeout=3) as conn:
            conn.execute("SELECT 1")

    def read_after(self, cursor: Cursor, limit: int = 1000) -> list[StoredEvent]:
        """Committed events after ``cursor`` in commit-safe order.

        Only rows of transactions older than every running one are returned, so a row that a
        slower writer commits late still comes after the cursor and is never skipped.
        """
        params = {"txid": cursor[0], "id": cursor[1], "limit": limit}
        return self._fetch_events("read_committed_after", params)

    def read_tail(self, limit: int) -> list[StoredEvent]:
        """The newest ``limit`` committed events, oldest first, in commit-safe order."""
        return self._fetch_events("read_tail", {"limit": limit})

    def query(
        self,
        event_filter: EventFilter = EventFilter(),
        *,
        limit: int = 50,
        before_id: int | None = None,
        after_id: int | None = None,
        descending: bool = True,
        offset: int = 0,
    ) -> list[StoredEvent]:
        """Visible events ordered by position, newest first unless ``descending`` is false.

        ``before_id`` / ``after_id`` are keyset bounds (exclusive) on the position; ``offset``
        serves the page numbers of the original REST routes.
        """
        params = event_filter.params() | {
            "before_id": before_id,
            "after_id": after_id,
            "limit": limit,
            "offset": offset,
        }
        sql = query("query_events", direction="DESC" if descending else "ASC")
        with self.pool.connection() as conn:
            rows = conn.execute(sql, params, binary=True, prepare=False).fetchall()
        return [StoredEvent.model_validate(row) for row in rows]

    def query_with_count(
        self, event_filter: EventFilter, *, limit: int, offset: int = 0
    ) -> tuple[list[StoredEvent], int]:
        """A page of visible events, newest first, and how many match the filter, in one
        statement (``query_events_with_count.sql``): one connection, one round trip."""
        params = event_filter.params() | {"limit": limit, "offset": offset}
        with self.pool.connection() as conn:
            rows = conn.execute(
                query("query_events_with_count"), params, binary=True, prepare=False
            ).fetchall()
        total = int(rows[0].pop("total"))
        events = []
        for row in rows:
            row.pop("total", None)
            if row["id"] is not None:
                events.append(StoredEvent.model_validate(row))
        return events, total

    def count(self, event_filter: EventFilter = EventFilter()) -> int:
        """How many events match the filter."""
        with self.pool.connection() as conn:
            row = conn.execute(query("count_events"), event_filter.params(), prepare=False)
            return int(row.fetchone()["count"])  # type: ignore[index]

    def count_by_hour(
        self, event_filter: EventFilter = EventFilter()
    ) -> list[tuple[datetime, int]]:
        """(start of UTC hour, events) for every hour that has events, oldest first."""
        with self.pool.connection() as conn:
            rows = conn.execute(query("count_by_hour"), event_filter.params(), prepare=False)
            return [(row["hour"], int(row["n"])) for row in rows.fetchall()]

    def get(self, position: int) -> StoredEvent | None:
        """The visible event at a position, or ``None`` (missing or deleted)."""
        rows = self._fetch_events("get_event", {"id": position})
        return rows[0] if rows else None

    def get_many(self, positions: Sequence[int]) -> dict[int, StoredEvent]:
        """Visible events by position in one query (for batched loading)."""
        rows = self._fetch_events("get_events", {"ids": list(positions)})
        return {event.id: event for event in rows}

    def stats(self, event_filter: EventFilter = EventFilter()) -> EventStats:
        """Total, per type, per camera, and the first and last timestamps, in one scan."""
        with self.pool.connection() as conn:
            rows = conn.execute(
                query("event_stats"), event_filter.params(), prepare=False
            ).fetchall()
        total = next((r for r in rows if r["by_type_rollup"] and r["by_camera_rollup"]), None)
        by_type = {r["event_type"]: r["n"] for r in rows if not r["by_type_rollup"]}
        by_camera = {r["camera_id"]: r["n"] for r in rows if not r["by_camera_rollup"]}
        return EventStats(
            total_events=int(total["n"]) if total else 0,
            events_by_type=dict(sorted(by_type.items())),
            events_by_camera=dict(sorted(by_camera.items())),
            first_event=total["first_event"] if total else None,
            last_event=total["last_event"] if total else None,
        )

    def purge(self, positions: Sequence[int]) -> list[PurgedEvent]:
        """Remove events through the explicit purge path (retention, erasure), with their
        ``deleted_events`` rows."""
        with self.pool.connection() as conn, conn.transaction():
            rows = conn.execute(query("purge_events"), {"ids": list(positions)}).fetchall()
        return [PurgedEvent(r["id"], str(r["event_id"]), r["snapshot_path"]) for r in rows]

    def _fetch_events(self, name: str, params: dict[str, Any]) -> list[StoredEvent]:
        with self.pool.connection() as conn:
            return self._fetch_in(conn, name, params)

    @staticmethod
    def _fetch_in(conn: psycopg.Connection, name: str, params: dict[str, Any]) -> list[StoredEvent]:
        # Binary results parse about twice as fast as text for these column types.
        rows = conn.execute(query(name), params, binary=True, prepare=False).fetchall()
        return [StoredEvent.model_validate(row) for row in rows]

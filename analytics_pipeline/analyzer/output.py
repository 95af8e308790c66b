"""Where the analyzer's events go: snapshot file first, then the log, then (through the relay)
Redis. While PostgreSQL is down, events wait in a bounded buffer that spills to a local JSON
lines file when full and drains, oldest first, when the database is back: nothing is lost,
and the event ids make the retry idempotent.

With camera leases (``fence``, a :class:`~analytics_pipeline.leases.LeaseKeeper`), an event
is accepted only while this process holds its camera's lease (:class:`LeaseLost` otherwise,
before anything is written), and stored only while the lease row still carries this owner
and the token it was made under: the check and the append share one transaction, the lease
rows locked, so a process that lost a camera (paused past its lease, then taken over)
appends nothing more for it."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from datetime import datetime
from pathlib import Path

import numpy as np
import psycopg
import psycopg_pool

from analytics_pipeline.db import query
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.events import NewEvent
from analytics_pipeline.leases import LeaseKeeper, LeaseLost
from analytics_pipeline.metrics import BUFFERED_EVENTS, EVENTS_EMITTED, EVENTS_FENCED
from analytics_pipeline.snapshots import EncodedFile, SnapshotStore

log = logging.getLogger(__name__)


class EventSink:
    """Accepts events from camera workers (thread-safe) and stores them in order."""

    def __init__(
        self,
        event_log: EventLog,
        snapshots: SnapshotStore,
        spill_file: Path,
        *,
        buffer_size: int = 10_000,
        fence: LeaseKeeper | None = None,
    ) -> None:
        self.event_log = event_log
        self.snapshots = snapshots
        self.spill_file = spill_file
        self.buffer: deque[NewEvent] = deque()
        self.buffer_size = buffer_size
        self.lock = threading.Lock()
        self.stored = 0
        self.failures = 0
        self.outage_reported = False
        self.next_attempt = 0.0
        self.retry_seconds = 2.0
        self.fence = fence
        self.tokens: dict[str, int] = {}  # event id -> the lease token it was made under
        self.fenced = 0  # events refused or dropped: their camera's lease was lost
        self._spilled = 0

    def emit(
        self,
        camera_id: str,
        event_type: str,
        moment: datetime,
        frame_number: int,
        data: dict,
        image: np.ndarray | EncodedFile | None,
    ) -> NewEvent:
        """Write the snapshot (an image, or an already encoded clip), then queue the event and
        try to store what is queued.

        With a ``fence``: :class:`LeaseLost`, nothing written, when the camera's lease is not
        held here any more."""
        token = None
        if self.fence is not None:
            try:
                token = self.fence.check(camera_id)
            except LeaseLost:
                EVENTS_FENCED.labels(camera=camera_id).inc()
                self.fenced += 1
                raise
        path = (
            self.snapshots.write(camera_id, event_type, moment, image)
            if image is not None
            else None
        )
        event = NewEvent(
            event_type=event_type,
            camera_id=camera_id,
            timestamp=moment,
            frame_number=frame_number,
            snapshot_path=path,
            event_data=data,
        )
        with self.lock:
            if len(self.buffer) >= self.buffer_size:
                self._spill()
            self.buffer.append(event)
            if token is not None:
                self.tokens[str(event.event_id)] = token
            BUFFERED_EVENTS.set(len(self.buffer) + self._spilled)
        EVENTS_EMITTED.labels(camera=camera_id, event_type=event_type).inc()
        self.flush()
        return event

    @property
    def pending(self) -> int:
        """Events not yet in the log (in memory and spilled)."""
        with self.lock:
            return len(self.buffer) + self._spilled_count()

    def flush(self, *, force: bool = False) -> bool:
        """Store every waiting event; False (keeping them) while PostgreSQL is unreachable.

        During an outage a new attempt is made at most every ``retry_seconds`` unless forced,
        so that camera workers are not held up by connection time-outs."""
        with self.lock:
            if not force and time.monotonic() < self.next_attempt:
                return False
            batch = self._read_spill() + list(self.buffer)
            if not batch:
                return True
            try:
                self._append(batch)
            except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
                self.failures += 1
                self.next_attempt = time.monotonic() + self.retry_seconds
                if not self.outage_reported:
                    log.error(
                        "PostgreSQL unreachable, %d event(s) wait to be stored: %s", len(batch), exc
                    )
                    self.outage_reported = True
                BUFFERED_EVENTS.set(len(batch))
                return False
            if self.outage_reported:
                log.warning("PostgreSQL is back: stored %d waiting event(s)", len(batch))
                self.outage_reported = False
            self.stored += len(batch)
            self.buffer.clear()
            self.spill_file.unlink(missing_ok=True)
            self._spilled = 0
            for event in batch:
                self.tokens.pop(str(event.event_id), None)
            BUFFERED_EVENTS.set(0)
            return True

    def _append(self, batch: list[NewEvent]) -> None:
        """Append ``batch``; with a fence, only the events whose camera's lease row still
        carries this owner and their token, in the transaction that locks those rows."""
        if self.fence is None:
            self.event_log.append(batch)
            return
        cameras = sorted({event.camera_id for event in batch})
        params = {"owner": self.fence.owner, "camera_ids": cameras}
        with self.event_log.pool.connection() as conn, conn.transaction():
            rows = conn.execute(query("lease_tokens"), params).fetchall()
            held = {row["camera_id"]: row["token"] for row in rows}
            kept = [e for e in batch if held.get(e.camera_id) == self.tokens.get(str(e.event_id))]
            dropped = len(batch) - len(kept)
            if dropped:
                lost = sorted({e.camera_id for e in batch} - {e.camera_id for e in kept})
                log.warning(
                    "dropped %d event(s) of camera(s) %s: their lease was taken over",
                    dropped,
                    ", ".join(lost) or "?",
                )
                for event in batch:
                    if held.get(event.camera_id) != self.tokens.get(str(event.event_id)):
                        EVENTS_FENCED.labels(camera=event.camera_id).inc()
                self.fenced += dropped
            if kept:
                # The log's append inside this transaction (it retries a dropped partition).
                self.event_log.append_in(conn, kept)

    def _spill(self) -> None:
        self.spill_file.parent.mkdir(parents=True, exist_ok=True)
        with self.spill_file.open("a") as handle:
            for event in self.buffer:
                handle.write(event.model_dump_json() + "\n")
            handle.flush()
        log.warning(
            "event buffer full: spilled %d event(s) to %s", len(self.buffer), self.spill_file
        )
        self._spilled += len(self.buffer)
        self.buffer.clear()

    def _read_spill(self) -> list[NewEvent]:
        if not self.spill_file.exists():
            return []
        return [
            NewEvent.model_validate(json.loads(line))
            for line in self.spill_file.read_text().splitlines()
            if line.strip()
        ]

    def _spilled_count(self) -> int:
        if not self.spill_file.exists():
            return 0
        return sum(1 for line in self.spill_file.read_text().splitlines() if line.strip())

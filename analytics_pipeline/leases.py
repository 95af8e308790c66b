"""Camera leases in PostgreSQL: which analyzer process, on any machine, analyses each camera.

Each ``analyze`` process (and each of its ``--workers``) is one *owner* (``host:pid``). It
claims cameras that are free or whose lease expired by the database's clock, up to its fair
share (the enabled cameras divided by the live analyzers, ``analyzer_members``) and never past
its capacity (``--max-cameras``), renews them every ``lease_seconds / 3`` and releases them on
a clean exit. Cameras free for a whole lease period (every other analyzer is full) are taken
beyond the fair share, up to the capacity.

Fencing: a lease is valid *here* until ``lease_seconds`` (less a margin) after the renewal
that was sent, measured on the monotonic clock, which keeps running while a process is paused
(SIGSTOP). Past that the camera's events are refused (:class:`LeaseLost`) and its worker
stops, even before the database says so. Every claim raises the camera's fencing token, and
the event sink appends a camera's events only while the lease row still carries this owner
and the token the events were made under (``sql/queries/lease_tokens.sql``, locked for the
append), so a paused process that lost a camera appends nothing more for it.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from psycopg_pool import ConnectionPool

from analytics_pipeline.db import query
from analytics_pipeline.dependencies import UNREACHABLE, OutageLog
from analytics_pipeline.errors import PipelineError

log = logging.getLogger(__name__)
UNLIMITED = 1_000_000  # cameras: the capacity of an analyzer without --max-cameras


class LeaseLost(PipelineError):
    """This process no longer holds the camera's lease: it must not emit for it."""


def owner_name() -> str:
    """This process as a lease owner: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Lease:
    """A camera held by this process: its fencing token and, on the monotonic clock, the
    moment until which this process may emit for it."""

    camera_id: str
    token: int
    valid_until: float


def database_now(pool: ConnectionPool) -> datetime:
    """The database's clock."""
    with pool.connection() as conn:
        row = conn.execute(query("database_now")).fetchone()
    return row["now"]  # type: ignore[index]


class LeaseKeeper:
    """Claims, renews and releases this process's camera leases (thread-safe)."""

    def __init__(
        self,
        pool: ConnectionPool,
        *,
        lease_seconds: float,
        capacity: int | None = None,
        owner: str | None = None,
        fair_share: bool = True,
    ) -> None:
        self.pool = pool
        self.lease_seconds = lease_seconds
        self.capacity = capacity
        self.owner = owner or owner_name()
        self.fair_share = fair_share
        self.margin = min(1.0, lease_seconds / 10)
        self.not_claimed_since: datetime | None = None
        self._held: dict[str, Lease] = {}
        self._candidates: list[str] = []
        self._lock = threading.Lock()
        self.outages = OutageLog(log)

    # What this process holds, by the local monotonic clock.

    def token(self, camera_id: str) -> int | None:
        """The camera's fencing token while its lease is valid here, else ``None``."""
        with self._lock:
            lease = self._held.get(camera_id)
        if lease is None or time.monotonic() >= lease.valid_until:
            return None
        return lease.token

    def check(self, camera_id: str) -> int:
        """The camera's fencing token; :class:`LeaseLost` when its lease is not valid here."""
        token = self.token(camera_id)
        if token is None:
            raise LeaseLost(f"camera {camera_id}: lease not held by {self.owner} any more")
        return token

    def held(self) -> list[str]:
        """The cameras whose lease is valid here, sorted."""
        now = time.monotonic()
        with self._lock:
            return sorted(c for c, lease in self._held.items() if now < lease.valid_until)

    def forget_lapsed(self) -> list[str]:
        """Drop (and return) the leases that lapsed here: their cameras must stop. The rows
        stay as they are; the token keeps the events made before valid for the append."""
        now = time.monotonic()
        with self._lock:
            lapsed = [c for c, lease in self._held.items() if now >= lease.valid_until]
            for camera_id in lapsed:
                del self._held[camera_id]
        for camera_id in lapsed:
            log.warning("camera %s: lease lapsed (not renewed in time): stopping it", camera_id)
        return lapsed

    # Talking to PostgreSQL.

    def _store(self, rows: Sequence[dict], started: float, *, renewal: bool = False) -> None:
        valid_until = started + self.lease_seconds - self.margin
        with self._lock:
            for row in rows:
                held = self._held.get(row["camera_id"])
                if renewal and (held is None or held.token != row["token"]):
                    continue  # released (or claimed anew) while the renewal ran
                self._held[row["camera_id"]] = Lease(row["camera_id"], row["token"], valid_until)

    def _claim(self, candidates: list[str], limit: int, min_free_seconds: float) -> list[str]:
        with self._lock:  # claiming one held here again would change its token
            candidates = [c for c in candidates if c not in self._held]
        if limit <= 0 or not candidates:
            return []
        params = {
            "owner": self.owner,
            "seconds": self.lease_seconds,
            "camera_ids": candidates,
            "limit": limit,
            "min_free_seconds": min_free_seconds,
            "not_claimed_since": self.not_claimed_since,
        }
        started = time.monotonic()
        with self.pool.connection() as conn:
            rows = conn.execute(query("lease_claim"), params).fetchall()
        self._store(rows, started)
        for row in rows:
            log.info("camera %s: lease claimed (token %d)", row["camera_id"], row["token"])
        return [row["camera_id"] for row in rows]

    def _heartbeat(self) -> tuple[int, int, int]:
        """Say this process is alive; (live analyzers, enabled candidate cameras, the room
        the others have below their fair share)."""
        params = {
            "owner": self.owner,
            "capacity": self.capacity or UNLIMITED,
            "seconds": self.lease_seconds,
            "camera_ids": self._candidates,
        }
        with self.pool.connection() as conn:
            row = conn.execute(query("member_heartbeat"), params).fetchone()
        return int(row["members"]), int(row["cameras"]), int(row["room"])  # type: ignore[index]

    def target(self, members: int, cameras: int) -> int:
        """How many cameras this process should hold: its fair share of ``cameras`` among
        ``members`` live analyzers, within its capacity (without fair share: the capacity)."""
        capacity = self.capacity if self.capacity is not None else UNLIMITED
        if not self.fair_share:
            return capacity
        return min(capacity, math.ceil(cameras / max(1, members)))

    def claim(self, candidates: Sequence[str]) -> tuple[list[str], int]:
        """Claim free cameras among ``candidates`` up to the fair share (and, past it, those
        free for a whole lease period, up to the capacity); return the cameras claimed now
        and how many held ones to give back: past the fair share, as many as the analyzers
        below theirs can take (none when the others are full: no camera goes back and forth)."""
        self._candidates = sorted(candidates)
        members, cameras, room = self._heartbeat()
        target = self.target(members, cameras)
        held = len(self.held())
        claimed = self._claim(self._candidates, target - held, 0.0)
        if not self.fair_share:
            return claimed, 0
        capacity = self.capacity if self.capacity is not None else UNLIMITED
        spare = capacity - held - len(claimed)
        if spare > 0:
            claimed += self._claim(self._candidates, spare, self.lease_seconds)
        return claimed, min(room, max(0, held + len(claimed) - target))

    def renew(self) -> list[str]:
        """Renew every lease held; return the cameras lost (taken over or released by
        someone else). A database that does not answer changes nothing here: the leases
        lapse on their own (:meth:`forget_lapsed`)."""
        with self._lock:
            leases = list(self._held.values())
        if not leases:
            self._heartbeat()
            return []
        params = {
            "owner": self.owner,
            "seconds": self.lease_seconds,
            "camera_ids": [lease.camera_id for lease in leases],
            "tokens": [lease.token for lease in leases],
        }
        started = time.monotonic()
        with self.pool.connection() as conn:
            rows = conn.execute(query("lease_renew"), params).fetchall()
        self._heartbeat()
        self._store(rows, started, renewal=True)
        renewed = {row["camera_id"] for row in rows}
        lost = []
        with self._lock:
            for lease in leases:
                current = self._held.get(lease.camera_id)
                if lease.camera_id not in renewed and current and current.token == lease.token:
                    del self._held[lease.camera_id]
                    lost.append(lease.camera_id)
        for camera_id in lost:
            log.warning("camera %s: lease lost to another analyzer: stopping it", camera_id)
        return lost

    def release(self, camera_ids: Sequence[str]) -> None:
        """Give these cameras' leases back (free at once for another analyzer)."""
        with self._lock:
            leases = [self._held.pop(c) for c in camera_ids if c in self._held]
        if not leases:
            return
        params = {
            "owner": self.owner,
            "camera_ids": [lease.camera_id for lease in leases],
            "tokens": [lease.token for lease in leases],
        }
        with self.pool.connection() as conn:
            conn.execute(query("lease_release"), params)
        log.info("released %d camera lease(s): %s", len(leases), ", ".join(params["camera_ids"]))

    def leave(self) -> None:
        """Release every lease and leave the live analyzers (a clean exit)."""
        try:
            self.release([lease.camera_id for lease in list(self._held.values())])
            with self.pool.connection(timeout=5) as conn:
                conn.execute(query("member_leave"), {"owner": self.owner})
        except UNREACHABLE as exc:
            log.warning("could not release the camera leases (they expire): %s", exc)

    def keep_renewing(
        self, stop: threading.Event, on_lost: Callable[[list[str]], object]
    ) -> threading.Thread:
        """Renew every ``lease_seconds / 3`` in a thread until ``stop``; ``on_lost`` gets
        the cameras lost at each renewal."""

        def loop() -> None:
            while not stop.wait(self.lease_seconds / 3):
                try:
                    lost = self.renew()
                except UNREACHABLE as exc:
                    self.outages.down("PostgreSQL", exc)
                    continue
                except Exception:  # e.g. a database not migrated: the leases lapse here
                    log.exception("cannot renew the camera leases")
                    continue
                self.outages.up("PostgreSQL")
                if lost:
                    try:
                        on_lost(lost)
                    except Exception:  # the renewals must go on whatever the callback does
                        log.exception("could not stop the cameras whose lease was lost")

        thread = threading.Thread(target=loop, name="leases", daemon=True)
        thread.start()
        return thread

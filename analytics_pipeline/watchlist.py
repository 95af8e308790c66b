"""The plate watchlist: plates to look out for, and the ``plate_match`` events they cause.

Matching rule (one ``anpr`` event's ``event_data.plate`` against each watched plate):

1. Both plates are normalised: upper case, letters and digits only (``ab-12 cde`` is
   ``AB12CDE``), as the analyzer stores them.
2. **Exact**: the normalised plates are equal (``distance`` 0, ``match`` ``"exact"``).
3. **Near** (one OCR confusion): the characters OCR confuses are mapped to one form on both
   sides, ``0``->``O``, ``1``->``I``, ``8``->``B``, ``5``->``S``, ``2``->``Z``, and the mapped
   plates are then at most one edit apart (Levenshtein: one insertion, deletion or
   substitution of any character). Confusions therefore cost nothing: ``A8I2CDE`` is near
   ``AB12CDE`` (distance 0 after mapping), and so is ``AB12CDF`` (one substitution).
   Near matches are considered only for watched plates of at least ``MIN_NEAR_LENGTH`` (4)
   characters; shorter ones match exactly or not at all.

``distance`` is the edit distance after mapping (0 or 1) and ``edits`` the plain edit
distance between the normalised plates as read. Each (anpr event, matching watched plate)
appends one ``plate_match`` event whose ``event_id`` is a UUID5 of the source event's id and
the watched plate: the log's append is idempotent on ``event_id``, so processing an event
twice appends nothing twice.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from psycopg_pool import ConnectionPool
from pydantic import BaseModel

from analytics_pipeline.consumers.message import StreamMessage
from analytics_pipeline.db import query
from analytics_pipeline.errors import PipelineError
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.events import NewEvent
from analytics_pipeline.payloads import PlateMatchData

log = logging.getLogger(__name__)

PLATE_MATCH_NAMESPACE = uuid.UUID("0f1d6a52-93c4-4b0e-8a57-3e5f8c2d7b10")
MAX_PLATE_LENGTH = 16
MIN_NEAR_LENGTH = 4
CONFUSIONS = str.maketrans({"0": "O", "1": "I", "8": "B", "5": "S", "2": "Z"})
_NOT_PLATE = re.compile(r"[^A-Z0-9]")


class WatchlistError(PipelineError):
    """A plate that cannot be watched."""


def normalise_plate(text: str) -> str:
    """Upper case, letters and digits only (the analyzer's normal form)."""
    return _NOT_PLATE.sub("", text.upper())


def confusion_form(plate: str) -> str:
    """``plate`` with each OCR-confusable character mapped to one form (0->O, 1->I, ...)."""
    return plate.translate(CONFUSIONS)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions, each costing 1."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


class WatchedPlate(BaseModel):
    """A plate on the watchlist."""

    plate: str
    label: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class PlateMatch:
    """A read plate that matches a watched one."""

    watched_plate: str
    label: str
    read_plate: str
    distance: int
    """Edit distance after mapping the confusable characters (0 or 1)."""
    edits: int
    """Plain edit distance between the normalised plates."""

    @property
    def kind(self) -> str:
        """``"exact"`` or ``"near"``."""
        return "exact" if self.edits == 0 else "near"


def compare_plates(watched: str, read: str) -> tuple[int, int] | None:
    """``(distance, edits)`` when ``read`` matches ``watched`` by the module's rule, else
    ``None``. Both are normalised first."""
    watched, read = normalise_plate(watched), normalise_plate(read)
    if not watched or not read:
        return None
    if watched == read:
        return 0, 0
    if len(watched) < MIN_NEAR_LENGTH or abs(len(watched) - len(read)) > 1:
        return None
    distance = edit_distance(confusion_form(watched), confusion_form(read))
    if distance > 1:
        return None
    return distance, edit_distance(watched, read)


def match_plate(read: str, watchlist: Iterable[WatchedPlate]) -> list[PlateMatch]:
    """Every watched plate that ``read`` matches, exact matches first."""
    found = []
    for watched in watchlist:
        compared = compare_plates(watched.plate, read)
        if compared is not None:
            distance, edits = compared
            found.append(
                PlateMatch(watched.plate, watched.label, normalise_plate(read), distance, edits)
            )
    return sorted(found, key=lambda m: (m.edits, m.distance, m.watched_plate))


def plate_match_event_id(source_event_id: str | uuid.UUID, watched_plate: str) -> uuid.UUID:
    """The ``plate_match`` event's id: the same for the same source event and watched plate."""
    return uuid.uuid5(PLATE_MATCH_NAMESPACE, f"{source_event_id}:{watched_plate}")


class Watchlist:
    """The watched plates in PostgreSQL."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def watch(self, plate: str, label: str = "") -> WatchedPlate:
        """Watch ``plate`` (normalised), or change its label."""
        normal = normalise_plate(plate)
        if not normal:
            raise WatchlistError(f"{plate!r} has no letters or digits: not a plate")
        if len(normal) > MAX_PLATE_LENGTH:
            raise WatchlistError(f"a plate has at most {MAX_PLATE_LENGTH} letters and digits")
        if "\x00" in label or len(label) > 200:
            raise WatchlistError("a label has at most 200 characters, without NUL")
        with self.pool.connection() as conn:
            row = conn.execute(query("watchlist_upsert"), {"plate": normal, "label": label})
            return WatchedPlate.model_validate(row.fetchone())

    def unwatch(self, plate: str) -> bool:
        """Stop watching ``plate``; ``False`` when it was not watched."""
        with self.pool.connection() as conn:
            row = conn.execute(query("watchlist_delete"), {"plate": normalise_plate(plate)})
            return row.fetchone() is not None

    def list(self) -> list[WatchedPlate]:
        """Every watched plate, in order."""
        with self.pool.connection() as conn:
            rows = conn.execute(query("watchlist_list")).fetchall()
        return [WatchedPlate.model_validate(row) for row in rows]


def plate_match_events(message: StreamMessage, matches: Iterable[PlateMatch]) -> list[NewEvent]:
    """The ``plate_match`` events for one ``anpr`` event's matches."""
    data = message.data
    timestamp = datetime.fromisoformat(message.fields["timestamp"])
    return [
        NewEvent(
            event_id=plate_match_event_id(message.event_id, match.watched_plate),
            event_type="plate_match",
            camera_id=message.camera_id,
            timestamp=timestamp,
            frame_number=int(message.fields.get("frame_number") or 0),
            event_data=PlateMatchData(
                watched_plate=match.watched_plate,
                label=match.label,
                read_plate=match.read_plate,
                distance=match.distance,
                edits=match.edits,
                match=match.kind,
                source_event_id=message.event_id,
                source_position=message.position,
                camera_id=message.camera_id,
                confidence=data.get("confidence"),
                track_id=data.get("track_id"),
            ).event_data(),
        )
        for match in matches
    ]


class PlateMatcher:
    """The watchlist consumer group's handler: ``anpr`` events in, ``plate_match`` events out."""

    def __init__(self, watchlist: Watchlist, event_log: EventLog) -> None:
        self.watchlist = watchlist
        self.event_log = event_log

    def __call__(self, message: StreamMessage) -> list[int | None]:
        """Append the event's ``plate_match`` events; return their positions (``None``: it
        was appended before)."""
        if message.event_type != "anpr" or not message.event_id:
            return []
        plate = message.data.get("plate")
        if not isinstance(plate, str) or not plate:
            return []
        matches = match_plate(plate, self.watchlist.list())
        if not matches:
            return []
        positions = self.event_log.append(plate_match_events(message, matches))
        for match, position in zip(matches, positions, strict=True):
            if position is not None:
                log.info(
                    "plate %s seen on %s matches watched %s (%s)",
                    match.read_plate,
                    message.camera_id,
                    match.watched_plate,
                    match.kind,
                )
        return positions

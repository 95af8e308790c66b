"""Plate search within one OCR confusion, for ``EventFilter.plateFuzzy`` and ``plateSightings``.

A fuzzy match (:func:`analytics_pipeline.watchlist.compare_plates`: edit distance 1, with O/0,
I/1, B/8, S/5, Z/2 near) cannot be a substring filter, so the ``anpr`` events of the rest of the
filter are read page by page in log order and compared in Python; an exact plate narrows the
read with the SQL plate filter first. A scan reads at most ``MAX_SCANNED`` events, so one query
never reads the whole log: past it a page may end early (the cursor still pages on).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace

from analytics_pipeline.eventlog import EventFilter, EventLog
from analytics_pipeline.events import StoredEvent
from analytics_pipeline.watchlist import compare_plates, normalise_plate
from graphql import GraphQLError

SCAN_PAGE = 500
MAX_SCANNED = 50_000  # anpr events one fuzzy scan reads at most


@dataclass(frozen=True)
class Sighting:
    """An ``anpr`` event whose plate matches: the plate as read and how near it is."""

    event: StoredEvent
    plate: str
    distance: int
    edits: int


def wanted_plate(plate: str) -> str:
    """The normalised plate searched for; a GraphQL error when nothing is left of it."""
    wanted = normalise_plate(plate)
    if not wanted:
        raise GraphQLError(f"{plate[:50]!r} has no letters or digits: not a plate")
    return wanted


def anpr_filter(base: EventFilter, wanted: str, fuzzy: bool) -> EventFilter | None:
    """``base`` narrowed to ``anpr`` events (``None`` when it excludes them); an exact search
    also narrows by the plate in SQL."""
    if base.event_types is not None and "anpr" not in base.event_types:
        return None
    return replace(base, event_types=["anpr"], plate=None if fuzzy else wanted)


def sightings(
    event_log: EventLog,
    base: EventFilter,
    plate: str,
    fuzzy: bool,
    *,
    before_id: int | None = None,
    after_id: int | None = None,
    descending: bool = True,
) -> Iterator[Sighting]:
    """The matching events of ``base`` in log order (newest first unless ``descending`` is
    false), within ``before_id``/``after_id``."""
    wanted = wanted_plate(plate)
    narrowed = anpr_filter(base, wanted, fuzzy)
    if narrowed is None:
        return
    scanned = 0
    while scanned < MAX_SCANNED:
        page = event_log.query(
            narrowed,
            limit=SCAN_PAGE,
            before_id=before_id,
            after_id=after_id,
            descending=descending,
        )
        for event in page:
            read = event.event_data.get("plate")
            if not isinstance(read, str):
                continue
            if fuzzy:
                compared = compare_plates(wanted, read)
            else:
                compared = (0, 0) if normalise_plate(read) == wanted else None
            if compared is not None:
                yield Sighting(event, read, *compared)
        scanned += len(page)
        if len(page) < SCAN_PAGE:
            return
        if descending:
            before_id = page[-1].id
        else:
            after_id = page[-1].id


def fuzzy_page(
    event_log: EventLog,
    event_filter: EventFilter,
    *,
    plate: str,
    limit: int,
    before_id: int | None = None,
    after_id: int | None = None,
    descending: bool = True,
) -> list[StoredEvent]:
    """Like :meth:`EventLog.query`, for the events whose plate is near ``plate``."""
    found = sightings(
        event_log,
        event_filter,
        plate,
        True,
        before_id=before_id,
        after_id=after_id,
        descending=descending,
    )
    return [s.event for s in itertools.islice(found, limit)]


def count(event_log: EventLog, base: EventFilter, plate: str) -> int:
    """How many events of ``base`` have a plate within one confusion of ``plate``."""
    return sum(1 for _ in sightings(event_log, base, plate, True))

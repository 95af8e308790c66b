"""Reading the plates of stored ``anpr`` events again, from their snapshots.

The backfill behind the Dagster asset ``plate_reread``: for one camera and time range, each
``anpr`` event's snapshot is read again around its ``plate_box`` (the green plate overlay
painted out first) with a chosen engine and plate pattern, and an ``anpr_reread`` event is
appended. Its ``event_id`` derives from the source event and the engine, so a second run appends
nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import cv2
import numpy as np

from analytics_pipeline.analyzer.annotators import PLATE_COLOUR
from analytics_pipeline.analyzer.ocr import OcrEngine
from analytics_pipeline.analyzer.plate_finder import PlateRule, read_box
from analytics_pipeline.analyzer.types import PlateRead
from analytics_pipeline.eventlog import EventFilter, EventLog
from analytics_pipeline.events import NewEvent, StoredEvent
from analytics_pipeline.payloads import AnprRereadData
from analytics_pipeline.snapshots import SnapshotStore

REREAD_NAMESPACE = uuid.UUID("8f6e2a4c-5d1b-4f7e-9a3c-2b7d6e1f0a58")
BATCH = 200


def reread_event_id(source_event_id: uuid.UUID, engine: str) -> uuid.UUID:
    """The ``event_id`` of the re-read of ``source_event_id`` with ``engine``."""
    return uuid.uuid5(REREAD_NAMESPACE, f"{source_event_id}:{engine}")


def without_overlay(image: np.ndarray, box: list[float]) -> np.ndarray:
    """A copy of ``image`` with the plate overlay's green (box and banner) painted out in and
    around ``box``, so that it is not read as a letter."""
    x1, y1, x2, y2 = (round(v) for v in box)
    pad = max(8, (y2 - y1))
    top, left = max(0, y1 - pad), max(0, x1 - pad)
    part = image[top : y2 + pad, left : x2 + pad]
    green = np.all(np.abs(part.astype(np.int16) - PLATE_COLOUR) < 60, axis=2).astype(np.uint8)
    cleaned = image.copy()
    if green.any():
        green = cv2.dilate(green * 255, np.ones((3, 3), np.uint8))
        cleaned[top : y2 + pad, left : x2 + pad] = cv2.inpaint(part, green, 3, cv2.INPAINT_TELEA)
    return cleaned


def reread_plate(
    ocr: OcrEngine,
    image: np.ndarray,
    plate_box: list[float],
    rule: PlateRule,
    min_confidence: float = 0.5,
) -> PlateRead | None:
    """The plate at ``plate_box`` of a snapshot, read again (None: unreadable)."""
    x1, y1, x2, y2 = plate_box
    return read_box(ocr, without_overlay(image, plate_box), (x1, y1, x2, y2), rule, min_confidence)


@dataclass
class RereadCounts:
    """What a re-read run did."""

    read: int = 0
    changed: int = 0
    unreadable: int = 0
    already_reread: int = 0
    snapshots_missing: int = 0
    appended: int = 0


def _events(log: EventLog, event_filter: EventFilter) -> Iterator[StoredEvent]:
    after: int | None = None
    while True:
        batch = log.query(event_filter, limit=BATCH, after_id=after, descending=False)
        yield from batch
        if len(batch) < BATCH:
            return
        after = batch[-1].id


def reread_camera(
    log: EventLog,
    store: SnapshotStore,
    ocr: OcrEngine,
    camera_id: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    plate_pattern: str | None = None,
) -> RereadCounts:
    """Re-read every ``anpr`` event of ``camera_id`` in [start, end) not yet re-read with this
    engine, appending one ``anpr_reread`` event each."""
    counts = RereadCounts()
    rule = PlateRule(plate_pattern)
    done = {
        e.event_id
        for e in _events(
            log,
            EventFilter(camera_ids=[camera_id], event_types=["anpr_reread"], start=start, end=end),
        )
    }
    pending: list[NewEvent] = []
    anpr = EventFilter(camera_ids=[camera_id], event_types=["anpr"], start=start, end=end)
    for event in _events(log, anpr):
        event_id = reread_event_id(event.event_id, ocr.name)
        if event_id in done:
            counts.already_reread += 1
            continue
        image = None
        if event.snapshot_path:
            try:
                image = cv2.imread(str(store.resolve(event.snapshot_path)))
            except ValueError:
                image = None
        box = event.event_data.get("plate_box")
        if image is None or not box:
            counts.snapshots_missing += 1
            continue
        read = reread_plate(ocr, image, box, rule)
        previous = str(event.event_data.get("plate", ""))
        counts.read += read is not None
        counts.unreadable += read is None
        counts.changed += read is not None and read.text != previous
        data = AnprRereadData(
            source_event_id=event.event_id,
            source_position=event.id,
            engine=ocr.name,
            plate_pattern=plate_pattern,
            previous_plate=previous,
            read_plate=read.text if read else None,
            confidence=read.confidence if read else None,
            plate_box=[round(v, 1) for v in read.box] if read else None,
            changed=read is not None and read.text != previous,
        )
        pending.append(
            NewEvent(
                event_id=event_id,
                event_type="anpr_reread",
                camera_id=event.camera_id,
                timestamp=event.timestamp,
                frame_number=event.frame_number,
                event_data=data.event_data(),
            )
        )
        if len(pending) >= BATCH:
            counts.appended += sum(p is not None for p in log.append(pending))
            pending = []
    if pending:
        counts.appended += sum(p is not None for p in log.append(pending))
    return counts

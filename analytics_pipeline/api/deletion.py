"""Deleting an event: the one path shared by GraphQL and REST."""

from __future__ import annotations

import logging

from analytics_pipeline.api.state import AppState
from analytics_pipeline.events import StoredEvent

log = logging.getLogger(__name__)


def delete_event(
    state: AppState, position: int, delete_snapshot: bool
) -> tuple[StoredEvent | None, bool]:
    """Tombstone an event and, when asked, erase its snapshot and thumbnail files.

    Returns the event as it was (``None`` when there was no visible event) and whether a
    snapshot file was erased.
    """
    event = state.event_log.delete(position, snapshot_deleted=delete_snapshot)
    if event is None or not delete_snapshot or not event.snapshot_path:
        return event, False
    state.thumbnails.remove(event.snapshot_path)
    path = state.snapshots.resolve(event.snapshot_path)
    try:
        path.unlink()
    except FileNotFoundError:
        log.warning("snapshot of deleted event %d was already gone: %s", position, path)
        return event, False
    return event, True

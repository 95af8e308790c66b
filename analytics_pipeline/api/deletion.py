"""Deleting an event: the one path shared by GraphQL and REST. All or nothing.

When the snapshot is to go too, the file is first renamed aside (in its own folder, so the
rename fails exactly where the removal would), then the tombstone is committed, then the file
is removed. If the file cannot be moved, nothing is deleted and the error says why; if the
commit fails, the file is put back.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

from analytics_pipeline.api.state import AppState
from analytics_pipeline.errors import PipelineError
from analytics_pipeline.events import StoredEvent

log = logging.getLogger(__name__)


class SnapshotNotRemovable(PipelineError):
    """The snapshot of an event asked to be erased cannot be removed; nothing was deleted."""

    http_status = 409


def delete_event(
    state: AppState, position: int, delete_snapshot: bool
) -> tuple[StoredEvent | None, bool]:
    """Tombstone an event and, when asked, erase its snapshot and thumbnail files.

    Returns the event as it was (``None`` when there was no visible event) and whether a
    snapshot file was erased. Raises :class:`SnapshotNotRemovable`, having changed nothing,
    when the snapshot is asked to go and cannot.
    """
    if not delete_snapshot:
        return state.event_log.delete(position, snapshot_deleted=False), False
    event = state.event_log.get(position)
    if event is None:
        return None, False
    if not event.snapshot_path:
        return state.event_log.delete(position, snapshot_deleted=True), False
    staged = _stage(state, event)
    original = state.snapshots.root / event.snapshot_path
    try:
        deleted = state.event_log.delete(position, snapshot_deleted=True)
    except BaseException:
        _restore(staged, original)
        raise
    if deleted is None:  # deleted meanwhile by another request, which kept the file
        _restore(staged, original)
        return None, False
    try:
        state.thumbnails.remove(event.snapshot_path)
    except (OSError, ValueError) as exc:
        log.warning("thumbnail of deleted event %d not removed: %s", position, exc)
    if staged is None:
        log.warning("snapshot of deleted event %d was already gone", position)
        return deleted, False
    try:
        staged.unlink()
    except OSError as exc:  # the orphan sweep of retention takes it
        log.warning("snapshot of deleted event %d left as %s: %s", position, staged, exc)
    return deleted, True


def _stage(state: AppState, event: StoredEvent) -> Path | None:
    """Move the snapshot aside; ``None`` when it is already gone."""
    refusal = f"the snapshot of event {event.id} cannot be removed"
    try:
        path = state.snapshots.resolve(event.snapshot_path or "")
    except (ValueError, PipelineError):
        raise SnapshotNotRemovable(
            f"{refusal}: it lies outside the snapshot folder; nothing was deleted"
        ) from None
    if not path.exists():
        return None
    if not path.is_file():
        raise SnapshotNotRemovable(f"{refusal}: it is not a file; nothing was deleted")
    staged = path.with_name(f".deleting-{uuid.uuid4().hex[:12]}-{path.name}")
    try:
        os.rename(path, staged)
    except OSError as exc:
        log.warning("snapshot of event %d cannot be removed: %s", event.id, exc)
        reason = exc.strerror or type(exc).__name__
        raise SnapshotNotRemovable(f"{refusal} ({reason}); nothing was deleted") from None
    return staged


def _restore(staged: Path | None, original: Path) -> None:
    if staged is None:
        return
    try:
        os.rename(staged, original.resolve())
    except OSError as exc:
        log.error("snapshot %s could not be put back from %s: %s", original, staged, exc)

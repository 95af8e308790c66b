"""Deleting an event: the one path shared by GraphQL and REST. All or nothing.

An event's clips (its ``clip_ready`` events) are deleted with it, in the same transaction
(:meth:`EventLog.delete`); deleting a ``clip_ready`` event deletes only that clip.

When the snapshot is to go too, its file and the files of the event's clips (and a clip file
whose ``clip_ready`` is not appended yet) are first renamed aside (each in its own folder, so
the rename fails exactly where the removal would), then the tombstones are committed, then the
files are removed. If a file cannot be moved, nothing is deleted and the error says why; if the
commit fails, the files are put back. (A clip whose ``clip_ready`` commits between the lookup
and the deletion is tombstoned with the event; its file goes at the next retention run, which
purges deleted events and their files.)
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

from analytics_pipeline.api.clips import clip_path_of
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
    """Tombstone an event and its clips and, when asked, erase its snapshot, its thumbnail and
    its clip files.

    Returns the event as it was (``None`` when there was no visible event) and whether its
    snapshot file was erased. Raises :class:`SnapshotNotRemovable`, having changed nothing,
    when the files are asked to go and one cannot.
    """
    if not delete_snapshot:
        return state.event_log.delete(position, snapshot_deleted=False), False
    event = state.event_log.get(position)
    if event is None:
        return None, False
    staged: list[tuple[Path | None, Path]] = []
    try:
        for relative in _files_of(state, event):
            staged.append((_stage(state, event, relative), state.snapshots.root / relative))
        deleted = state.event_log.delete(position, snapshot_deleted=True)
    except BaseException:
        _restore_all(staged)
        raise
    if deleted is None:  # deleted meanwhile by another request, which kept the files
        _restore_all(staged)
        return None, False
    if event.snapshot_path and event.event_type != "clip_ready":
        try:
            state.thumbnails.remove(event.snapshot_path)
        except (OSError, ValueError) as exc:
            log.warning("thumbnail of deleted event %d not removed: %s", position, exc)
    for moved, _ in staged:
        if moved is None:
            continue
        try:
            moved.unlink()
        except OSError as exc:  # the orphan sweep of retention takes it
            log.warning("file of deleted event %d left as %s: %s", position, moved, exc)
    erased = bool(event.snapshot_path) and staged[0][0] is not None
    if event.snapshot_path and not erased:
        log.warning("snapshot of deleted event %d was already gone", position)
    return deleted, erased


def _files_of(state: AppState, event: StoredEvent) -> list[str]:
    """The event's snapshot first (when it has one), then its clips: those of its
    ``clip_ready`` events and the one named after it (written before its ``clip_ready``)."""
    files = [event.snapshot_path] if event.snapshot_path else []
    if event.event_type != "clip_ready":
        files += [c.snapshot_path for c in state.event_log.clips_of(event) if c.snapshot_path]
        files.append(clip_path_of(event))
    return list(dict.fromkeys(files))


def _stage(state: AppState, event: StoredEvent, relative: str) -> Path | None:
    """Move a file of the event aside; ``None`` when it is already gone."""
    refusal = f"the snapshot of event {event.id} cannot be removed"
    try:
        path = state.snapshots.resolve(relative)
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


def _restore_all(staged: list[tuple[Path | None, Path]]) -> None:
    for moved, original in reversed(staged):
        _restore(moved, original)


def _restore(staged: Path | None, original: Path) -> None:
    if staged is None:
        return
    try:
        os.rename(staged, original.resolve())
    except OSError as exc:
        log.error("snapshot %s could not be put back from %s: %s", original, staged, exc)

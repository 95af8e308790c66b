"""Event clips, looked up by event id only (a client never names a path): ``/clips/{id}``.

``id`` is the position of the event the clip is of (its file is named after that event, see
:func:`analytics_pipeline.snapshots.clip_relative_path`) or of its ``clip_ready`` event. The
file is served as ``video/mp4`` only when its first bytes prove an MP4 (``ftyp`` box), with
HTTP range requests (``206 Partial Content``: browsers seek with them) through Starlette's
``FileResponse``. A deleted event has no clip (404); a path that leads outside the snapshot
root is a 404.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from analytics_pipeline.api.auth import reader_state
from analytics_pipeline.api.inputs import is_position
from analytics_pipeline.errors import PipelineError
from analytics_pipeline.events import StoredEvent
from analytics_pipeline.snapshots import clip_relative_path

CLIP_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"


def clip_path_of(event: StoredEvent) -> str:
    """The clip of ``event`` relative to the snapshot root (a ``clip_ready`` event's own)."""
    if event.event_type == "clip_ready" and event.snapshot_path:
        return event.snapshot_path
    return clip_relative_path(
        event.camera_id, event.event_type, event.timestamp, event.event_id
    ).as_posix()


def _mp4_stat(path: Path) -> os.stat_result | None:
    """The stat of an MP4 file; ``None`` when missing; 415 when it is not an MP4."""
    try:
        with path.open("rb") as handle:
            head = handle.read(12)
            stat = os.fstat(handle.fileno())
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    if head[4:8] != b"ftyp":
        raise HTTPException(415, "the stored file is not an MP4 clip")
    return stat


async def serve_clip(request: Request) -> Response:
    """GET /clips/{event_id}: the event's MP4 clip, with range requests."""
    state = reader_state(request)
    position = request.path_params["event_id"]
    if not is_position(position):
        raise HTTPException(404, "no such event")
    event = await run_in_threadpool(state.event_log.get, position)
    if event is None:
        raise HTTPException(404, "no such event")
    if event.event_type != "clip_ready":
        # Served only while its clip_ready event is visible: deleting that event (even
        # keeping its file) takes the clip off the read side at once.
        clips = await run_in_threadpool(state.event_log.clips_of, event)
        if not clips:
            raise HTTPException(404, "this event has no clip")
        event = clips[-1]
    try:
        path = state.snapshots.resolve(clip_path_of(event))
    except (ValueError, PipelineError):  # outside the root, e.g. through a symlink
        raise HTTPException(404, "this event has no clip") from None
    stat = await run_in_threadpool(_mp4_stat, path)
    if stat is None:
        raise HTTPException(404, "this event has no clip")
    headers = {
        "Cache-Control": "private, max-age=0, must-revalidate",
        "Content-Security-Policy": CLIP_CSP,
        "X-Content-Type-Options": "nosniff",
    }
    return FileResponse(path, media_type="video/mp4", headers=headers, stat_result=stat)

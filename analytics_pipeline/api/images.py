"""Snapshot and thumbnail files, looked up by event id only (a client never names a path)."""

from __future__ import annotations

import hashlib
import mimetypes
from email.utils import formatdate
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from analytics_pipeline.api.auth import reader_state
from analytics_pipeline.api.state import AppState

mimetypes.add_type("image/webp", ".webp")


def _file_response(request: Request, path: Path) -> Response:
    """The file with ETag and Last-Modified; 304 when the client's copy is current."""
    stat = path.stat()
    etag = (
        '"'
        + hashlib.md5(
            f"{stat.st_mtime_ns}-{stat.st_size}".encode(), usedforsecurity=False
        ).hexdigest()
        + '"'
    )
    headers = {
        "ETag": etag,
        "Last-Modified": formatdate(stat.st_mtime, usegmt=True),
        "Cache-Control": "private, max-age=0, must-revalidate",
    }
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        if etag in {tag.strip() for tag in if_none_match.split(",")} or if_none_match == "*":
            return Response(status_code=304, headers=headers)
    elif (since := request.headers.get("if-modified-since")) and since == headers["Last-Modified"]:
        return Response(status_code=304, headers=headers)
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media_type, headers=headers)


async def _snapshot_path(state: AppState, position: int) -> str:
    event = await run_in_threadpool(state.event_log.get, position)
    if event is None:
        raise HTTPException(404, "no such event")
    if not event.snapshot_path:
        raise HTTPException(404, "this event has no snapshot")
    return event.snapshot_path


async def serve_snapshot(request: Request) -> Response:
    """GET /snapshots/{event_id}."""
    state = reader_state(request)
    relative = await _snapshot_path(state, request.path_params["event_id"])
    path = state.snapshots.resolve(relative)
    if not path.is_file():
        raise HTTPException(404, "the snapshot file is missing")
    return _file_response(request, path)


async def serve_thumbnail(request: Request) -> Response:
    """GET /thumbnails/{event_id}: made from the snapshot on first request if need be."""
    state = reader_state(request)
    relative = await _snapshot_path(state, request.path_params["event_id"])
    try:
        path, _made = await run_in_threadpool(state.thumbnails.ensure, relative)
    except FileNotFoundError:
        raise HTTPException(404, "the snapshot file is missing") from None
    return _file_response(request, path)

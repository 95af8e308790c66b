"""Snapshot and thumbnail files, looked up by event id only (a client never names a path).

A file is served only as an image whose type its first bytes prove (PNG, JPEG or WebP); the
type never comes from the file name, so a stored ``.html`` can never run as a page of this
origin. A path that leads outside the snapshot root (a symlink, say) is a 404.
"""

from __future__ import annotations

import hashlib
import os
from email.utils import formatdate
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from analytics_pipeline.api.auth import reader_state
from analytics_pipeline.api.inputs import is_position
from analytics_pipeline.api.state import AppState
from analytics_pipeline.errors import PipelineError

IMAGE_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"


def image_type(head: bytes) -> str | None:
    """The media type that a file's first 12 bytes prove, ``None`` for anything else."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _image_file(path: Path) -> tuple[str, os.stat_result] | None:
    """(media type, stat) of a file that is an image; ``None`` when it is missing.

    Raises 415 when the file is there but is not a PNG, JPEG or WebP image."""
    try:
        with path.open("rb") as handle:
            head = handle.read(12)
            stat = path.stat()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    media_type = image_type(head)
    if media_type is None:
        raise HTTPException(415, "the stored file is not a PNG, JPEG or WebP image")
    return media_type, stat


def _file_response(request: Request, path: Path, media_type: str, stat: os.stat_result) -> Response:
    """The file with ETag and Last-Modified; 304 when the client's copy is current."""
    version = f"{stat.st_mtime_ns}-{stat.st_size}".encode()
    etag = '"' + hashlib.md5(version, usedforsecurity=False).hexdigest() + '"'
    headers = {
        "ETag": etag,
        "Last-Modified": formatdate(stat.st_mtime, usegmt=True),
        "Cache-Control": "private, max-age=0, must-revalidate",
        "Content-Security-Policy": IMAGE_CSP,
        "X-Content-Type-Options": "nosniff",
    }
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        if etag in {tag.strip() for tag in if_none_match.split(",")} or if_none_match == "*":
            return Response(status_code=304, headers=headers)
    elif (since := request.headers.get("if-modified-since")) and since == headers["Last-Modified"]:
        return Response(status_code=304, headers=headers)
    return FileResponse(path, media_type=media_type, headers=headers, stat_result=stat)


async def _snapshot_path(state: AppState, position: int) -> str:
    if not is_position(position):
        raise HTTPException(404, "no such event")
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
    try:
        path = state.snapshots.resolve(relative)
    except (ValueError, PipelineError):  # outside the root, e.g. through a symlink
        raise HTTPException(404, "the snapshot file is missing") from None
    found = await run_in_threadpool(_image_file, path)
    if found is None:
        raise HTTPException(404, "the snapshot file is missing")
    return _file_response(request, path, *found)


async def serve_thumbnail(request: Request) -> Response:
    """GET /thumbnails/{event_id}: made from the snapshot on first request if need be."""
    state = reader_state(request)
    relative = await _snapshot_path(state, request.path_params["event_id"])
    try:
        path, _made = await run_in_threadpool(state.thumbnails.ensure, relative)
    except (FileNotFoundError, ValueError, PipelineError):
        raise HTTPException(404, "the snapshot file is missing") from None
    found = await run_in_threadpool(_image_file, path)
    if found is None:
        raise HTTPException(404, "the thumbnail file is missing")
    return _file_response(request, path, *found)

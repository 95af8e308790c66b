"""The REST routes of the original service, same shapes, on the same queries as GraphQL."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from analytics_pipeline import reports as reports_module
from analytics_pipeline.api import inputs
from analytics_pipeline.api.auth import reader_state, writer_state
from analytics_pipeline.api.deletion import delete_event
from analytics_pipeline.api.gql import plates
from analytics_pipeline.api.images import serve_snapshot
from analytics_pipeline.api.middleware import REPORT_CSP
from analytics_pipeline.api.responses import FastJSONResponse
from analytics_pipeline.cameras import Camera, CameraInput
from analytics_pipeline.eventlog import EventFilter
from analytics_pipeline.events import StoredEvent, describe_errors, snapshot_url, validate_camera_id

_cameras_adapter = TypeAdapter(list[CameraInput])


def event_json(event: StoredEvent) -> dict[str, Any]:
    """An event in the original service's shape, plus event_id and snapshot_url."""
    return {
        "id": event.id,
        "event_id": str(event.event_id),
        "event_type": event.event_type,
        "camera_id": event.camera_id,
        "timestamp": event.timestamp.isoformat(),
        "frame_number": event.frame_number,
        "snapshot_path": event.snapshot_path,
        "snapshot_url": snapshot_url(event),
        "event_data": event.event_data,
        "created_at": event.created_at.isoformat(),
    }


def camera_json(camera: Camera) -> dict[str, Any]:
    """A camera as REST shows it: its source URL without credentials."""
    return camera.model_dump(mode="json") | {"source_url": camera.redacted_source_url}


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    return default if raw is None else inputs.whole_number(raw, name, low, high)


def _time(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    return None if raw is None or raw == "" else inputs.iso_time(raw, name)


def _text(request: Request, name: str) -> str | None:
    raw = request.query_params.get(name)
    return None if raw is None else inputs.text(raw, name, 200)


def _position(request: Request) -> int:
    position = request.path_params["event_id"]
    if not inputs.is_position(position):
        raise HTTPException(404, "no such event")
    return position


def _filter(request: Request) -> EventFilter:
    camera_id = _text(request, "camera_id")
    event_type = _text(request, "event_type")
    return EventFilter(
        camera_ids=[camera_id] if camera_id else None,
        event_types=[event_type] if event_type else None,
        start=_time(request, "start_time"),
        end=_time(request, "end_time"),
        plate=_text(request, "plate"),
    )


def _flag(request: Request, name: str) -> bool:
    raw = request.query_params.get(name, "false").lower()
    if raw not in ("true", "false", "1", "0"):
        raise inputs.BadInput(f"{name} must be true or false")
    return raw in ("true", "1")


async def list_events(request: Request) -> Response:
    """List events, newest first, with filters and page numbers."""
    state = reader_state(request)
    event_filter = _filter(request)
    page = _int(request, "page", 1, 1, 1_000_000)
    page_size = _int(request, "page_size", 50, 1, state.settings.api_max_page_size)
    fuzzy = _flag(request, "plate_fuzzy") and event_filter.plate is not None

    def load() -> tuple[list[StoredEvent], int]:
        if fuzzy:
            assert event_filter.plate is not None
            base = replace(event_filter, plate=None)
            found = plates.sightings(state.event_log, base, event_filter.plate, True)
            start = (page - 1) * page_size
            events = [s.event for s in itertools.islice(found, start, start + page_size)]
            return events, plates.count(state.event_log, base, event_filter.plate)
        offset = (page - 1) * page_size
        return state.event_log.query_with_count(event_filter, limit=page_size, offset=offset)

    events, total = await run_in_threadpool(load)
    return FastJSONResponse(
        {
            "events": [event_json(e) for e in events],
            "total": total,
            "page": page,
            "page_size": page_size,
            "total_pages": math.ceil(total / page_size) if total else 0,
        }
    )


async def event_stats(request: Request) -> Response:
    """Totals of the events matching the filters."""
    state = reader_state(request)
    stats = await run_in_threadpool(state.event_log.stats, _filter(request))
    return JSONResponse(
        {
            "total_events": stats.total_events,
            "events_by_type": stats.events_by_type,
            "events_by_camera": stats.events_by_camera,
            "first_event": stats.first_event.isoformat() if stats.first_event else None,
            "last_event": stats.last_event.isoformat() if stats.last_event else None,
        }
    )


async def get_event(request: Request) -> Response:
    """One event."""
    state = reader_state(request)
    event = await run_in_threadpool(state.event_log.get, _position(request))
    if event is None:
        raise HTTPException(404, "no such event")
    return JSONResponse(event_json(event))


async def event_snapshot(request: Request) -> Response:
    """The event's snapshot image (the same as /snapshots/{id})."""
    return await serve_snapshot(request)


async def remove_event(request: Request) -> Response:
    """Delete an event (a tombstone in the log); optionally erase its snapshot."""
    state = writer_state(request)
    flag = request.query_params.get("delete_snapshot", "false").lower()
    if flag not in ("true", "false", "1", "0"):
        raise HTTPException(400, "delete_snapshot must be true or false")
    position = _position(request)
    event, erased = await run_in_threadpool(delete_event, state, position, flag in ("true", "1"))
    if event is None:
        raise HTTPException(404, "no such event")
    return JSONResponse(
        {"message": f"event {position} deleted", "id": position, "snapshot_deleted": erased}
    )


async def register_cameras(request: Request) -> Response:
    """Register cameras (a JSON list of {id, name, source_url, enabled, settings})."""
    state = writer_state(request)
    document = inputs.json_document(await request.body())
    inputs.plain_json(document, "the request body")
    try:
        cameras = _cameras_adapter.validate_python(document)
    except ValidationError as exc:
        raise HTTPException(422, f"invalid cameras: {describe_errors(exc)}") from None
    stored = await run_in_threadpool(lambda: [state.cameras.register(c) for c in cameras])
    return JSONResponse({"cameras": [camera_json(c) for c in stored]}, status_code=201)


async def list_cameras(request: Request) -> Response:
    """Registered cameras."""
    state = reader_state(request)
    cameras = await run_in_threadpool(state.cameras.list)
    return JSONResponse({"cameras": [camera_json(c) for c in cameras]})


async def remove_camera(request: Request) -> Response:
    """Remove a camera; its events stay in the log."""
    state = writer_state(request)
    camera_id = request.path_params["camera_id"]
    try:
        validate_camera_id(camera_id)
    except ValueError:
        raise HTTPException(404, "no such camera") from None
    if not await run_in_threadpool(state.cameras.remove, camera_id):
        raise HTTPException(404, "no such camera")
    return JSONResponse({"message": f"camera {camera_id} removed"})


async def list_reports(request: Request) -> Response:
    """Daily reports written by Dagster, newest first."""
    state = reader_state(request)
    reports = await run_in_threadpool(reports_module.list_reports, state.settings.reports_dir)
    return JSONResponse(
        {
            "reports": [
                {
                    "day": r.day.isoformat(),
                    "files": {name: f"/reports/{r.day}/{name}" for name in r.files},
                }
                for r in reports
            ]
        }
    )


async def report_file(request: Request) -> Response:
    """One file of a daily report, by day and a fixed file name (never a client path)."""
    state = reader_state(request)
    name = request.path_params["name"]
    try:
        day = date.fromisoformat(request.path_params["day"])
    except ValueError:
        raise HTTPException(404, "no such report") from None
    if name not in reports_module.REPORT_FILES:
        raise HTTPException(404, "no such report file")
    path = state.settings.reports_dir.resolve() / day.isoformat() / name
    if not path.is_file():
        raise HTTPException(404, "no such report file")
    return FileResponse(path, headers={"Content-Security-Policy": REPORT_CSP})


routes = [
    Route("/api/reports", list_reports, methods=["GET"]),
    Route("/reports/{day}/{name}", report_file, methods=["GET"]),
    Route("/api/events", list_events, methods=["GET"]),
    Route("/api/events/stats", event_stats, methods=["GET"]),
    Route("/api/events/{event_id:int}", get_event, methods=["GET"]),
    Route("/api/events/{event_id:int}", remove_event, methods=["DELETE"]),
    Route("/api/events/{event_id:int}/snapshot", event_snapshot, methods=["GET"]),
    Route("/api/cameras", register_cameras, methods=["POST"]),
    Route("/api/cameras", list_cameras, methods=["GET"]),
    Route("/api/cameras/{camera_id}", remove_camera, methods=["DELETE"]),
]

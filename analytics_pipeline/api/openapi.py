"""The REST API's OpenAPI document, built from pydantic models (no YAML, nothing parsed).

Each REST route has one :class:`Operation` here: its parameters, its request body model and
its response models; their JSON schemas come from ``TypeAdapter(model).json_schema()`` and sit
under ``components/schemas``. The models describe exactly what the routes return (a test
validates real answers against them). ``/docs`` renders the document offline (static/docs.*).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, TypeAdapter

from analytics_pipeline.cameras import Camera, CameraInput


class Error(BaseModel):
    detail: str


class EventOut(BaseModel):
    """An event in the original service's shape, plus event_id and snapshot_url."""

    id: int
    event_id: str
    event_type: str
    camera_id: str
    timestamp: datetime
    frame_number: int
    snapshot_path: str | None
    snapshot_url: str | None
    event_data: dict[str, Any]
    created_at: datetime


class EventPage(BaseModel):
    events: list[EventOut]
    total: int
    page: int
    page_size: int
    total_pages: int


class EventStatsOut(BaseModel):
    total_events: int
    events_by_type: dict[str, int]
    events_by_camera: dict[str, int]
    first_event: datetime | None
    last_event: datetime | None


class EventDeleted(BaseModel):
    message: str
    id: int
    snapshot_deleted: bool


class Cameras(BaseModel):
    """Cameras; a source URL's user and password are shown as ***."""

    cameras: list[Camera]


class Message(BaseModel):
    message: str


class Report(BaseModel):
    day: str
    files: dict[str, str]


class Reports(BaseModel):
    reports: list[Report]


def query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def path(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


FILTERS = [
    query("camera_id", {"type": "string"}),
    query("event_type", {"type": "string"}),
    query("start_time", {"type": "string", "format": "date-time"}, "inclusive"),
    query("end_time", {"type": "string", "format": "date-time"}, "exclusive"),
    query("plate", {"type": "string"}, "plate substring, case- and space-insensitive"),
    query(
        "plate_fuzzy",
        {"type": "boolean", "default": False},
        "with plate: anpr events whose plate is within one OCR confusion",
    ),
]
EVENT_ID = path("event_id", {"type": "integer", "minimum": 1})
IMAGE = {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    responses: dict[int, type[BaseModel] | dict[str, Any] | None]
    parameters: list[dict[str, Any]] = field(default_factory=list)
    body: Any = None
    secured: bool = False


OPERATIONS = [
    Operation(
        "get",
        "/api/events",
        "List events, newest first, with filters and page numbers",
        {200: EventPage, 400: Error},
        [
            *FILTERS,
            query("page", {"type": "integer", "minimum": 1, "default": 1}),
            query("page_size", {"type": "integer", "minimum": 1, "default": 50}),
        ],
    ),
    Operation(
        "get",
        "/api/events/stats",
        "Totals of the events matching the filters",
        {200: EventStatsOut, 400: Error},
        FILTERS[:4],
    ),
    Operation(
        "get", "/api/events/{event_id}", "One event", {200: EventOut, 404: Error}, [EVENT_ID]
    ),
    Operation(
        "delete",
        "/api/events/{event_id}",
        "Delete an event (a tombstone in the log); optionally erase its snapshot",
        {200: EventDeleted, 401: Error, 404: Error},
        [EVENT_ID, query("delete_snapshot", {"type": "boolean", "default": False})],
        secured=True,
    ),
    Operation(
        "get",
        "/api/events/{event_id}/snapshot",
        "The event's snapshot image (the same as /snapshots/{id})",
        {200: IMAGE, 404: Error},
        [EVENT_ID],
    ),
    Operation(
        "post",
        "/api/cameras",
        "Register cameras, or replace those with the same ids",
        {201: Cameras, 401: Error, 422: Error},
        body=list[CameraInput],
        secured=True,
    ),
    Operation("get", "/api/cameras", "Registered cameras", {200: Cameras}),
    Operation(
        "delete",
        "/api/cameras/{camera_id}",
        "Remove a camera; its events stay in the log",
        {200: Message, 401: Error, 404: Error},
        [path("camera_id", {"type": "string"})],
        secured=True,
    ),
    Operation(
        "get", "/api/reports", "Daily reports written by Dagster, newest first", {200: Reports}
    ),
    Operation(
        "get",
        "/reports/{day}/{name}",
        "One file of a daily report: report.html, hourly.png, counts.csv or counts.parquet",
        {200: {"*/*": {"schema": {"type": "string", "format": "binary"}}}, 404: Error},
        [path("day", {"type": "string", "format": "date"}), path("name", {"type": "string"})],
    ),
]
DESCRIPTIONS = {200: "OK", 201: "Created", 400: "Bad input", 401: "No valid API key",
                404: "Not found", 422: "Invalid body"}  # fmt: skip


def _schema(model: Any, components: dict[str, Any]) -> dict[str, Any]:
    """``model``'s JSON schema, its definitions moved to ``components``."""
    schema = TypeAdapter(model).json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    if isinstance(model, type) and issubclass(model, BaseModel):
        components[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}
    return schema


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the REST routes."""
    components: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        responses = {}
        for status, model in op.responses.items():
            answer: dict[str, Any] = {"description": DESCRIPTIONS.get(status, str(status))}
            if isinstance(model, dict):
                answer["content"] = model
            elif model is not None:
                answer["content"] = {"application/json": {"schema": _schema(model, components)}}
            responses[str(status)] = answer
        operation: dict[str, Any] = {"summary": op.summary, "responses": responses}
        if op.parameters:
            operation["parameters"] = op.parameters
        if op.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _schema(op.body, components)}},
            }
        if op.secured:
            operation["security"] = [{"apiKey": []}]
        paths.setdefault(op.path, {})[op.method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Video analytics events API", "version": "1.0"},
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }

"""The event model: what the analyzer emits and the log stores."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

CAMERA_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_EVENT_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,49}$")


def describe_errors(exc: ValidationError) -> str:
    """A validation error as one readable line: ``field: message; field: message``."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive time (as the original service stored) is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def validate_identifier(value: str, what: str) -> str:
    """``value`` as a name safe in paths and URLs (1-100 letters, digits, ``._-``, starting
    with a letter or digit); a ``ValueError`` naming ``what`` otherwise."""
    if not CAMERA_ID_PATTERN.match(value):
        raise ValueError(
            f"{what} must be 1-100 characters of letters, digits, '.', '_' or '-',"
            " starting with a letter or digit"
        )
    return value


def validate_camera_id(value: str) -> str:
    """A camera id is also a folder name under the snapshot root: letters, digits, ``._-``."""
    return validate_identifier(value, "camera_id")


class NewEvent(BaseModel):
    """An event to append. ``event_id`` is the idempotency key: a retry keeps it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    event_type: str
    camera_id: str
    timestamp: datetime
    frame_number: int = Field(ge=0, le=2**31 - 1)
    snapshot_path: str | None = None
    event_data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("event_type")
    @classmethod
    def _event_type(cls, value: str) -> str:
        if not _EVENT_TYPE_PATTERN.match(value):
            raise ValueError("event_type must be lower-case letters, digits and '_'")
        return value

    @field_validator("camera_id")
    @classmethod
    def _camera_id(cls, value: str) -> str:
        return validate_camera_id(value)

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return as_utc(value)

    @field_validator("snapshot_path")
    @classmethod
    def _relative_path(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if value.startswith(("/", "\\")) or "\x00" in value or ".." in value.split("/"):
            raise ValueError("snapshot_path must be relative to the snapshot root")
        if len(value) > 500:
            raise ValueError("snapshot_path is longer than 500 characters")
        return value


class StoredEvent(NewEvent):
    """An event as read back from the log: ``id`` is its global position."""

    id: int
    created_at: datetime
    txid: int

    @property
    def cursor(self) -> tuple[int, int]:
        """Where this event sits in commit-safe order: (writing transaction, position)."""
        return (self.txid, self.id)


def has_image(event: StoredEvent) -> bool:
    """Whether the event's ``snapshot_path`` is an image: a ``clip_ready`` event's is its MP4
    clip, served at ``/clips/{id}`` and never as a snapshot or thumbnail."""
    return bool(event.snapshot_path) and event.event_type != "clip_ready"


def snapshot_url(event: StoredEvent) -> str | None:
    """The API route that serves an event's snapshot; ``None`` when it has none (a
    ``clip_ready`` event has a clip, not a snapshot)."""
    return f"/snapshots/{event.id}" if has_image(event) else None


def thumbnail_url(event: StoredEvent) -> str | None:
    """The API route that serves an event's thumbnail; ``None`` when it has no snapshot."""
    return f"/thumbnails/{event.id}" if has_image(event) else None

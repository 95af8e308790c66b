"""Camera registration, stored in PostgreSQL.

A camera's ``source_url`` is stored as registered, credentials included, because the analyzer
needs them to open the stream. Everything that shows a camera to a person (REST, GraphQL, log
lines) shows :attr:`Camera.redacted_source_url` instead: the password (or a lone user name,
often a token) and secret-looking query parameters become ``***``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool
from pydantic import BaseModel, ConfigDict, Field, field_validator

from analytics_pipeline.db import query
from analytics_pipeline.events import validate_camera_id

REDACTED = "***"
SECRET_PARAMETER = re.compile(
    r"pass|pwd|token|secret|key|auth|sig|credential|session|cookie", re.IGNORECASE
)
_USERINFO = re.compile(r"(//)([^/?#@]*)@")
MAX_SOURCE_URL_LENGTH = 4096
MAX_NAME_LENGTH = 200


def redact_url(url: str) -> str:
    """``url`` with its credentials replaced by ``***``: safe to show and to log.

    ``rtsp://admin:hunter2@10.0.0.5/stream1`` becomes ``rtsp://admin:***@10.0.0.5/stream1``; a
    user name alone (often a token) becomes ``***``; the values of query parameters whose name
    looks secret (password, token, key, secret, auth, signature...) become ``***``. A file path
    or a device number is returned as it is.
    """
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a malformed IPv6 host: redact whatever looks like userinfo
        return _USERINFO.sub(rf"\1{REDACTED}@", url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        netloc = f"{user}:{REDACTED}@{host}" if colon else f"{REDACTED}@{host}"
    query = "&".join(_redact_parameter(p) for p in parts.query.split("&")) if parts.query else ""
    fragment = _redact_parameter(parts.fragment) if "=" in parts.fragment else parts.fragment
    if (netloc, query, fragment) == (parts.netloc, parts.query, parts.fragment):
        return url
    redacted = f"{parts.scheme}:" if parts.scheme else ""
    if netloc or url[len(redacted) :].startswith("//"):
        redacted += f"//{netloc}"
    redacted += parts.path
    if query or "?" in url:
        redacted += f"?{query}"
    if fragment or "#" in url:
        redacted += f"#{fragment}"
    return redacted


def _redact_parameter(pair: str) -> str:
    name, equals, value = pair.partition("=")
    if equals and value and SECRET_PARAMETER.search(name):
        return f"{name}={REDACTED}"
    return pair


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _plain_json(value: Any, depth: int = 0) -> None:
    """JSON that PostgreSQL's jsonb stores: no NUL in strings or keys, finite numbers."""
    if depth > 32:
        raise ValueError("nested deeper than 32 levels")
    if isinstance(value, str):
        _no_nul(value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite")
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_nul(str(key))
            _plain_json(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _plain_json(item, depth + 1)


class CameraInput(BaseModel):
    """What a client sends to register or update a camera."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str = Field(default="", max_length=MAX_NAME_LENGTH)
    source_url: str = Field(min_length=1, max_length=MAX_SOURCE_URL_LENGTH)
    enabled: bool = True
    settings: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return validate_camera_id(value)

    @field_validator("name", "source_url")
    @classmethod
    def _text(cls, value: str) -> str:
        return _no_nul(value)

    @field_validator("settings")
    @classmethod
    def _settings(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _valid_settings(value)

    @property
    def redacted_source_url(self) -> str:
        """The source URL without its credentials: the one to show and to log."""
        return redact_url(self.source_url)


def _valid_settings(value: dict[str, Any]) -> dict[str, Any]:
    """Per-camera settings are checked when a camera is registered, not an hour later."""
    from analytics_pipeline.analyzer.camera_settings import CameraSettings

    _plain_json(value)
    CameraSettings.model_validate(value)
    return value


class CameraUpdate(BaseModel):
    """A partial change to a registered camera; ``None`` leaves a field unchanged."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=MAX_NAME_LENGTH)
    source_url: str | None = Field(default=None, min_length=1, max_length=MAX_SOURCE_URL_LENGTH)
    enabled: bool | None = None
    settings: dict[str, Any] | None = None

    @field_validator("name", "source_url")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return _no_nul(value) if value is not None else None

    @field_validator("settings")
    @classmethod
    def _settings(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return _valid_settings(value) if value is not None else None


class Camera(CameraInput):
    """A registered camera."""

    created_at: datetime
    updated_at: datetime


class CameraLease(BaseModel):
    """Who analyses a camera now: the analyzer process (``host:pid``) holding its lease and
    when that lease expires; both ``None`` while the camera is free."""

    camera_id: str
    owner: str | None = None
    lease_expires_at: datetime | None = None


class CameraRegistry:
    """Registers, lists and removes cameras."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def register(self, camera: CameraInput) -> Camera:
        """Insert or replace a camera (same id: new name, source, settings).

        A client that read a camera got its redacted source URL; sending that back unchanged
        keeps the stored URL and its credentials rather than storing the ``***``.
        """
        camera = camera.model_copy(update={"source_url": self._unredacted(camera)})
        params = camera.model_dump() | {
            "name": camera.name or camera.id,
            "settings": Jsonb(camera.settings),
        }
        with self.pool.connection() as conn:
            row = conn.execute(query("upsert_camera"), params).fetchone()
        return Camera.model_validate(row)

    def _unredacted(self, camera: CameraInput) -> str:
        if REDACTED not in camera.source_url:
            return camera.source_url
        stored = self.get(camera.id)
        if stored is not None and stored.redacted_source_url == camera.source_url:
            return stored.source_url
        return camera.source_url

    def update(self, camera_id: str, change: CameraUpdate) -> Camera | None:
        """Apply a partial change; ``None`` when the camera is not registered."""
        if change.source_url is not None and REDACTED in change.source_url:
            stored = self.get(camera_id)
            if stored is not None and stored.redacted_source_url == change.source_url:
                change = change.model_copy(update={"source_url": None})
        params = change.model_dump() | {
            "id": camera_id,
            "settings": Jsonb(change.settings) if change.settings is not None else None,
        }
        with self.pool.connection() as conn:
            row = conn.execute(query("update_camera"), params).fetchone()
        return Camera.model_validate(row) if row else None

    def get_many(self, camera_ids: Sequence[str]) -> dict[str, Camera]:
        """Cameras by id in one query (ids not registered are absent)."""
        with self.pool.connection() as conn:
            rows = conn.execute(query("get_cameras"), {"ids": list(camera_ids)}).fetchall()
        return {row["id"]: Camera.model_validate(row) for row in rows}

    def get(self, camera_id: str) -> Camera | None:
        """One camera, or ``None``."""
        return self.get_many([camera_id]).get(camera_id)

    def list(self, *, enabled_only: bool = False) -> list[Camera]:
        """Every camera, ordered by id."""
        with self.pool.connection() as conn:
            rows = conn.execute(query("list_cameras"), {"enabled_only": enabled_only})
            return [Camera.model_validate(row) for row in rows.fetchall()]

    def leases(self, camera_ids: Sequence[str] | None = None) -> dict[str, CameraLease]:
        """Every camera's (or those of ``camera_ids``) lease holder, by the database's clock;
        what ``cameras list`` and GraphQL ``cameras`` show beside each camera."""
        params = {"ids": list(camera_ids) if camera_ids is not None else None}
        with self.pool.connection() as conn:
            rows = conn.execute(query("camera_leases"), params).fetchall()
        return {row["camera_id"]: CameraLease.model_validate(row) for row in rows}

    def remove(self, camera_id: str) -> bool:
        """Remove a camera; ``False`` when it was not registered."""
        with self.pool.connection() as conn:
            return conn.execute(query("delete_camera"), {"id": camera_id}).fetchone() is not None

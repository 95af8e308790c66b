"""Camera registration, stored in PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool
from pydantic import BaseModel, ConfigDict, Field, field_validator

from analytics_pipeline.db import query
from analytics_pipeline.events import validate_camera_id


class CameraInput(BaseModel):
    """What a client sends to register or update a camera."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str = ""
    source_url: str = Field(min_length=1)
    enabled: bool = True
    settings: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return validate_camera_id(value)

    @field_validator("settings")
    @classmethod
    def _settings(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _valid_settings(value)


def _valid_settings(value: dict[str, Any]) -> dict[str, Any]:
    """Per-camera settings are checked when a camera is registered, not an hour later."""
    from analytics_pipeline.analyzer.camera_settings import CameraSettings

    CameraSettings.model_validate(value)
    return value


class CameraUpdate(BaseModel):
    """A partial change to a registered camera; ``None`` leaves a field unchanged."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    source_url: str | None = Field(default=None, min_length=1)
    enabled: bool | None = None
    settings: dict[str, Any] | None = None

    @field_validator("settings")
    @classmethod
    def _settings(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return _valid_settings(value) if value is not None else None


class Camera(CameraInput):
    """A registered camera."""

    created_at: datetime
    updated_at: datetime


class CameraRegistry:
    """Registers, lists and removes cameras."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def register(self, camera: CameraInput) -> Camera:
        """Insert or replace a camera (same id: new name, source, settings)."""
        params = camera.model_dump() | {
            "name": camera.name or camera.id,
            "settings": Jsonb(camera.settings),
        }
        with self.pool.connection() as conn:
            row = conn.execute(query("upsert_camera"), params).fetchone()
        return Camera.model_validate(row)

    def update(self, camera_id: str, change: CameraUpdate) -> Camera | None:
        """Apply a partial change; ``None`` when the camera is not registered."""
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

    def remove(self, camera_id: str) -> bool:
        """Remove a camera; ``False`` when it was not registered."""
        with self.pool.connection() as conn:
            return conn.execute(query("delete_camera"), {"id": camera_id}).fetchone() is not None

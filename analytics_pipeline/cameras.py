"""Camera registration, stored in PostgreSQL."""

from __future__ import annotations

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

    def list(self, *, enabled_only: bool = False) -> list[Camera]:
        """Every camera, ordered by id."""
        with self.pool.connection() as conn:
            rows = conn.execute(query("list_cameras"), {"enabled_only": enabled_only})
            return [Camera.model_validate(row) for row in rows.fetchall()]

    def remove(self, camera_id: str) -> bool:
        """Remove a camera; ``False`` when it was not registered."""
        with self.pool.connection() as conn:
            return conn.execute(query("delete_camera"), {"id": camera_id}).fetchone() is not None

"""Camera registration against the real PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest
from pydantic import ValidationError

from analytics_pipeline.cameras import CameraInput, CameraRegistry


def test_register_list_replace_remove(pool) -> None:
    registry = CameraRegistry(pool)
    registry.register(CameraInput(id="gate", source_url="rtsp://10.0.0.2/stream"))
    registry.register(
        CameraInput(id="door", source_url="/videos/door.mp4", enabled=False, settings={"fps": 2})
    )
    cameras = registry.list()
    assert [c.id for c in cameras] == ["door", "gate"]
    assert cameras[1].name == "gate"
    assert cameras[0].settings == {"fps": 2}
    assert [c.id for c in registry.list(enabled_only=True)] == ["gate"]
    replaced = registry.register(CameraInput(id="gate", name="Gate", source_url="rtsp://b/s"))
    assert (replaced.name, replaced.source_url) == ("Gate", "rtsp://b/s")
    assert replaced.updated_at >= replaced.created_at
    assert registry.remove("gate") is True
    assert registry.remove("gate") is False
    assert [c.id for c in registry.list()] == ["door"]


def test_bad_ids_are_refused_in_python_and_in_the_database(pool) -> None:
    with pytest.raises(ValidationError):
        CameraInput(id="a/b", source_url="x")
    with pool.connection() as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("INSERT INTO cameras (id, name, source_url) VALUES ('../x', 'x', 'y')")


def test_partial_update_and_batched_get(pool) -> None:
    from analytics_pipeline.cameras import CameraUpdate

    registry = CameraRegistry(pool)
    registry.register(CameraInput(id="gate", source_url="rtsp://a/s", settings={"fps": 5}))
    updated = registry.update("gate", CameraUpdate(enabled=False))
    assert (updated.enabled, updated.source_url, updated.settings) == (
        False,
        "rtsp://a/s",
        {"fps": 5},
    )
    assert registry.update("nope", CameraUpdate(name="x")) is None
    registry.register(CameraInput(id="door", source_url="x"))
    assert registry.get_many(["gate", "door", "nope"]).keys() == {"gate", "door"}
    assert registry.get("nope") is None

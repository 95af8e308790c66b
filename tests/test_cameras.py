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


def test_cameras_list_shows_who_holds_each_lease(pool, database_url, tmp_path) -> None:
    import json

    from click.testing import CliRunner

    from analytics_pipeline.cli import main
    from analytics_pipeline.leases import LeaseKeeper

    registry = CameraRegistry(pool)
    registry.register(CameraInput(id="gate", source_url="rtsp://u:secret@10.0.0.2/s"))
    registry.register(CameraInput(id="door", source_url="/videos/door.mp4"))
    keeper = LeaseKeeper(pool, lease_seconds=30, capacity=1, owner="node-7:4242")
    assert keeper.claim(["gate"])[0] == ["gate"]
    leases = registry.leases()
    assert leases["gate"].owner == "node-7:4242" and leases["gate"].lease_expires_at
    assert leases["door"].owner is None and leases["door"].lease_expires_at is None

    env = {"DATABASE_URL": database_url}
    args = ["--env-file", str(tmp_path / "none.env"), "cameras", "list"]
    listed = CliRunner().invoke(main, [*args, "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    rows = {row["id"]: row for row in map(json.loads, listed.output.splitlines())}
    assert rows["gate"]["owner"] == "node-7:4242" and rows["gate"]["enabled"] is True
    assert rows["gate"]["lease_expires_at"].startswith("20")
    assert rows["gate"]["source_url"] == "rtsp://u:***@10.0.0.2/s"
    assert (rows["door"]["owner"], rows["door"]["lease_expires_at"]) == (None, None)
    text = CliRunner().invoke(main, args, env=env).output
    assert "node-7:4242 until" in text and "secret" not in text

    keeper.leave()  # released: free at once
    assert registry.leases()["gate"].owner is None

"""Long-running services started before PostgreSQL and Redis wait for them, say so once, and
get to work when they answer; one-shot commands fail fast with exit 3."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import redis

from analytics_pipeline.db import migrate
from analytics_pipeline.eventlog import EventLog
from tests.conftest import PostgresServer, RedisServer, make_event
from tests.test_cli import CLI


def _env(database_url: str, redis_url: str) -> dict[str, str]:
    return os.environ | {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_STREAM": "late:events",
    }


def test_relay_waits_for_postgres_and_redis_then_publishes(tmp_path: Path) -> None:
    postgres, redis_server = PostgresServer(), RedisServer(tmp_path, persistent=False)
    relay = subprocess.Popen(
        [CLI, "--env-file", str(tmp_path / "none.env"), "relay"],
        env=_env(postgres.url, redis_server.url),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(4)
        assert relay.poll() is None, relay.communicate()
        postgres.start()
        migrate(postgres.url)
        from analytics_pipeline.db import create_pool

        pool = create_pool(postgres.url)
        try:
            EventLog(pool).append([make_event()])
        finally:
            pool.close()
        redis_server.start()
        client = redis.Redis(port=redis_server.port)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and client.xlen("late:events") < 1:
            time.sleep(0.3)
        assert client.xlen("late:events") == 1
        relay.send_signal(signal.SIGTERM)
        _out, err = relay.communicate(timeout=20)
        assert relay.returncode == 0, err
    finally:
        if relay.poll() is None:
            relay.kill()
        redis_server.stop()
        postgres.remove()
    assert "Traceback" not in err
    # one line when PostgreSQL is missing, not one per retry
    assert err.count("waiting for PostgreSQL") == 1, err
    assert "PostgreSQL answers again" in err


def test_one_shot_commands_fail_fast_with_exit_3(tmp_path: Path) -> None:
    dead = _env("postgresql://postgres@127.0.0.1:9/analytics", "redis://127.0.0.1:9/0")
    for command in (["db", "migrate"], ["relay", "--once"], ["events", "list"]):
        started = time.monotonic()
        done = subprocess.run(
            [CLI, "--env-file", str(tmp_path / "none.env"), *command],
            env=dead,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 3, (command, done.stderr)
        assert "Traceback" not in done.stderr
        assert time.monotonic() - started < 30


def _wait(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_analyze_every_camera_waits_for_postgres_then_analyses(tmp_path: Path) -> None:
    """`analyze` without --source started before PostgreSQL and Redis (which come ~10 s
    later): it says once that it waits, then analyses the enabled cameras and relays."""
    from analytics_pipeline.cameras import CameraInput, CameraRegistry
    from analytics_pipeline.db import create_pool
    from tests.test_leases import blink_video

    video = blink_video(tmp_path / "blink.avi", seconds=120)
    postgres, redis_server = PostgresServer(), RedisServer(tmp_path, persistent=False)
    env = _env(postgres.url, redis_server.url) | {
        "OCR_ENGINE": "none",
        "SNAPSHOTS_DIR": str(tmp_path / "snapshots"),
        "SNAPSHOT_FORMAT": "jpeg",
        "CAMERA_LEASE_SECONDS": "3",
    }
    analyze = subprocess.Popen(
        [CLI, "--env-file", str(tmp_path / "none.env"), "analyze", "--realtime"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(10)
        assert analyze.poll() is None, analyze.communicate()
        postgres.start()
        migrate(postgres.url)
        redis_server.start()
        pool = create_pool(postgres.url)
        try:
            CameraRegistry(pool).register(
                CameraInput(id="gate", source_url=str(video), settings={"fps": 4})
            )
            _wait(lambda: EventLog(pool).count() > 0, 60, "events from the camera")
        finally:
            pool.close()
        client = redis.Redis(port=redis_server.port)
        _wait(lambda: client.xlen("late:events") > 0, 30, "events on the stream")
        analyze.send_signal(signal.SIGTERM)
        _out, err = analyze.communicate(timeout=60)
        assert analyze.returncode == 0, err[-3000:]
    finally:
        if analyze.poll() is None:
            analyze.kill()
        redis_server.stop()
        postgres.remove()
    assert "Traceback" not in err
    assert err.count("waiting for PostgreSQL") == 1, err[-3000:]
    assert "PostgreSQL answers again" in err


def test_deliver_waits_for_postgres_and_redis_then_matches_plates(tmp_path: Path) -> None:
    """`deliver` started ~10 s before PostgreSQL and Redis: /readyz names what is missing,
    one line per dependency says what it waits for, then it does its job (a plate match)."""
    import json
    import urllib.error
    import urllib.request

    from analytics_pipeline.db import create_pool
    from analytics_pipeline.relay import Relay
    from analytics_pipeline.watchlist import Watchlist
    from tests.conftest import free_port

    def probe(path: str) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())
        except OSError:
            return 0, {}

    postgres, redis_server = PostgresServer(), RedisServer(tmp_path, persistent=False)
    port = free_port()
    deliver = subprocess.Popen(
        [CLI, "--env-file", str(tmp_path / "none.env"), "deliver", "--metrics-port", str(port)],
        env=_env(postgres.url, redis_server.url),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait(lambda: probe("/livez")[0] == 200, 30, "/livez")
        status, body = probe("/readyz")
        assert status == 503 and body["missing"] == ["PostgreSQL", "Redis"]
        time.sleep(8)
        assert deliver.poll() is None, deliver.communicate()
        postgres.start()
        migrate(postgres.url)
        redis_server.start()
        pool = create_pool(postgres.url)
        try:
            Watchlist(pool).watch("AB12CDE", "stolen")
            event_log = EventLog(pool)
            event_log.append([make_event(event_type="anpr", event_data={"plate": "AB12CDE"})])
            client = redis.Redis(port=redis_server.port)

            def groups() -> set[bytes]:
                try:
                    return {g["name"] for g in client.xinfo_groups("late:events")}
                except redis.ResponseError:
                    return set()

            # The groups start at the stream's end: what they match is what comes after.
            _wait(lambda: b"plate-watchlist" in groups(), 60, "the consumer groups")
            Relay(event_log, client, "late:events", maxlen=1000).publish_pending()
            _wait(
                lambda: any(e.event_type == "plate_match" for e in event_log.query()),
                60,
                "the plate match",
            )
        finally:
            pool.close()
        assert probe("/readyz")[0] == 200
        deliver.send_signal(signal.SIGTERM)
        _out, err = deliver.communicate(timeout=60)
        assert deliver.returncode == 0, err[-3000:]
    finally:
        if deliver.poll() is None:
            deliver.kill()
        redis_server.stop()
        postgres.remove()
    assert "Traceback" not in err
    assert err.count("waiting for PostgreSQL") == 1, err[-3000:]
    assert err.count("waiting for Redis") == 1, err[-3000:]

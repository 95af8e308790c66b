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

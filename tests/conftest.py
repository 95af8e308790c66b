"""Fixtures against the real PostgreSQL (DATABASE_URL) and Redis (REDIS_URL).

Every test gets a fresh database cloned from a migrated template, and its own stream key.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis
from psycopg import sql

from analytics_pipeline.config import Settings
from analytics_pipeline.db import create_pool, migrate
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.events import NewEvent, StoredEvent
from analytics_pipeline.payloads import ClipReadyData

# The Dagster partitions start here in tests (their days are in 2026), not at the first
# event of whatever database DATABASE_URL names; set before anything imports assets/.
os.environ.setdefault("STATS_START_DATE", "2026-01-01")

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/analytics")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def _admin() -> psycopg.Connection:
    return psycopg.connect(DATABASE_URL, dbname="postgres", autocommit=True)


def _url_for(dbname: str) -> str:
    """DATABASE_URL with another database name."""
    return urlunsplit(urlsplit(DATABASE_URL)._replace(path=f"/{dbname}"))


def drop_database(name: str) -> None:
    with _admin() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def template_database() -> Iterator[str]:
    """A migrated database that each test clones."""
    name = f"analytics_tmpl_{os.getpid()}"
    drop_database(name)
    migrate(_url_for(name))
    yield name
    drop_database(name)


@pytest.fixture
def database_url(template_database: str) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    name = f"analytics_test_{uuid.uuid4().hex[:12]}"
    with _admin() as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template_database)
            )
        )
    yield _url_for(name)
    drop_database(name)


@pytest.fixture
def pool(database_url: str) -> Iterator:
    pool = create_pool(database_url, max_size=8)
    yield pool
    pool.close()


@pytest.fixture
def event_log(pool) -> EventLog:
    return EventLog(pool)


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    client.ping()
    yield client
    client.close()


@pytest.fixture
def stream_key(redis_client: redis.Redis) -> Iterator[str]:
    key = f"test:events:{uuid.uuid4().hex[:12]}"
    yield key
    redis_client.delete(key)


API_KEY = "test-key-123"


@pytest.fixture
def settings(database_url: str, stream_key: str, tmp_path: Path) -> Settings:
    """The service's settings on this test's database, stream key and folders."""
    return Settings(
        _env_file=None,
        database_url=database_url,
        redis_url=REDIS_URL,
        redis_stream=stream_key,
        snapshots_dir=tmp_path / "snapshots",
        thumbnails_dir=tmp_path / "thumbnails",
        reports_dir=tmp_path / "reports",
        api_keys=API_KEY,
    )


def make_event(
    camera_id: str = "cam-1",
    event_type: str = "motion",
    timestamp: datetime | None = None,
    frame_number: int = 0,
    **extra: object,
) -> NewEvent:
    """One valid event; ``extra`` overrides any other field."""
    return NewEvent(
        camera_id=camera_id,
        event_type=event_type,
        timestamp=timestamp or datetime.now(UTC),
        frame_number=frame_number,
        **extra,
    )


def clip_ready_event(source: StoredEvent, data: ClipReadyData) -> NewEvent:
    """The ``clip_ready`` event of ``source``'s clip at ``data.path``, as the analyzer makes it
    (the source's camera, timestamp and frame; the clip as its snapshot_path)."""
    return NewEvent(
        event_type="clip_ready",
        camera_id=source.camera_id,
        timestamp=source.timestamp,
        frame_number=source.frame_number,
        snapshot_path=data.path,
        event_data=data.event_data(),
    )


def make_events(count: int, start: datetime | None = None, **fields: object) -> list[NewEvent]:
    base = start or datetime.now(UTC)
    return [
        make_event(timestamp=base + timedelta(milliseconds=i), frame_number=i, **fields)
        for i in range(count)
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A throwaway redis-server of the test's own, on its own port, that can be stopped."""

    def __init__(self, directory: Path, *, persistent: bool) -> None:
        self.port = free_port()
        self.directory = directory
        self.persistent = persistent
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (scripts/setup.sh installs it)")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes" if self.persistent else "no",
                "--appendfsync",
                "always",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("throwaway redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path, persistent=True)
    server.start()
    yield server
    server.stop()


class PostgresServer:
    """A throwaway PostgreSQL of the test's own, on its own port, that can be stopped.

    PostgreSQL refuses to run as root: as root it runs as the postgres user, in a folder that
    user owns."""

    def __init__(self) -> None:
        import tempfile

        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="analytics-pg-"))
        self.data = self.directory / "data"
        self.bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.directory, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / tool), *args],
            check=True,
            cwd="/",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/analytics"

    def start(self) -> None:
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-w",
            "-l",
            str(self.directory / "log"),
            "-o",
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1",
            "start",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "fast", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    migrate(server.url)
    yield server
    server.remove()

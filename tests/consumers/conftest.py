"""Fixtures for the stream consumers: a relay on the test's stream, a local webhook receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis

from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.relay import Relay
from tests.conftest import REDIS_URL

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _forget_group_state(redis_client: redis.Redis, stream_key: str) -> Iterator[None]:
    """Consumer groups keep their state next to the stream: delete it after the test."""
    yield
    keys = list(redis_client.scan_iter(match=f"{stream_key}:*", count=1000))
    if keys:
        redis_client.delete(*keys)


def publish_all(
    event_log: EventLog, client: redis.Redis, stream: str, last: int, maxlen: int = 10_000
) -> None:
    """Run the relay until the stream holds position ``last``. The relay reads only below
    the oldest transaction running on the server (any database's), so one pass may not do."""
    relay = Relay(event_log, client, stream, maxlen=maxlen)

    def published() -> bool:
        relay.publish_pending()
        newest = client.xrevrange(stream, count=1)
        return bool(newest) and int(newest[0][1][b"position"]) >= last

    wait_for(published, what=f"the relay to publish position {last}")


def wait_for(condition: Callable[[], object], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or condition}")


@dataclass
class Received:
    event_id: str
    body: bytes
    signature: str
    status: int


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1 that checks signatures and can fail or be slow."""

    secret: str = "receiver-secret"
    fail_first: int = 0
    """Answer 500 to this many requests, then 200."""
    delay: float = 0.0
    in_flight: int = 0
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def signature_ok(self, body: bytes, header: str) -> bool:
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, header)

    @property
    def delivered(self) -> list[Received]:
        """Requests answered 200 with a valid signature."""
        with self.lock:
            return [r for r in self.requests if r.status == 200]

    def delivered_ids(self) -> set[str]:
        return {r.event_id for r in self.delivered}

    def bodies(self) -> list[dict]:
        return [json.loads(r.body) for r in self.delivered]

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.in_flight += 1
                if receiver.delay:
                    time.sleep(receiver.delay)
                signature = self.headers.get("X-Signature-256", "")
                with receiver.lock:
                    failing = len(receiver.requests) < receiver.fail_first
                    if failing:
                        status = 500
                    elif not receiver.signature_ok(body, signature):
                        status = 401
                    else:
                        status = 200
                    receiver.requests.append(
                        Received(self.headers.get("X-Event-Id", ""), body, signature, status)
                    )
                    receiver.in_flight -= 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


def cli_command() -> list[str]:
    """The installed ``analytics-pipeline`` once it registers ``webhooks``, ``plates`` and
    ``deliver``; until then the same command with them added (``cli_main.py``)."""
    from analytics_pipeline.cli import main

    installed = shutil.which("analytics-pipeline") or str(
        Path(sys.executable).parent / "analytics-pipeline"
    )
    if {"webhooks", "plates", "deliver"} <= set(main.commands) and Path(installed).exists():
        return [installed]
    return [sys.executable, "-m", "tests.consumers.cli_main"]


class Cli:
    """The command line (``tests/consumers/cli_main.py``) on the test's database and stream."""

    def __init__(self, database_url: str, stream_key: str, directory: Path) -> None:
        self.directory = directory
        self.env = os.environ | {
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "REDIS_STREAM": stream_key,
            "SNAPSHOTS_DIR": str(directory / "snapshots"),
            "PYTHONPATH": str(ROOT),
        }
        self.command = [*cli_command(), "--env-file", str(directory / "none.env")]

    def __call__(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self.command, *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.directory,
            timeout=60,
        )

    def start(self, *args: str, log_name: str = "worker.log") -> subprocess.Popen:
        """A long-running command (``deliver``), its output in a file of the test's folder."""
        output = (self.directory / log_name).open("ab")
        return subprocess.Popen(
            [*self.command, *args],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.directory,
        )


@pytest.fixture
def cli(database_url: str, stream_key: str, tmp_path: Path) -> Cli:
    return Cli(database_url, stream_key, tmp_path)

"""A wheel built from the checkout migrates and serves from outside it (package data)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import REDIS_URL, _url_for, drop_database, free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, installed (without dependencies: the venv has them) into a folder."""
    wheels = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = wheels.glob("analytics_pipeline-*.whl")
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--disable-pip-version-check",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    return target


def _env(target: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV"))}
    env.update(PYTHONPATH=str(target), DATABASE_URL=database_url, REDIS_URL=REDIS_URL)
    return env


def test_the_wheel_carries_sql_contract_and_page(installed: Path):
    package = installed / "analytics_pipeline"
    assert sorted(p.name for p in (package / "sql" / "migrations").glob("*.sql")) == sorted(
        p.name for p in (ROOT / "sql" / "migrations").glob("*.sql")
    )
    assert (package / "graphql_contract" / "schema.graphql").read_text() == (
        ROOT / "graphql" / "schema.graphql"
    ).read_text()
    assert (package / "api" / "static" / "index.html").is_file()


def test_top_level_folders_are_the_package_data():
    """sql/ and graphql/ at the top are links to the package's folders: one source."""
    assert (ROOT / "sql").resolve() == ROOT / "analytics_pipeline" / "sql"
    assert (ROOT / "graphql").resolve() == ROOT / "analytics_pipeline" / "graphql_contract"


def test_installed_package_migrates_and_serves_outside_the_checkout(
    installed: Path, tmp_path: Path
):
    name = f"analytics_wheel_{uuid.uuid4().hex[:8]}"
    env = _env(installed, _url_for(name))
    cli = [sys.executable, "-m", "analytics_pipeline"]
    try:
        where = subprocess.run(
            [sys.executable, "-c", "import analytics_pipeline; print(analytics_pipeline.__file__)"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert where.startswith(str(installed)), where
        migrated = subprocess.run(
            [*cli, "db", "migrate"], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert migrated.returncode == 0, migrated.stderr
        assert "0001_event_log" in migrated.stdout

        port = free_port()
        server = subprocess.Popen(
            [*cli, "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    page = httpx.get(f"{base}/", timeout=2)
                    break
                except httpx.TransportError:
                    assert server.poll() is None, server.stderr.read().decode()  # type: ignore[union-attr]
                    time.sleep(0.2)
            assert page.status_code == 200 and "<html" in page.text.lower()
            answer = httpx.post(f"{base}/graphql", json={"query": "{ cameras { id } }"}, timeout=10)
            assert answer.status_code == 200 and answer.json() == {"data": {"cameras": []}}
            operation = httpx.get(f"{base}/operations/EventsPage.graphql", timeout=10)
            assert operation.status_code == 200 and "query" in operation.text
        finally:
            server.terminate()
            server.wait(20)
    finally:
        drop_database(name)

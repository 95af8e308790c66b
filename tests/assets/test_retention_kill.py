"""Retention killed (kill -9 of its process group) inside each phase, then run again, ends
where one uninterrupted run ends: same rows, same keys, same files.

One log is generated once (old days to drop, expired and deleted events, a quota to enforce,
old and young orphans); each scenario runs on its own copy (database cloned, folders copied
with their times), and the uninterrupted run on another.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from psycopg import sql

from analytics_pipeline.db import connect, create_pool
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.events import NewEvent
from analytics_pipeline.retention import PAUSE_AT_ENV, PAUSED_FILE_ENV
from tests.assets.retention_child import main as run_child_inline
from tests.conftest import _admin, _url_for, drop_database

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.now(UTC).replace(microsecond=0)
POLICY = {
    "default_days": 10,
    "camera_days": {"door": 3},
    "event_type_days": {"anpr": 5},
    "max_snapshot_bytes": 120_000,
    "orphan_grace_minutes": 60,
}
BATCH = 7


@dataclass(frozen=True)
class Copy:
    url: str
    folder: Path

    @property
    def snapshots(self) -> Path:
        return self.folder / "snapshots"

    @property
    def thumbnails(self) -> Path:
        return self.folder / "thumbnails"

    def argv(self) -> list[str]:
        return [
            self.url,
            str(self.snapshots),
            str(self.thumbnails),
            NOW.isoformat(),
            json.dumps(POLICY),
            str(BATCH),
        ]


def write(path: Path, size: int, hours_old: float = 0.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    if hours_old:
        moment = time.time() - hours_old * 3600
        os.utime(path, (moment, moment))


def generate(copy: Copy) -> None:
    """21 days of events on two cameras (every file real), deletions, orphans."""
    pool = create_pool(copy.url, max_size=2)
    log = EventLog(pool)
    events = []
    for day in range(21):
        for i in range(30):
            moment = NOW - timedelta(days=day, minutes=37 * i + 1)
            camera = ("gate", "door")[i % 2]
            kind = ("motion", "anpr", "detection")[i % 3]
            path = f"{camera}/{moment:%Y-%m-%d}/{kind}_{moment:%H%M%S}_{i:06d}.png"
            write(copy.snapshots / path, 1000 + (day * 31 + i) % 200)
            if i % 3 == 0:
                write(copy.thumbnails / f"{path}.jpg", 300)
            events.append(
                NewEvent(
                    camera_id=camera,
                    event_type=kind,
                    timestamp=moment,
                    frame_number=i,
                    snapshot_path=path,
                )
            )
    positions = log.append(events)
    for position in positions[5:400:37]:  # deleted through the API, some in old days
        log.delete(position)
    for i in range(12):
        write(copy.snapshots / "gate" / "lost" / f"old_{i}.png", 900, hours_old=2)
        write(copy.snapshots / "door" / "lost" / f"young_{i}.png", 900, hours_old=0.1)
    for i in range(4):
        write(copy.thumbnails / "gate" / "lost" / f"old_{i}.png.jpg", 200, hours_old=3)
    pool.close()


def clone(source: Copy, folder: Path) -> Copy:
    name = f"analytics_kill_{uuid.uuid4().hex[:12]}"
    source_name = source.url.rsplit("/", 1)[1]
    with _admin() as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(source_name)
            )
        )
    shutil.copytree(source.folder, folder)  # copy2: modification times kept
    return Copy(_url_for(name), folder)


def state(copy: Copy) -> dict:
    """Everything a run may change."""
    with connect(copy.url) as conn:

        def rows(statement: str) -> list:
            return [tuple(r.values()) for r in conn.execute(statement).fetchall()]

        found = {
            "events": rows("SELECT id, event_id, snapshot_path FROM events ORDER BY id"),
            "event_keys": rows("SELECT event_id FROM event_keys ORDER BY 1"),
            "deleted_events": rows("SELECT id FROM deleted_events ORDER BY 1"),
            "pending_files": rows("SELECT path FROM retention_pending_files ORDER BY 1"),
            "tables": rows(
                "SELECT relname FROM pg_class WHERE relkind IN ('r', 'p')"
                " AND relname ~ '^event(s|_keys)_[0-9]{8}$' ORDER BY 1"
            ),
            "detaching": rows("SELECT inhrelid FROM pg_inherits WHERE inhdetachpending"),
        }
    for name, root in (("snapshots", copy.snapshots), ("thumbnails", copy.thumbnails)):
        found[name] = {
            p.relative_to(root).as_posix(): p.stat().st_size
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }
    return found


@pytest.fixture(scope="module")
def generated(template_database: str, tmp_path_factory) -> Iterator[Copy]:
    name = f"analytics_kill_src_{uuid.uuid4().hex[:12]}"
    with _admin() as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template_database)
            )
        )
    source = Copy(_url_for(name), tmp_path_factory.mktemp("kill") / "source")
    generate(source)
    yield source
    drop_database(name)


@pytest.fixture(scope="module")
def uninterrupted(generated: Copy, tmp_path_factory) -> Iterator[dict]:
    copy = clone(generated, tmp_path_factory.mktemp("kill") / "uninterrupted")
    before = state(copy)
    run_child_inline(*copy.argv())
    after = state(copy)
    yield {"before": before, "after": after}
    drop_database(copy.url.rsplit("/", 1)[1])


def killed_run(copy: Copy, pause_at: str, folder: Path) -> None:
    """A retention run in its own process group, killed with SIGKILL at ``pause_at``."""
    paused = folder / f"paused-{uuid.uuid4().hex[:6]}"
    env = os.environ | {PAUSE_AT_ENV: pause_at, PAUSED_FILE_ENV: str(paused)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.assets.retention_child", *copy.argv()],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not paused.exists():
        assert process.poll() is None, f"the run ended before reaching {pause_at}"
        assert time.monotonic() < deadline, f"{pause_at} not reached in time"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)


SCENARIOS = {
    "day drop: after the detach": ["days:2"],
    "day drop: removing files": ["day_files:10"],
    "expiry purge: after a batch's commit": ["purge:2"],
    "expiry purge: removing files": ["files:9"],
    "sweep": ["sweep:5"],
    "quota step": ["quota:2"],
    "a kill in every phase, one after the other": [
        "day_files:25",
        "days:1",
        "purge:1",
        "files:3",
        "sweep:2",
        "quota:1",
    ],
}


@pytest.mark.parametrize("kills", list(SCENARIOS.values()), ids=list(SCENARIOS))
def test_killed_runs_then_a_clean_run_equal_one_clean_run(
    kills: list[str], generated: Copy, uninterrupted: dict, tmp_path: Path
) -> None:
    copy = clone(generated, tmp_path / "copy")
    try:
        assert state(copy) == uninterrupted["before"]
        for pause_at in kills:
            killed_run(copy, pause_at, tmp_path)
        interrupted = state(copy)
        assert interrupted != uninterrupted["before"], "the killed runs changed nothing"
        run_child_inline(*copy.argv())
        after = state(copy)
        expected = uninterrupted["after"]
        print(
            f"\n{' then '.join(kills)} killed, then a clean run: "
            + ", ".join(f"{k} {len(after[k])} (uninterrupted {len(expected[k])})" for k in after)
        )
        assert after == expected
    finally:
        drop_database(copy.url.rsplit("/", 1)[1])


def test_the_uninterrupted_run_did_every_kind_of_work(uninterrupted: dict) -> None:
    """The scenarios above are only worth something if every phase had work to do."""
    before, after = uninterrupted["before"], uninterrupted["after"]
    assert len(after["events"]) < len(before["events"])
    for prefix in ("events_", "event_keys_"):  # days, and a week of keys, dropped
        assert len([t for t in after["tables"] if t[0].startswith(prefix)]) < len(
            [t for t in before["tables"] if t[0].startswith(prefix)]
        )
    assert after["deleted_events"] == [] < before["deleted_events"]
    assert after["pending_files"] == []
    assert not any(p.startswith("gate/lost/old_") for p in after["snapshots"])
    assert sum(p.startswith("door/lost/young_") for p in after["snapshots"]) == 12
    referenced = {path for _, _, path in after["events"] if path}
    live = sum(after["snapshots"][p] + after["thumbnails"].get(f"{p}.jpg", 0) for p in referenced)
    assert POLICY["max_snapshot_bytes"] - 1500 < live <= POLICY["max_snapshot_bytes"]
    assert set(after["snapshots"]) - referenced == {f"door/lost/young_{i}.png" for i in range(12)}

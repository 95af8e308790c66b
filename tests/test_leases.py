"""Camera leases: analyzers share the cameras through PostgreSQL, a dead one's cameras are
taken over within the lease, and a paused one that lost its cameras appends nothing more for
them (fencing). Real `analyze` processes against the real PostgreSQL and Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from analytics_pipeline.analyzer.output import EventSink
from analytics_pipeline.cameras import CameraInput, CameraRegistry
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.leases import LeaseKeeper, LeaseLost
from analytics_pipeline.snapshots import SnapshotStore
from tests.conftest import REDIS_URL
from tests.test_cli import CLI

LEASE_SECONDS = 3
MARGIN_SECONDS = 12  # claim poll, camera start, background warm-up, the next motion change


def blink_video(path: Path, seconds: int = 600, fps: int = 4) -> Path:
    """A white square that moves for 1 s and is gone for 1.5 s, over and over: a motion
    event starts and ends every 2.5 s, and each analyzer that (re)starts the file gets
    events within seconds."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (320, 240))
    background = np.full((240, 320, 3), 90, np.uint8)
    cycle = int(2.5 * fps)
    try:
        for index in range(seconds * fps):
            frame = background.copy()
            step = index % cycle
            if step < fps:
                x = 40 + 50 * step
                cv2.rectangle(frame, (x, 80), (x + 60, 160), (255, 255, 255), -1)
            writer.write(frame)
    finally:
        writer.release()
    return path


@pytest.fixture(scope="module")
def blink(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return blink_video(tmp_path_factory.mktemp("blink") / "blink.avi")


def analyzer_env(settings: Any, snapshots: Path, **extra: str) -> dict[str, str]:
    """The environment of an `analyze` process on the test's database and stream."""
    return os.environ | {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": REDIS_URL,
        "REDIS_STREAM": settings.redis_stream,
        "SNAPSHOTS_DIR": str(snapshots),
        "SNAPSHOT_FORMAT": "jpeg",
        "OCR_ENGINE": "none",
        "ENABLE_CLIPS": "false",
        "CAMERA_LEASE_SECONDS": str(LEASE_SECONDS),
        "ANALYZER_THREADS": "1",
        **extra,
    }


def start_analyzer(
    settings: Any, root: Path, *arguments: str, **extra: str
) -> tuple[subprocess.Popen, Path]:
    """`analyze --realtime ARGUMENTS` with its own snapshot folder (which tells whose event
    is whose) and its log in ``root/log``."""
    root.mkdir(parents=True, exist_ok=True)
    log_file = root / "log"
    process = subprocess.Popen(
        [CLI, "--env-file", str(root / "none.env"), "analyze", "--realtime", *arguments],
        env=analyzer_env(settings, root / "snapshots", **extra),
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=log_file.open("w"),
    )
    return process, log_file


def register_cameras(pool: Any, video: Path, count: int) -> list[str]:
    ids = [f"cam-{i}" for i in range(count)]
    registry = CameraRegistry(pool)
    for camera_id in ids:
        registry.register(CameraInput(id=camera_id, source_url=str(video), settings={"fps": 4}))
    return ids


def holders(pool: Any) -> dict[str, str]:
    """camera -> owner of its live lease."""
    return {
        camera_id: lease.owner
        for camera_id, lease in CameraRegistry(pool).leases().items()
        if lease.owner is not None
    }


def database_now(pool: Any) -> datetime:
    with pool.connection() as conn:
        return conn.execute("SELECT now() AS now").fetchone()["now"]


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def events_by_root(pool: Any, roots: dict[str, Path]) -> list[tuple[str, str, datetime]]:
    """(camera, the analyzer whose snapshot folder holds the event's snapshot, created_at)."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT camera_id, snapshot_path, created_at FROM events ORDER BY id"
        ).fetchall()
    found = []
    for row in rows:
        writer = next(
            (name for name, root in roots.items() if (root / row["snapshot_path"]).exists()),
            "?",
        )
        found.append((row["camera_id"], writer, row["created_at"]))
    return found


def stop_all(processes: list[subprocess.Popen]) -> list[int | None]:
    for process in processes:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)
            process.send_signal(signal.SIGTERM)
    codes = []
    for process in processes:
        try:
            codes.append(process.wait(30))
        except subprocess.TimeoutExpired:
            process.kill()
            codes.append(None)
    return codes


def test_three_analyzers_share_six_cameras_take_over_and_fence(
    settings, pool, blink, tmp_path
) -> None:
    cameras = register_cameras(pool, blink, 6)
    started = [start_analyzer(settings, tmp_path / f"a{i}", "--max-cameras", "6") for i in range(3)]
    processes = [process for process, _ in started]
    owners = {f"{os.uname().nodename}:{p.pid}": f"a{i}" for i, p in enumerate(processes)}
    roots = {f"a{i}": tmp_path / f"a{i}" / "snapshots" for i in range(3)}
    try:
        # Each camera held by exactly one analyzer, two each (the fair share).
        def balanced() -> dict[str, str] | None:
            held = holders(pool)
            spread = Counter(held.values())
            if set(held) == set(cameras) and sorted(spread.values()) == [2, 2, 2]:
                return held
            return None

        held = wait_for(balanced, 120, "six cameras spread two by two")
        assert set(held.values()) == set(owners)

        # Every camera gives events, each only from the analyzer that holds it.
        wait_for(
            lambda: {c for c, _w, _t in events_by_root(pool, roots)} == set(cameras),
            60,
            "events from every camera",
        )
        time.sleep(2)
        writers: dict[str, set[str]] = {}
        for camera_id, writer, _at in events_by_root(pool, roots):
            writers.setdefault(camera_id, set()).add(writer)
        assert writers == {c: {owners[held[c]]} for c in cameras}

        # kill -9 of one: its cameras give events again elsewhere within lease + margin.
        victim = processes[0]
        victim_owner = next(o for o, name in owners.items() if name == "a0")
        orphans = sorted(c for c, o in held.items() if o == victim_owner)
        killed_at = database_now(pool)
        victim.kill()
        victim.wait(10)

        def resumed() -> dict[str, float] | None:
            after = {}
            for camera_id, writer, at in events_by_root(pool, roots):
                if camera_id in orphans and writer != "a0" and at > killed_at:
                    after.setdefault(camera_id, (at - killed_at).total_seconds())
            return after if set(after) == set(orphans) else None

        seconds = wait_for(resumed, LEASE_SECONDS + MARGIN_SECONDS + 10, "the takeover")
        after_kill = holders(pool)
        print(
            "takeover:",
            {c: (owners[held[c]], owners.get(after_kill.get(c, ""), "?")) for c in orphans},
            "seconds until events resumed:",
            seconds,
        )
        assert max(seconds.values()) < LEASE_SECONDS + MARGIN_SECONDS
        assert all(owners.get(after_kill[c]) in ("a1", "a2") for c in orphans)

        # SIGSTOP one past its lease, SIGCONT: it appends nothing for the cameras it lost.
        paused, survivor = processes[1], processes[2]
        paused_owner = next(o for o, name in owners.items() if name == "a1")
        survivor_owner = next(o for o, name in owners.items() if name == "a2")
        lost = sorted(c for c, o in holders(pool).items() if o == paused_owner)
        assert lost
        os.kill(paused.pid, signal.SIGSTOP)
        stopped_at = database_now(pool)
        wait_for(
            lambda: all(holders(pool).get(c) == survivor_owner for c in lost),
            LEASE_SECONDS + MARGIN_SECONDS,
            "the survivor to take the paused analyzer's cameras",
        )
        time.sleep(1)
        os.kill(paused.pid, signal.SIGCONT)
        continued_at = database_now(pool)
        time.sleep(4)
        # A camera given back to it later (fair share) restarts its file: the first motion
        # change comes after the background's warm-up, seconds later. Anything sooner would
        # be an event made or buffered under the lease it lost.
        window_end = continued_at + timedelta(seconds=1.5)
        stale = [
            (camera_id, at)
            for camera_id, writer, at in events_by_root(pool, roots)
            if writer == "a1" and camera_id in lost and stopped_at <= at <= window_end
        ]
        assert stale == []
        assert survivor.poll() is None and paused.poll() is None
    finally:
        codes = stop_all(processes)
    paused_log = started[1][1].read_text()
    assert "lease lapsed" in paused_log or "lease lost" in paused_log, paused_log[-3000:]
    assert codes[1:] == [0, 0], [log.read_text()[-2000:] for _, log in started[1:]]
    assert "Traceback" not in paused_log
    assert holders(pool) == {}  # released on the clean exits (the killed one's expired)


MOTION = {"state": "started", "area_percent": 2.0, "regions": [[0, 0, 10, 10]]}


def test_claims_renewals_and_fenced_appends(settings, pool, tmp_path) -> None:
    """The SQL underneath, on one database: one winner per camera, fair shares, takeover
    after expiry, and appends fenced by the token they were made under."""
    registry = CameraRegistry(pool)
    ids = [f"c{i}" for i in range(4)]
    for camera_id in [*ids, "solo"]:
        registry.register(CameraInput(id=camera_id, source_url="rtsp://x/s"))
    first = LeaseKeeper(pool, lease_seconds=2, capacity=4, owner="host-a:1")
    second = LeaseKeeper(pool, lease_seconds=2, capacity=4, owner="host-b:1")
    # Racing for the same cameras: each camera goes to exactly one.
    results: list[list[str]] = []
    threads = [
        threading.Thread(target=lambda k=k: results.append(k.claim(ids)[0]))
        for k in (first, second)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not set(results[0]) & set(results[1])
    # Once both are alive, each holds its fair share (2) after giving back the excess.
    for _ in range(3):
        for keeper in (first, second):
            _claimed, excess = keeper.claim(ids)
            if excess:
                keeper.release(keeper.held()[-excess:])
    assert len(first.held()) == 2 and len(second.held()) == 2
    assert holders(pool) == {c: "host-a:1" for c in first.held()} | {
        c: "host-b:1" for c in second.held()
    }

    # An event made under first's lease and not stored yet (the sink's next try is later).
    camera = first.held()[0]
    sink = EventSink(
        EventLog(pool),
        SnapshotStore(tmp_path / "snapshots", enabled=False),
        tmp_path / "spill.jsonl",
        fence=first,
    )
    sink.next_attempt = time.monotonic() + 60
    sink.emit(camera, "motion", datetime.now(UTC), 1, MOTION, None)
    assert sink.pending == 1
    # first is paused past its lease; second takes the camera over.
    time.sleep(2.2)
    with pytest.raises(LeaseLost):  # refused here before anything is written
        sink.emit(camera, "motion", datetime.now(UTC), 2, MOTION | {"state": "ended"}, None)
    assert second.claim([camera])[0] == [camera]
    assert camera in first.renew()
    assert sink.flush(force=True)
    # query, not read_after: read_after waits for the oldest transaction on the whole server
    assert EventLog(pool).query() == []  # the buffered one dropped at the append
    assert sink.fenced == 2

    # Events made under a lease that lapsed here but that nobody claimed since are stored.
    third = LeaseKeeper(pool, lease_seconds=2, capacity=1, owner="host-c:1")
    assert third.claim(["solo"])[0] == ["solo"]
    solo_sink = EventSink(
        EventLog(pool),
        SnapshotStore(tmp_path / "snapshots", enabled=False),
        tmp_path / "spill2.jsonl",
        fence=third,
    )
    solo_sink.next_attempt = time.monotonic() + 60
    solo_sink.emit("solo", "motion", datetime.now(UTC), 1, MOTION, None)
    time.sleep(2.2)
    assert third.token("solo") is None  # lapsed here
    assert solo_sink.flush(force=True)
    assert [e.camera_id for e in EventLog(pool).query()] == ["solo"]

    for keeper in (first, second, third):
        keeper.leave()
    assert holders(pool) == {}


def test_ad_hoc_source_takes_the_cameras_lease_or_says_who_holds_it(
    settings, pool, tmp_path
) -> None:
    video = blink_video(tmp_path / "short.avi", seconds=8)
    CameraRegistry(pool).register(CameraInput(id="door", source_url=str(video)))
    other = LeaseKeeper(pool, lease_seconds=30, capacity=1, owner="node-9:77")
    assert other.claim(["door"])[0] == ["door"]
    command = [
        CLI, "--env-file", str(tmp_path / "none.env"), "analyze",
        "--source", str(video), "--camera-id", "door",
    ]  # fmt: skip
    env = analyzer_env(settings, tmp_path / "snapshots")
    held = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert held.returncode == 1, held.stderr[-2000:]
    assert "camera door is analysed by another analyzer (node-9:77)" in held.stderr
    assert EventLog(pool).count() == 0
    other.leave()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert EventLog(pool).count() > 0
    assert holders(pool) == {}  # released at the end of the file


def test_no_camera_goes_back_and_forth_when_the_others_are_full(pool) -> None:
    registry = CameraRegistry(pool)
    ids = [f"c{i}" for i in range(4)]
    for camera_id in ids:
        registry.register(CameraInput(id=camera_id, source_url="rtsp://x/s"))
    small = LeaseKeeper(pool, lease_seconds=30, capacity=1, owner="small:1")
    big = LeaseKeeper(pool, lease_seconds=1.5, capacity=4, owner="big:1")
    assert len(small.claim(ids)[0]) == 1
    assert len(big.claim(ids)[0]) == 2  # its fair share: 4 cameras, 2 analyzers
    time.sleep(1.6)  # the last camera has been free a whole lease period: spare capacity
    big.renew()
    claimed, excess = big.claim(ids)
    assert len(claimed) == 1 and len(big.held()) == 3
    assert excess == 0  # past its share, but the small one is full: nothing to give back
    small.leave()
    big.leave()

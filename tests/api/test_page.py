"""The events page in headless Chromium, and live events, against a running server.

Needs Debian's chromium and chromium-driver (scripts/test.sh installs them).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
import redis
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from analytics_pipeline.analyzer.annotators import annotate
from analytics_pipeline.analyzer.clips import encode_mp4
from analytics_pipeline.cameras import CameraInput, CameraRegistry
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.events import NewEvent
from analytics_pipeline.payloads import ClipReadyData, LineCrossedData
from analytics_pipeline.snapshots import EncodedFile, SnapshotStore, clip_relative_path
from tests.api.test_graphql_ws import relay
from tests.conftest import REDIS_URL, free_port

CLI = shutil.which("analytics-pipeline") or str(Path(sys.executable).parent / "analytics-pipeline")
MAGENTA = (255, 0, 255)  # BGR: easy to find in a screenshot


@pytest.fixture
def server(database_url: str, stream_key: str, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "REDIS_STREAM": stream_key,
        "SNAPSHOTS_DIR": str(tmp_path / "snapshots"),
        "THUMBNAILS_DIR": str(tmp_path / "thumbnails"),
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [CLI, "--env-file", str(tmp_path / "none"), "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the API server did not start")
        yield url
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.fail(
            "chromium and chromium-driver are not installed (scripts/test.sh installs them)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # no internet
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path / 'chromium'}",
    ):
        options.add_argument(flag)
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    yield chrome
    chrome.quit()


def seeded(pool, tmp_path: Path, count: int, start: datetime) -> list[int]:
    store = SnapshotStore(tmp_path / "snapshots")
    CameraRegistry(pool).register(CameraInput(id="gate", name="Front gate", source_url="x"))
    events = []
    for i in range(count):
        moment = start + timedelta(minutes=20 * i)
        frame = np.full((360, 640, 3), 60, np.uint8)
        frame[60:300, 120:520] = MAGENTA
        kind = "anpr" if i % 3 == 0 else "motion"
        events.append(
            NewEvent(
                event_type=kind,
                camera_id="gate",
                timestamp=moment,
                frame_number=i,
                event_data={"n": i},
                snapshot_path=store.write("gate", kind, moment, annotate(frame, moment)),
            )
        )
    return EventLog(pool).append(events)


def wait(browser, condition, timeout: float = 15):
    return WebDriverWait(browser, timeout).until(lambda b: condition(b))


def test_page_shows_thumbnails_detail_chart_and_live_events(
    server, browser, pool, tmp_path, stream_key
) -> None:
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    seeded(pool, tmp_path, 6, start)
    browser.get(server)
    wait(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, ".card")) == 6)
    wait(
        browser,
        lambda b: b.execute_script(
            "return [...document.querySelectorAll('.card img')]"
            ".every(i => i.complete && i.naturalWidth === 320)"
        ),
    )
    assert "6 events" in browser.find_element(By.ID, "summary").text
    assert not browser.find_element(By.ID, "more").is_displayed()  # one page holds all six
    # 6 events 20 minutes apart span 100 minutes: charted per minute, one bar per event,
    # with time-of-day tick labels.
    chart = browser.find_element(By.ID, "chart")
    assert chart.get_attribute("data-unit") == "MINUTE"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chart rect")) == 6
    ticks = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#chart text.tick")]
    assert 2 <= len(ticks) <= 6 and all(re.fullmatch(r"\d\d:\d\d( [AP]M)?", t) for t in ticks)

    # The screenshot shows the thumbnails: magenta where the first card's image is.
    shot = cv2.imdecode(np.frombuffer(browser.get_screenshot_as_png(), np.uint8), cv2.IMREAD_COLOR)
    (tmp_path / "page.png").write_bytes(browser.get_screenshot_as_png())
    image = browser.find_element(By.CSS_SELECTOR, ".card img")
    ratio = browser.execute_script("return window.devicePixelRatio")
    rect = {k: int(v * ratio) for k, v in image.rect.items()}
    region = shot[rect["y"] : rect["y"] + rect["height"], rect["x"] : rect["x"] + rect["width"]]
    magenta = np.all(np.abs(region.astype(int) - MAGENTA) < 40, axis=2).mean()
    assert magenta > 0.3, f"thumbnail not visible in the screenshot ({magenta:.0%} magenta)"

    # Click: the full snapshot with the event's data.
    browser.find_elements(By.CSS_SELECTOR, ".card")[0].click()
    wait(browser, lambda b: b.find_element(By.ID, "detail").get_attribute("open") is not None)
    wait(
        browser,
        lambda b: (
            b.execute_script("return document.getElementById('detail-image').naturalWidth") == 640
        ),
    )
    shown = json.loads(browser.find_element(By.ID, "detail-data").text)
    assert shown["cameraId"] == "gate" and shown["data"] == {"n": 5}
    browser.find_element(By.CSS_SELECTOR, "#detail .close").click()

    # Filter by type.
    Select(browser.find_element(By.NAME, "type")).select_by_visible_text("anpr")
    browser.find_element(By.CSS_SELECTOR, "#filters button").click()
    wait(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, ".card")) == 2)
    Select(browser.find_element(By.NAME, "type")).select_by_visible_text("all")
    browser.find_element(By.CSS_SELECTOR, "#filters button").click()
    wait(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, ".card")) == 6)

    # Live, through the EventAdded subscription: an event appended and relayed to Redis
    # appears without a reload.
    wait(browser, lambda b: "on" in b.find_element(By.ID, "live").get_attribute("class"))
    [position] = seeded(pool, tmp_path, 1, datetime.now(UTC))
    relay(EventLog(pool), stream_key, 1)
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, f'.card.new[data-id="{position}"]'))

    # Deleted (a tombstone relayed to Redis): its card goes, through the EventDeleted subscription.
    EventLog(pool).delete(position)
    relay(EventLog(pool), stream_key, 1)
    wait(browser, lambda b: not b.find_elements(By.CSS_SELECTOR, f'.card[data-id="{position}"]'))


def test_live_endpoint_streams_new_stream_messages(server, stream_key) -> None:
    received: list[dict] = []

    def listen() -> None:
        with httpx.stream("GET", f"{server}/api/events/live", timeout=20) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines():
                if line.startswith("data: "):
                    received.append(json.loads(line[6:]))
                    return

    listener = threading.Thread(target=listen)
    listener.start()
    time.sleep(1)  # let the server block on XREAD from "$"
    redis.Redis.from_url(REDIS_URL).xadd(
        stream_key, {"event_type": "motion", "position": "42", "cursor": "1:42"}
    )
    listener.join(20)
    assert received == [{"event_type": "motion", "position": "42"}]


@pytest.mark.parametrize("days, unit", [(0.1, "MINUTE"), (3, "HOUR"), (60, "DAY")])
def test_chart_buckets_follow_the_span(server, browser, pool, tmp_path, days, unit) -> None:
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    EventLog(pool).append(
        [
            NewEvent(
                event_type="motion",
                camera_id="gate",
                timestamp=end - timedelta(days=days * i / 4),
                frame_number=i,
            )
            for i in range(5)
        ]
    )
    browser.get(server)
    wait(browser, lambda b: b.find_element(By.ID, "chart").get_attribute("data-unit") == unit)
    wait(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, "#chart rect")) == 5)
    ticks = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#chart text.tick")]
    assert ticks and all(ticks)
    if unit == "DAY":
        assert all(re.search(r"\d{4}", t) for t in ticks)  # dates with their year
    (tmp_path / "chart.png").write_bytes(browser.get_screenshot_as_png())  # to look at
    label = browser.find_element(By.ID, "chart").get_attribute("aria-label")
    assert label == f"events per {unit.lower()}"


def test_graphiql_is_served_offline(server, browser) -> None:
    """GraphiQL's page loads only the project's own files (no CDN; Chromium resolves no
    other host here) and runs a query."""
    browser.get(f"{server}/graphql")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, ".graphiql-container"))
    origins = browser.execute_script(
        "return performance.getEntriesByType('resource').map(r => new URL(r.name).origin)"
    )
    assert origins and set(origins) == {server}
    scripts = browser.execute_script("return [...document.scripts].map(s => s.src)")
    assert f"{server}/graphiql/graphiql.min.js" in scripts
    assert "MIT" in httpx.get(f"{server}/graphiql/LICENSE-graphiql").text
    assert httpx.get(f"{server}/graphiql/../../pyproject.toml").status_code == 404


def crossing(moment: datetime, direction: str, number: int, snapshot: str | None) -> NewEvent:
    data = LineCrossedData.model_validate(
        {
            "line": "gate",
            "direction": direction,
            "track_id": number,
            "class": "car",
            "confidence": 0.9,
            "box": [100, 100, 200, 160],
            "point": [150.0, 160.0],
        }
    )
    return NewEvent(
        event_type="line_crossed",
        camera_id="gate",
        timestamp=moment,
        frame_number=number,
        snapshot_path=snapshot,
        event_data=data.event_data(),
    )


def test_detail_plays_the_event_clip_and_the_page_counts_lines(
    server, browser, pool, tmp_path
) -> None:
    """A clip made as the analyzer makes it (encode_mp4, written through the snapshot store,
    then its clip_ready) plays in the event's detail: the <video> reaches HAVE_CURRENT_DATA."""
    store = SnapshotStore(tmp_path / "snapshots")
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    frame = np.full((360, 640, 3), 60, np.uint8)
    source = crossing(moment, "a_to_b", 1, store.write("gate", "line_crossed", moment, frame))
    others = [
        crossing(moment + timedelta(minutes=1), "a_to_b", 2, None),
        crossing(moment + timedelta(minutes=2), "b_to_a", 3, None),
    ]
    moments = [moment + timedelta(seconds=n / 5) for n in range(11)]
    images = []
    for n in range(11):  # a box moving across the road
        image = np.full((180, 320, 3), 80, np.uint8)
        image[100:140, 20 + 25 * n : 70 + 25 * n] = MAGENTA
        images.append(image)
    relative = clip_relative_path("gate", "line_crossed", moment, source.event_id)
    clip = EncodedFile(relative, encode_mp4(images, moments, 5.0))
    path = store.write("gate", "clip_ready", moment, clip)
    assert path is not None
    ready = NewEvent(
        event_type="clip_ready",
        camera_id="gate",
        timestamp=moment,
        frame_number=1,
        snapshot_path=path,
        event_data=ClipReadyData(
            source_event_id=source.event_id,
            source_event_type="line_crossed",
            path=path,
            start=moments[0],
            end=moments[-1],
            duration_seconds=2.2,
            frames=11,
            width=320,
            height=180,
        ).event_data(),
    )
    [position, *_] = EventLog(pool).append([source, *others, ready])

    browser.get(server)
    # The line counts: one row for the camera's line, a column per direction.
    wait(browser, lambda b: b.find_element(By.ID, "line-counts").is_displayed())
    cells = [
        [td.text for td in row.find_elements(By.TAG_NAME, "td")]
        for row in browser.find_elements(By.CSS_SELECTOR, "#line-counts tbody tr")
    ]
    assert cells == [["gate", "gate", "2", "1"]]

    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, f'.card[data-id="{position}"]'))
    browser.find_element(By.CSS_SELECTOR, f'.card[data-id="{position}"]').click()
    wait(browser, lambda b: b.find_element(By.ID, "detail").get_attribute("open") is not None)
    video = browser.find_element(By.ID, "detail-video")
    assert video.get_attribute("src").endswith(f"/clips/{position}")
    wait(
        browser,
        lambda b: (
            b.execute_script("return document.getElementById('detail-video').readyState") >= 2
        ),
        30,
    )
    state = browser.execute_script(
        "const v = document.getElementById('detail-video');"
        "return {error: v.error && v.error.code, duration: v.duration, width: v.videoWidth}"
    )
    assert state["error"] is None and state["width"] == 320
    assert 1.5 < state["duration"] < 3.0
    (tmp_path / "clip.png").write_bytes(browser.get_screenshot_as_png())  # to look at

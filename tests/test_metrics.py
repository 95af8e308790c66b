"""Prometheus metrics and probes: `analyze --workers 2 --metrics-port` (multiprocess mode),
`relay --metrics-port`, and the API's /metrics, scraped and parsed with prometheus-client's
own parser."""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.error
import urllib.request
from types import SimpleNamespace
from typing import Any

import redis
import redis.asyncio as aioredis
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from analytics_pipeline.api.metrics import RequestMetrics
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.relay import Relay
from tests.conftest import REDIS_URL, free_port, make_events
from tests.test_cli import CLI
from tests.test_leases import analyzer_env, blink, register_cameras, start_analyzer, wait_for

__all__ = ["blink"]  # the video fixture, shared with test_leases.py


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape: (name, sorted labels) -> value."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def total(scrape: dict, name: str, **labels: str) -> float:
    return sum(
        value
        for (sample, sample_labels), value in scrape.items()
        if sample == name and set(labels.items()) <= set(sample_labels)
    )


def test_analyzer_workers_serve_summed_metrics_and_probes(settings, pool, blink, tmp_path) -> None:
    cameras = register_cameras(pool, blink, 2)
    port = free_port()
    process, log_file = start_analyzer(
        settings,
        tmp_path / "a",
        "--workers",
        "2",
        "--max-cameras",
        "2",
        "--metrics-port",
        str(port),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: get(f"{base}/livez")[0] == 200, 60, "/livez")

        def busy() -> dict | None:
            scrape = samples(get(f"{base}/metrics")[1])
            frames = [total(scrape, "analytics_frames_analyzed_total", camera=c) for c in cameras]
            events = total(scrape, "analytics_events_emitted_total", event_type="motion")
            owned = total(scrape, "analytics_cameras_owned")
            detect = total(scrape, "analytics_detect_seconds_count")
            return scrape if min(frames) > 0 and events > 0 and owned == 2 and detect else None

        scrape = wait_for(busy, 90, "metrics from both workers")
        print("analyzer /metrics excerpt:")
        for (name, labels), value in sorted(scrape.items()):
            if name.startswith("analytics_") and "bucket" not in name:
                print(f"  {name}{dict(labels)} {value}")
        # One camera per worker (--max-cameras 2 over 2 workers): the sum covers both.
        assert {
            dict(labels)["camera"]
            for (name, labels) in scrape
            if name == "analytics_frames_analyzed_total"
        } == set(cameras)
        assert total(scrape, "analytics_buffered_events") == 0
        assert total(scrape, "analytics_frames_dropped_total") >= 0
        status, body = get(f"{base}/readyz")
        assert status == 200 and json.loads(body)["status"] == "ok"
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0, log_file.read_text()[-3000:]
    finally:
        if process.poll() is None:
            process.kill()
    assert "Traceback" not in log_file.read_text()


def test_relay_probes_say_what_is_missing(settings, tmp_path) -> None:
    port = free_port()
    env = analyzer_env(settings, tmp_path / "snapshots", REDIS_URL="redis://127.0.0.1:9/0")
    relay = subprocess.Popen(
        [CLI, "--env-file", str(tmp_path / "none.env"), "relay", "--metrics-port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_for(lambda: get(f"{base}/livez")[0] == 200, 60, "/livez")
        status, body = get(f"{base}/readyz")
        assert status == 503 and json.loads(body)["missing"] == ["Redis"]
        assert samples(get(f"{base}/metrics")[1])  # the process' own metrics at least
        relay.send_signal(signal.SIGTERM)
        _out, err = relay.communicate(timeout=30)
        assert relay.returncode == 0, err
    finally:
        if relay.poll() is None:
            relay.kill()


def _api(settings: Any, pool: Any) -> Starlette:
    async def item(request: Any) -> JSONResponse:
        if request.path_params["item_id"] == 13:
            return JSONResponse({"detail": "unlucky"}, status_code=404)
        return JSONResponse({"id": request.path_params["item_id"]})

    app = Starlette(routes=[Route("/items/{item_id:int}", item)])
    app.add_middleware(RequestMetrics)
    app.state.app = SimpleNamespace(
        settings=settings,
        event_log=EventLog(pool),
        health=SimpleNamespace(redis=aioredis.Redis.from_url(REDIS_URL)),
    )
    return app


def test_api_metrics_count_routes_by_template_and_the_relay_lag(settings, pool) -> None:
    EventLog(pool).append(make_events(3))
    with TestClient(_api(settings, pool)) as client:
        before = samples(client.get("/metrics").text)
        for path in ("/items/1", "/items/2", "/items/13", "/nowhere"):
            client.get(path)
        response = client.get("/metrics")
        assert response.headers["content-type"].startswith("text/plain")
        after = samples(response.text)

        def added(route: str, status: str) -> float:
            name = "analytics_http_requests_total"
            return total(after, name, route=route, status=status) - total(
                before, name, route=route, status=status
            )

        assert added("/items/{item_id:int}", "200") == 2
        assert added("/items/{item_id:int}", "404") == 1
        assert added("unmatched", "404") == 1
        assert not any(dict(labels).get("route") == "/items/1" for _n, labels in after)
        assert total(after, "analytics_http_request_duration_seconds_count") >= 4
        assert total(after, "analytics_relay_lag_events") == 3  # nothing published yet
        relay = Relay(
            EventLog(pool), redis.Redis.from_url(REDIS_URL), settings.redis_stream, maxlen=1000
        )

        def caught_up() -> bool:
            # The relay reads below the oldest running transaction of the whole server,
            # which other databases' work may hold back a moment: it retries, as it does.
            relay.publish_pending()
            scrape = samples(client.get("/metrics").text)
            return total(scrape, "analytics_relay_lag_events") == 0

        wait_for(caught_up, 30, "the relay lag to reach 0")
        print("API /metrics excerpt:")
        for line in client.get("/metrics").text.splitlines():
            if line.startswith(("analytics_http_requests_total", "analytics_relay_lag")):
                print(" ", line)


def test_api_metrics_need_the_key_when_reads_do(settings, pool) -> None:
    from analytics_pipeline.api.app import create_app
    from tests.conftest import API_KEY

    locked = settings.model_copy(update={"api_reads_need_key": True})
    with TestClient(create_app(locked), raise_server_exceptions=False) as client:
        assert client.get("/metrics").status_code == 401
        scrape = client.get("/metrics", headers={"Authorization": f"Bearer {API_KEY}"})
    assert scrape.status_code == 200 and "analytics_http_requests_total" in scrape.text


def test_metrics_dir_of_the_workers_is_removed_after_the_run(tmp_path) -> None:
    import os

    from analytics_pipeline.metrics import MULTIPROC_VARIABLE, multiprocess_dir

    with multiprocess_dir() as directory:
        assert os.environ[MULTIPROC_VARIABLE] == directory
        assert os.path.isdir(directory)
    assert not os.path.exists(directory)
    assert os.environ.get(MULTIPROC_VARIABLE) != directory


def test_the_api_app_serves_metrics(settings, pool) -> None:
    """The real app: /metrics answers (before the middlewares that may answer 503), and
    requests are counted by their route templates."""
    from analytics_pipeline.api.app import create_app
    from tests.conftest import API_KEY

    EventLog(pool).append(make_events(2))
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        headers = {"Authorization": f"Bearer {API_KEY}"}
        events = client.get("/api/events", headers=headers).json()
        event_id = events["events"][0]["id"] if "events" in events else events[0]["id"]
        client.get(f"/api/events/{event_id}", headers=headers)
        client.get("/livez")
        scrape = samples(client.get("/metrics").text)
    routes = {
        dict(labels)["route"] for name, labels in scrape if name == "analytics_http_requests_total"
    }
    assert "/livez" in routes and "/api/events" in routes
    assert any("{" in route for route in routes)  # a template, never /api/events/123
    assert not any(route.endswith(f"/{event_id}") for route in routes)
    assert total(scrape, "analytics_relay_lag_events") == 2

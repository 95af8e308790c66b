"""The original service's REST routes, through HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from analytics_pipeline.db import connect
from tests.api.conftest import T0, WRITE_HEADERS


def test_list_events_keeps_the_original_shape(client, seed) -> None:
    ids = seed(
        {}, {"event_type": "anpr", "event_data": {"plate": "AB12CDE"}}, {"camera_id": "cam-b"}
    )
    body = client.get("/api/events", params={"page": 1, "page_size": 2}).json()
    assert set(body) == {"events", "total", "page", "page_size", "total_pages"}
    assert (body["total"], body["page"], body["page_size"], body["total_pages"]) == (3, 1, 2, 2)
    first = body["events"][0]
    assert first["id"] == ids[2]
    assert set(first) >= {
        "id",
        "event_type",
        "camera_id",
        "timestamp",
        "frame_number",
        "snapshot_path",
        "event_data",
        "created_at",
        "event_id",
    }
    second_page = client.get("/api/events", params={"page": 2, "page_size": 2}).json()
    assert [e["id"] for e in second_page["events"]] == [ids[0]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"camera_id": "cam-b"}, [2]),
        ({"event_type": "anpr"}, [1]),
        ({"start_time": (T0 + timedelta(minutes=1)).isoformat()}, [1, 2]),
        ({"end_time": (T0 + timedelta(minutes=1)).isoformat()}, [0]),
        ({"camera_id": "cam-a", "event_type": "motion"}, [0]),
    ],
)
def test_list_filters(client, seed, params, expected) -> None:
    ids = seed({}, {"event_type": "anpr"}, {"camera_id": "cam-b"}, snapshot=False)
    body = client.get("/api/events", params=params).json()
    assert sorted(e["id"] for e in body["events"]) == [ids[i] for i in expected]
    assert body["total"] == len(expected)


def test_stats_equal_sql_counts(client, seed, database_url) -> None:
    seed({}, {}, {"event_type": "anpr"}, {"camera_id": "cam-b"}, snapshot=False)
    body = client.get("/api/events/stats").json()
    with connect(database_url) as conn:
        total = conn.execute("SELECT count(*) AS n FROM events").fetchone()["n"]
    assert body["total_events"] == total == 4
    assert body["events_by_type"] == {"anpr": 1, "motion": 3}
    assert body["events_by_camera"] == {"cam-a": 3, "cam-b": 1}
    assert body["first_event"] == T0.isoformat()
    only_b = client.get("/api/events/stats", params={"camera_id": "cam-b"}).json()
    assert only_b["total_events"] == 1


def test_get_one_event_and_its_snapshot(client, seed) -> None:
    [position] = seed({"event_type": "anpr"})
    event = client.get(f"/api/events/{position}").json()
    assert event["event_type"] == "anpr"
    image = client.get(f"/api/events/{position}/snapshot")
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"page": "x"},
        {"page_size": "100000"},
        {"start_time": "yesterday"},
        {"page_size": "-1"},
    ],
)
def test_malformed_parameters_are_400(client, params) -> None:
    response = client.get("/api/events", params=params)
    assert response.status_code == 400
    assert "detail" in response.json()


def test_delete_hides_at_once_and_erases_the_file_when_asked(
    client, seed, snapshot_store, settings
) -> None:
    keep, gone = seed({}, {"event_type": "anpr"})
    gone_path = snapshot_store.resolve(client.get(f"/api/events/{gone}").json()["snapshot_path"])
    client.get(f"/thumbnails/{gone}")  # make its thumbnail
    response = client.delete(
        f"/api/events/{gone}", params={"delete_snapshot": "true"}, headers=WRITE_HEADERS
    )
    assert response.status_code == 200
    assert response.json()["snapshot_deleted"] is True
    assert not gone_path.exists()
    assert list(settings.thumbnails_dir.rglob("*.jpg")) == []
    assert client.get(f"/api/events/{gone}").status_code == 404
    assert client.get(f"/snapshots/{gone}").status_code == 404
    assert [e["id"] for e in client.get("/api/events").json()["events"]] == [keep]
    assert client.get("/api/events/stats").json()["total_events"] == 1
    again = client.delete(f"/api/events/{gone}", headers=WRITE_HEADERS)
    assert again.status_code == 404


def test_delete_without_erasing_keeps_the_file(client, seed, snapshot_store) -> None:
    [position] = seed({})
    path = snapshot_store.resolve(client.get(f"/api/events/{position}").json()["snapshot_path"])
    client.delete(f"/api/events/{position}", headers={"X-API-Key": "test-key-123"})
    assert path.exists()
    assert client.get(f"/api/events/{position}").status_code == 404


def test_cameras_post_list_delete(client) -> None:
    cameras = [
        {"id": "gate", "name": "Gate", "source_url": "rtsp://a/s"},
        {"id": "door", "source_url": "/videos/door.mp4", "settings": {"fps": 2}},
    ]
    created = client.post("/api/cameras", json=cameras, headers=WRITE_HEADERS)
    assert created.status_code == 201
    listed = client.get("/api/cameras").json()["cameras"]
    assert [(c["id"], c["settings"]) for c in listed] == [("door", {"fps": 2}), ("gate", {})]
    assert client.delete("/api/cameras/gate", headers=WRITE_HEADERS).status_code == 200
    assert client.delete("/api/cameras/gate", headers=WRITE_HEADERS).status_code == 404
    bad = client.post(
        "/api/cameras", json=[{"id": "../x", "source_url": "y"}], headers=WRITE_HEADERS
    )
    assert bad.status_code == 422 and "id" in bad.json()["detail"]


def test_openapi_describes_the_routes(client) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert {
        "/api/events",
        "/api/events/stats",
        "/api/events/{event_id}",
        "/api/events/{event_id}/snapshot",
        "/api/cameras",
        "/api/cameras/{camera_id}",
    } <= set(spec["paths"])
    assert "delete" in spec["paths"]["/api/events/{event_id}"]


def test_reports_are_listed_and_served_by_day(client, seed, pool, settings) -> None:
    from datetime import date

    from analytics_pipeline.daily_stats import compute_day, write_day
    from analytics_pipeline.reports import write_report

    seed({}, snapshot=False)
    write_day(pool, compute_day(pool, date(2026, 6, 1)))
    write_report(pool, settings.reports_dir, date(2026, 6, 1))
    listed = client.get("/api/reports").json()["reports"]
    assert [r["day"] for r in listed] == ["2026-06-01"]
    assert set(listed[0]["files"]) == {"report.html", "hourly.png", "counts.csv", "counts.parquet"}
    page = client.get(listed[0]["files"]["report.html"])
    assert page.status_code == 200 and "Events report, 2026-06-01" in page.text
    assert client.get(listed[0]["files"]["hourly.png"]).headers["content-type"] == "image/png"
    for bad in (
        "/reports/2026-06-01/secret.txt",
        "/reports/..%2F..%2Fetc/passwd",
        "/reports/2026-13-01/report.html",
        "/reports/2026-06-02/report.html",
    ):
        assert client.get(bad).status_code == 404, bad

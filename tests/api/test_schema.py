"""The GraphQL contract: the printed schema, every operation of graphql/, filters, paging."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from analytics_pipeline.api.gql.relay import to_global_id
from analytics_pipeline.api.schema import schema
from analytics_pipeline.db import connect
from tests.api.conftest import T0, WRITE_HEADERS, gql

GRAPHQL_DIR = Path(__file__).resolve().parents[2] / "graphql"


def operation(name: str) -> str:
    return (GRAPHQL_DIR / f"{name}.graphql").read_text()


def test_schema_file_is_printed_from_the_schema() -> None:
    printed = (GRAPHQL_DIR / "schema.graphql").read_text()
    assert printed.strip() == str(schema).strip(), (
        "graphql/schema.graphql drifted: run analytics-pipeline graphql-schema > "
        "graphql/schema.graphql"
    )


def test_there_is_no_python_package_named_graphql() -> None:
    assert not (GRAPHQL_DIR / "__init__.py").exists()
    import graphql

    assert "graphql-core" in (graphql.__doc__ or "") or hasattr(graphql, "graphql_sync")


DETECTION = {
    "objects": [
        {"class": "car", "confidence": 0.91, "box": [1, 2, 30, 40]},
        {"class": "person", "confidence": 0.45, "box": [5, 5, 9, 20]},
    ]
}
TRACK = {
    "action": "entered",
    "track_id": 3,
    "class": "person",
    "confidence": 0.8,
    "box": [1, 1, 5, 5],
    "first_seen": "2026-06-01T08:01:00+00:00",
    "dwell_seconds": 2.5,
}
PLATE = {
    "plate": "AB12CDE",
    "confidence": 0.95,
    "plate_box": [10, 10, 60, 25],
    "track_id": 3,
    "reads": [{"text": "AB12CDE", "confidence": 0.95}, {"text": "A812CDE", "confidence": 0.5}],
}


@pytest.fixture
def variety(seed, client) -> list[int]:
    client.post(
        "/api/cameras",
        headers=WRITE_HEADERS,
        json=[{"id": "cam-a", "name": "Gate A", "source_url": "rtsp://a/s"}],
    )
    return seed(
        {"event_type": "motion", "event_data": {"state": "started", "area_percent": 4.0}},
        {"event_type": "detection", "event_data": DETECTION},
        {"event_type": "tracking", "event_data": TRACK},
        {"event_type": "anpr", "event_data": PLATE},
        {"event_type": "motion", "camera_id": "cam-b", "timestamp": T0 + timedelta(days=1)},
    )


def test_every_operation_of_the_frontend_runs(client, variety) -> None:
    # The subscriptions run over WebSocket (tests/api/test_graphql_ws.py).
    subscriptions = ("EventAdded", "EventDeleted")
    names = sorted(
        p.stem for p in GRAPHQL_DIR.glob("*.graphql") if p.stem not in ("schema", *subscriptions)
    )
    variables = {
        "EventsPage": {"first": 10},
        "NewerEvents": {"last": 2},
        "EventStats": {},
        "Event": {"id": str(variety[3])},
        "Cameras": {},
        "Camera": {"id": "cam-a"},
        "RegisterCamera": {"input": {"id": "cam-z", "sourceUrl": "rtsp://z/s"}},
        "UpdateCamera": {"id": "cam-z", "input": {"enabled": False}},
        "RemoveCamera": {"id": "cam-z"},
        "DeleteEvent": {"id": str(variety[0]), "deleteSnapshot": True},
        "DailyStats": {"start": "2026-06-01", "end": "2026-06-30"},
    }
    assert set(names) == set(variables), "every operation in graphql/ needs a case here"
    for name in [
        "RegisterCamera",
        "UpdateCamera",
        *sorted(set(names) - {"RegisterCamera", "UpdateCamera"}),
    ]:
        body = gql(client, operation(name), variables[name], headers=WRITE_HEADERS)
        assert "errors" not in body, (name, body)
        assert body["data"], name


def test_daily_stats_come_from_the_derived_table(client, variety, pool) -> None:
    from datetime import date

    from analytics_pipeline.daily_stats import compute_day, write_day

    write_day(pool, compute_day(pool, date(2026, 6, 1)))
    body = gql(client, operation("DailyStats"), {"start": "2026-06-01", "end": "2026-06-01"})
    [day] = body["data"]["dailyStats"]
    assert day["day"] == "2026-06-01" and day["totalEvents"] == 4
    assert day["topPlates"] == [{"plate": "AB12CDE", "reads": 1}]
    assert {(c["eventType"], c["events"]) for c in day["counts"]} == {
        ("motion", 1),
        ("detection", 1),
        ("tracking", 1),
        ("anpr", 1),
    }
    assert gql(client, operation("DailyStats"), {"start": "2026-07-01"})["data"] == {
        "dailyStats": []
    }


def test_typed_views_of_event_data(client, variety) -> None:
    body = gql(client, operation("EventsPage"), {"first": 10})
    nodes = {
        n["node"]["eventType"]: n["node"]
        for n in body["data"]["events"]["edges"]
        if n["node"]["cameraId"] == "cam-a"
    }
    assert nodes["detection"]["detections"] == [
        {"className": "car", "confidence": 0.91, "box": [1.0, 2.0, 30.0, 40.0]},
        {"className": "person", "confidence": 0.45, "box": [5.0, 5.0, 9.0, 20.0]},
    ]
    assert nodes["tracking"]["track"] == {
        "trackId": 3,
        "action": "entered",
        "className": "person",
        "confidence": 0.8,
        "dwellSeconds": 2.5,
    }
    assert nodes["anpr"]["plate"] == {
        "text": "AB12CDE",
        "confidence": 0.95,
        "box": [10.0, 10.0, 60.0, 25.0],
        "trackId": 3,
        "readCount": 2,
    }
    assert nodes["motion"]["camera"] == {
        "id": to_global_id("Camera", "cam-a"),
        "cameraId": "cam-a",
        "name": "Gate A",
    }
    assert nodes["motion"]["snapshotUrl"] == f"/snapshots/{nodes['motion']['position']}"
    assert nodes["motion"]["thumbnailUrl"] == f"/thumbnails/{nodes['motion']['position']}"


IDS_QUERY = """query($filter: EventFilter) { events(filter: $filter, first: 100) {
  totalCount edges { node { id position } } } }"""


@pytest.mark.parametrize(
    ("event_filter", "expected"),
    [
        ({}, [0, 1, 2, 3, 4]),
        ({"cameraId": "cam-b"}, [4]),
        ({"cameraIds": ["cam-a", "cam-b"]}, [0, 1, 2, 3, 4]),
        ({"eventTypes": ["motion"]}, [0, 4]),
        ({"eventTypes": ["anpr", "tracking"]}, [2, 3]),
        ({"start": "2026-06-01T08:01:00+00:00", "end": "2026-06-01T08:03:00+00:00"}, [1, 2]),
        ({"start": "2026-06-02T00:00:00+00:00"}, [4]),
        ({"objectClass": "person"}, [1, 2]),
        ({"plate": "b12 cd"}, [3]),
        ({"plate": "zzz"}, []),
        ({"minConfidence": 0.9}, [1, 3]),
        ({"trackId": 3}, [2, 3]),
        ({"trackId": 3, "eventTypes": ["anpr"]}, [3]),
    ],
)
def test_every_filter(client, variety, event_filter, expected) -> None:
    body = gql(client, IDS_QUERY, {"filter": event_filter})
    ids = sorted(int(e["node"]["position"]) for e in body["data"]["events"]["edges"])
    assert ids == sorted(variety[i] for i in expected)
    assert body["data"]["events"]["totalCount"] == len(expected)


def test_stats_equal_sql_counts(client, variety, database_url) -> None:
    body = gql(client, operation("EventStats"), {"filter": {"cameraId": "cam-a"}})
    stats = body["data"]["eventStats"]
    with connect(database_url) as conn:
        rows = conn.execute(
            "SELECT event_type, count(*) AS n FROM events WHERE camera_id = 'cam-a' GROUP BY 1"
        ).fetchall()
    assert {t["eventType"]: t["count"] for t in stats["byType"]} == {
        r["event_type"]: r["n"] for r in rows
    }
    assert stats["totalEvents"] == sum(r["n"] for r in rows) == 4
    assert stats["byCamera"] == [{"cameraId": "cam-a", "count": 4}]
    assert stats["byHour"] == [{"hour": "2026-06-01T08:00:00+00:00", "count": 4}]
    assert stats["firstEvent"] == "2026-06-01T08:00:00+00:00"


PAGE_QUERY = """query($first: Int, $after: String, $last: Int, $before: String) {
  events(first: $first, after: $after, last: $last, before: $before) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id position } } } }"""


def test_paging_while_events_are_appended_has_no_gap_and_no_duplicate(client, seed) -> None:
    original = seed(*[{} for _ in range(23)], snapshot=False)
    seen, after, appended = [], None, []
    while True:
        page = gql(client, PAGE_QUERY, {"first": 5, "after": after})["data"]["events"]
        seen += [int(e["node"]["position"]) for e in page["edges"]]
        appended += seed({}, {}, snapshot=False)  # new events arrive between pages
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted(original, reverse=True)
    # Paging forward from the newest seen reaches exactly the events appended meanwhile.
    newer, before = [], seen[0]
    from analytics_pipeline.api.cursors import encode_cursor

    before = encode_cursor(seen[0])
    while True:
        page = gql(client, PAGE_QUERY, {"last": 4, "before": before})["data"]["events"]
        newer = [int(e["node"]["position"]) for e in page["edges"]] + newer
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert newer == sorted(appended, reverse=True)


def test_bad_cursor_and_page_size_are_clear_errors(client, seed) -> None:
    seed({}, snapshot=False)
    body = gql(client, PAGE_QUERY, {"first": 2, "after": "not-a-cursor"})
    assert body["errors"][0]["message"] == "invalid cursor 'not-a-cursor'"
    both = gql(client, PAGE_QUERY, {"first": 2, "last": 2})
    assert "either first or last" in both["errors"][0]["message"]


def test_event_by_id(client, variety) -> None:
    query = "query($id: ID!) { event(id: $id) { id position eventType } }"
    expected = {"id": to_global_id("Event", variety[3]), "position": str(variety[3])}
    expected["eventType"] = "anpr"
    assert gql(client, query, {"id": str(variety[3])})["data"]["event"] == expected
    assert gql(client, query, {"id": expected["id"]})["data"]["event"] == expected  # global id
    assert gql(client, query, {"id": "999999"})["data"]["event"] is None
    bad = gql(client, query, {"id": "../1"})
    assert bad["errors"][0]["message"] == "event id must be a number, got '../1'"

"""GraphQL for issue 13: line counts per direction (live in eventStats, stored in dailyStats)
and an event's clipUrl, through the operations the page sends."""

from __future__ import annotations

from datetime import date, timedelta

from analytics_pipeline.daily_stats import compute_range, write_days
from analytics_pipeline.payloads import LineCrossedData
from tests.api.conftest import T0, WRITE_HEADERS, gql
from tests.api.test_images import clip_of
from tests.api.test_schema import operation


def crossing(minutes: int, direction: str, camera: str = "cam-a") -> dict:
    data = LineCrossedData.model_validate(
        {
            "line": "gate",
            "direction": direction,
            "track_id": minutes,
            "class": "car",
            "confidence": 0.9,
            "box": [1, 2, 30, 40],
            "point": [15.0, 40.0],
        }
    )
    return {
        "camera_id": camera,
        "event_type": "line_crossed",
        "timestamp": T0 + timedelta(minutes=minutes),
        "event_data": data.event_data(),
    }


def seed_crossings(seed, client) -> list[int]:
    """cam-a: 2 a_to_b and 1 b_to_a (a third a_to_b deleted); cam-b: 1 b_to_a; a motion."""
    positions = seed(
        crossing(1, "a_to_b"),
        crossing(2, "b_to_a"),
        crossing(3, "a_to_b"),
        crossing(4, "a_to_b"),
        crossing(5, "b_to_a", camera="cam-b"),
        {"timestamp": T0 + timedelta(minutes=6)},
        snapshot=False,
    )
    assert client.delete(f"/api/events/{positions[3]}", headers=WRITE_HEADERS).status_code == 200
    return positions


def line_counts(client, variables: dict) -> list[tuple]:
    body = gql(client, operation("EventStats"), variables)
    assert "errors" not in body, body
    return [
        (c["cameraId"], c["line"], c["direction"], c["count"])
        for c in body["data"]["eventStats"]["lineCounts"]
    ]


def test_event_stats_count_crossings_per_direction(client, seed) -> None:
    seed_crossings(seed, client)
    assert line_counts(client, {}) == [
        ("cam-a", "gate", "a_to_b", 2),
        ("cam-a", "gate", "b_to_a", 1),
        ("cam-b", "gate", "b_to_a", 1),
    ]
    assert line_counts(client, {"filter": {"cameraId": "cam-b"}}) == [
        ("cam-b", "gate", "b_to_a", 1)
    ]
    end = (T0 + timedelta(minutes=2, seconds=30)).isoformat()
    assert line_counts(client, {"filter": {"end": end}}) == [
        ("cam-a", "gate", "a_to_b", 1),
        ("cam-a", "gate", "b_to_a", 1),
    ]
    assert line_counts(client, {"filter": {"eventTypes": ["motion"]}}) == []


def test_daily_stats_carry_the_stored_line_counts(client, seed, pool) -> None:
    seed_crossings(seed, client)
    day = T0.date()
    stats, snapshot = compute_range(pool, day, day + timedelta(days=1))
    write_days(pool, stats, snapshot)
    body = gql(client, operation("DailyStats"), {"start": str(day), "end": str(day)})
    [row] = body["data"]["dailyStats"]
    assert row["lineCounts"] == [
        {"cameraId": "cam-a", "line": "gate", "direction": "a_to_b", "count": 2},
        {"cameraId": "cam-a", "line": "gate", "direction": "b_to_a", "count": 1},
        {"cameraId": "cam-b", "line": "gate", "direction": "b_to_a", "count": 1},
    ]
    quiet = str(date(2026, 6, 2))
    body = gql(client, operation("DailyStats"), {"start": quiet, "end": quiet})
    assert body["data"]["dailyStats"][0]["lineCounts"] == []


def test_an_event_has_a_clip_url_when_its_clip_is_there(
    client, seed, event_log, snapshot_store
) -> None:
    with_clip, without = seed({"event_type": "line_crossed"}, {"event_type": "line_crossed"})
    ready, clip = clip_of(event_log, snapshot_store, with_clip)

    def event(position: int) -> dict:
        return gql(client, operation("Event"), {"id": str(position)})["data"]["event"]

    assert event(with_clip)["clipUrl"] == f"/clips/{with_clip}"
    assert event(without)["clipUrl"] is None
    clip_ready = event(ready)
    assert clip_ready["clipUrl"] == f"/clips/{ready}"
    assert clip_ready["snapshotUrl"] is None and clip_ready["thumbnailUrl"] is None
    assert client.get(event(with_clip)["clipUrl"]).status_code == 200
    clip.unlink()
    assert event(with_clip)["clipUrl"] is None

"""The plate watchlist: the matching rule, plate_match events appended once, the CLI."""

from __future__ import annotations

import pytest

from analytics_pipeline.consumers import StreamMessage
from analytics_pipeline.eventlog import EventFilter, EventLog
from analytics_pipeline.watchlist import (
    PlateMatcher,
    WatchedPlate,
    Watchlist,
    WatchlistError,
    compare_plates,
    match_plate,
    plate_match_event_id,
)
from tests.conftest import make_event
from tests.consumers.conftest import Cli


@pytest.mark.parametrize(
    ("watched", "read", "expected"),
    [
        ("AB12CDE", "AB12CDE", (0, 0)),  # exact
        ("AB12CDE", "ab-12 cde", (0, 0)),  # exact once normalised
        ("AB12CDE", "A812CDE", (0, 1)),  # B/8
        ("AB12CDE", "ABI2CDE", (0, 1)),  # 1/I
        ("AB12CDE", "A8I2CDE", (0, 2)),  # two confusions
        ("KX65TRM", "KX6STRM", (0, 1)),  # 5/S
        ("OZ05ABC", "0205A8C", (0, 3)),  # O/0, Z/2, B/8 all at once
        ("AB12CDE", "AB12CDF", (1, 1)),  # one other substitution
        ("AB12CDE", "AB12CD", (1, 1)),  # one character missing
        ("AB12CDE", "AB12CDEX", (1, 1)),  # one character too many
        ("AB12CDE", "A812CDF", (1, 2)),  # a confusion and one substitution
        ("AB12CDE", "XB12CDF", None),  # two substitutions
        ("AB12CDE", "AB1CD", None),  # two missing
        ("AB12CDE", "ZZ99ZZZ", None),
        ("AB1", "AB2", None),  # short plates match exactly only
        ("AB1", "AB1", (0, 0)),
        ("AB12CDE", "", None),
    ],
)
def test_matching_rule(watched: str, read: str, expected: tuple[int, int] | None) -> None:
    assert compare_plates(watched, read) == expected


def test_every_matching_watched_plate_is_reported_exact_first() -> None:
    watchlist = [WatchedPlate(plate="AB12CDF", label="near"), WatchedPlate(plate="AB12CDE")]
    found = match_plate("AB12CDE", watchlist)
    assert [(m.watched_plate, m.kind, m.distance) for m in found] == [
        ("AB12CDE", "exact", 0),
        ("AB12CDF", "near", 1),
    ]


def anpr(event_log: EventLog, plate: str, camera_id: str = "gate") -> StreamMessage:
    event = make_event(
        camera_id=camera_id,
        event_type="anpr",
        frame_number=42,
        event_data={"plate": plate, "confidence": 0.91, "track_id": 7},
    )
    [position] = event_log.append([event])
    return StreamMessage.from_event(event_log.get(position))


def plate_matches(event_log: EventLog) -> list:
    return event_log.query(EventFilter(event_types=["plate_match"]), descending=False)


def test_exact_and_near_reads_append_one_plate_match_each_even_when_processed_twice(
    pool, event_log: EventLog
) -> None:
    watchlist = Watchlist(pool)
    watchlist.watch("ab12 cde", label="stolen")
    watchlist.watch("KX65TRM")
    matcher = PlateMatcher(watchlist, event_log)
    exact = anpr(event_log, "AB12CDE")
    near = anpr(event_log, "KX6STRM", camera_id="lobby")
    other = anpr(event_log, "ZZ99ZZZ")
    motion = StreamMessage.from_event(event_log.get(event_log.append([make_event()])[0]))
    for _ in range(2):  # processed twice: appended once
        for message in (exact, near, other, motion):
            matcher(message)
    found = plate_matches(event_log)
    assert len(found) == 2
    first, second = found
    assert first.event_id == plate_match_event_id(exact.event_id, "AB12CDE")
    assert first.camera_id == "gate" and first.frame_number == 42
    assert first.event_data == {
        "watched_plate": "AB12CDE",
        "label": "stolen",
        "read_plate": "AB12CDE",
        "distance": 0,
        "edits": 0,
        "match": "exact",
        "source_event_id": exact.event_id,
        "source_position": exact.position,
        "camera_id": "gate",
        "confidence": 0.91,
        "track_id": 7,
    }
    assert second.camera_id == "lobby"
    assert second.event_data["watched_plate"] == "KX65TRM"
    assert second.event_data["read_plate"] == "KX6STRM"
    assert second.event_data["match"] == "near"
    assert second.event_data["source_event_id"] == near.event_id


def test_watch_refuses_what_is_not_a_plate(pool) -> None:
    with pytest.raises(WatchlistError, match="not a plate"):
        Watchlist(pool).watch("--- ")
    with pytest.raises(WatchlistError, match="at most 16"):
        Watchlist(pool).watch("A" * 17)
    assert Watchlist(pool).list() == []


def test_plates_from_the_command_line(cli: Cli) -> None:
    watched = cli("plates", "watch", "ab-12 cde", "--label", "stolen car")
    assert watched.returncode == 0, watched.stderr
    assert watched.stdout.strip() == "watching AB12CDE (stolen car)"
    assert cli("plates", "watch", "KX65TRM").returncode == 0
    assert cli("plates", "list").stdout.splitlines() == [
        "AB12CDE          stolen car",
        "KX65TRM",
    ]
    assert cli("plates", "unwatch", "AB12 CDE").returncode == 0
    missing = cli("plates", "unwatch", "AB12CDE")
    assert missing.returncode == 1 and "is not watched" in missing.stderr
    bad = cli("plates", "watch", "???")
    assert bad.returncode == 1 and "not a plate" in bad.stderr
    assert cli("plates", "list").stdout.splitlines() == ["KX65TRM"]

"""The relay against the real PostgreSQL and Redis (and a throwaway Redis it can stop)."""

from __future__ import annotations

import json
import threading
import time

import redis

from analytics_pipeline.db import connect, query
from analytics_pipeline.eventlog import EventLog, append_params
from analytics_pipeline.relay import Relay
from tests.conftest import RedisServer, make_event, make_events


def stream_positions(client: redis.Redis, key: str) -> list[int]:
    return [int(fields[b"position"]) for _id, fields in client.xrange(key)]


def test_messages_carry_the_design_fields(event_log: EventLog, redis_client, stream_key) -> None:
    event = make_event(
        camera_id="gate",
        event_type="anpr",
        frame_number=12,
        snapshot_path="gate/2026-11-24/anpr_101010_000001.png",
        event_data={"plate": "AB12CDE", "confidence": 0.9},
    )
    position = event_log.append([event])[0]
    relay = Relay(event_log, redis_client, stream_key, maxlen=1000)
    assert relay.publish_pending() == 1
    [(_id, fields)] = redis_client.xrange(stream_key)
    message = {k.decode(): v.decode() for k, v in fields.items()}
    assert message["event_id"] == str(event.event_id)
    assert message["position"] == str(position)
    assert message["event_type"] == "anpr"
    assert message["camera_id"] == "gate"
    assert message["timestamp"] == event.timestamp.isoformat()
    assert message["frame_number"] == "12"
    assert message["snapshot_url"] == f"/snapshots/{position}"
    assert json.loads(message["data"]) == {"plate": "AB12CDE", "confidence": 0.9}
    assert relay.publish_pending() == 0


def test_publishes_in_commit_order_without_skipping_a_late_commit(
    event_log: EventLog, redis_client, stream_key, database_url
) -> None:
    relay = Relay(event_log, redis_client, stream_key, maxlen=1000)
    with connect(database_url) as slow_writer:
        slow_writer.execute(query("append_events"), append_params([make_event(camera_id="slow")]))
        event_log.append([make_event(camera_id="fast")])
        assert relay.publish_pending() == 0  # the fast row waits behind the open transaction
        slow_writer.commit()
    assert relay.publish_pending() == 2
    cameras = [f[b"camera_id"].decode() for _i, f in redis_client.xrange(stream_key)]
    assert cameras == ["slow", "fast"]


def test_catches_up_after_the_stream_is_deleted(event_log, redis_client, stream_key) -> None:
    positions = event_log.append(make_events(30))
    relay = Relay(event_log, redis_client, stream_key, maxlen=1000)
    relay.publish_pending()
    redis_client.delete(stream_key)
    more = event_log.append(make_events(5))
    assert relay.publish_pending() == 35
    assert stream_positions(redis_client, stream_key) == positions + more


def test_a_wiped_stream_replays_only_the_newest_maxlen(event_log, redis_client, stream_key) -> None:
    positions = event_log.append(make_events(50))
    relay = Relay(event_log, redis_client, stream_key, maxlen=20)
    assert relay.publish_pending() == 20
    assert stream_positions(redis_client, stream_key) == positions[-20:]


def test_stream_is_trimmed_approximately(event_log, redis_client, stream_key) -> None:
    event_log.append(make_events(3000))
    relay = Relay(event_log, redis_client, stream_key, maxlen=200, batch_size=500)
    redis_client.xadd(stream_key, {"cursor": "0:0", "position": "0"})  # resume from the start
    assert relay.publish_pending() == 3000
    assert 200 <= redis_client.xlen(stream_key) < 1000


def test_resumes_after_redis_restarts_with_its_data(event_log, redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url)
    relay = Relay(event_log, client, "events", maxlen=10_000)
    first = event_log.append(make_events(10))
    relay.publish_pending()
    redis_server.stop()
    second = event_log.append(make_events(10))
    try:
        relay.publish_pending()
        raise AssertionError("publishing to a stopped Redis should fail")
    except redis.ConnectionError:
        pass
    redis_server.start()
    assert relay.publish_pending() == 10
    assert stream_positions(client, "events") == first + second  # nothing lost, no duplicate


def test_run_loop_survives_an_outage_and_loses_nothing(
    event_log, database_url, redis_server: RedisServer, tmp_path
) -> None:
    client = redis.Redis.from_url(redis_server.url, socket_timeout=2)
    relay = Relay(event_log, client, "events", maxlen=10_000)
    stop = threading.Event()
    worker = threading.Thread(
        target=relay.run,
        args=(database_url, stop),
        kwargs={"poll_interval": 0.1, "max_backoff": 0.5},
    )
    worker.start()
    try:
        expected = event_log.append(make_events(20))
        wait_for(lambda: client.xlen("events") == 20)
        redis_server.stop()
        expected += event_log.append(make_events(20))
        time.sleep(0.5)  # the relay fails and backs off meanwhile
        redis_server.start()
        expected += event_log.append(make_events(5))
        wait_for(lambda: client.xlen("events") == 45)
        assert stream_positions(client, "events") == expected
    finally:
        stop.set()
        worker.join(10)
    assert not worker.is_alive()


def test_a_redis_restart_without_data_is_refilled_from_the_log(event_log, tmp_path) -> None:
    server = RedisServer(tmp_path, persistent=False)
    server.start()
    try:
        client = redis.Redis.from_url(server.url)
        relay = Relay(event_log, client, "events", maxlen=10_000)
        positions = event_log.append(make_events(15))
        relay.publish_pending()
        server.stop()
        server.start()
        assert client.xlen("events") == 0
        assert relay.publish_pending() == 15
        assert stream_positions(client, "events") == positions
    finally:
        server.stop()


def wait_for(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except redis.ConnectionError:
            pass
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_messages_hold_what_message_fields_holds(
    event_log: EventLog, redis_client, stream_key
) -> None:
    """The relay builds messages from rows without the event model: the same fields and
    values as message_fields, `data` the same JSON value (PostgreSQL's spacing)."""
    from datetime import UTC, datetime, timedelta, timezone

    from analytics_pipeline.relay import message_fields

    whole_second = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    events = [
        make_event(timestamp=whole_second, event_data={"b": [1, 2.5], "a": "caf\u00e9"}),
        make_event(snapshot_path="cam-1/2026-03-01/motion_1.png", frame_number=7),
        make_event(timestamp=datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=UTC)),
        # a clip's row holds the MP4 as its snapshot_path: no snapshot URL for it
        make_event(event_type="clip_ready", snapshot_path="cam-1/2026-03-01/clips/x.mp4"),
    ]
    event_log.append(events)
    relay = Relay(event_log, redis_client, stream_key, maxlen=1000)
    assert relay.publish_pending() == 4
    sent = [
        {k.decode(): v.decode() for k, v in fields.items()}
        for _id, fields in redis_client.xrange(stream_key)
    ]
    expected = [message_fields(e) for e in event_log.read_tail(4)]
    assert [json.loads(m.pop("data")) for m in sent] == [
        json.loads(m.pop("data")) for m in expected
    ]
    assert sent == expected
    assert sent[3]["snapshot_url"] == ""
    assert sent[0]["timestamp"] == "2026-03-01T10:00:00+00:00"

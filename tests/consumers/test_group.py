"""The consumer-group library against the real Redis and PostgreSQL."""

from __future__ import annotations

import redis

from analytics_pipeline.consumers import ConsumerGroup, StreamMessage
from analytics_pipeline.eventlog import EventLog
from tests.conftest import make_events
from tests.consumers.conftest import publish_all


class Recorder:
    """A handler that records what it handled and can fail chosen positions once."""

    def __init__(self, fail_once: set[int] | None = None) -> None:
        self.handled: list[StreamMessage] = []
        self.fail_once = set(fail_once or ())

    def __call__(self, message: StreamMessage) -> None:
        if message.position in self.fail_once:
            self.fail_once.discard(message.position)
            raise RuntimeError("handler failure")
        self.handled.append(message)

    @property
    def positions(self) -> list[int]:
        return [m.position for m in self.handled]


def group(client, stream, handler, event_log=None, **options) -> ConsumerGroup:
    options.setdefault("claim_idle_seconds", 0.2)
    options.setdefault("block_seconds", 0.05)
    return ConsumerGroup(client, stream, "test-group", handler, event_log=event_log, **options)


def drain(*consumers: ConsumerGroup, rounds: int = 200) -> None:
    """Poll every consumer until a whole round handles nothing and nothing is pending."""
    quiet = 0
    for _ in range(rounds):
        handled = sum(c.poll() for c in consumers)
        first = consumers[0]
        settled = first.pending_count() == 0 and first.client.hlen(first.pending_key) == 0
        quiet = quiet + 1 if handled == 0 and settled else 0
        if quiet >= 3:
            return
    raise AssertionError("consumers did not settle")


def publish(event_log: EventLog, client, stream, count: int, maxlen: int = 10_000) -> list[int]:
    positions = [p for p in event_log.append(make_events(count)) if p is not None]
    publish_all(event_log, client, stream, positions[-1], maxlen)
    return positions


def test_acks_after_the_handler_succeeds_and_retries_a_failure(
    event_log: EventLog, redis_client: redis.Redis, stream_key: str
) -> None:
    recorder = Recorder()
    consumer = group(redis_client, stream_key, recorder, event_log)
    consumer.ensure_group()
    positions = publish(event_log, redis_client, stream_key, 5)
    recorder.fail_once = {positions[2]}
    consumer.poll(block=False)
    assert recorder.positions == positions[:2] + positions[3:]
    assert consumer.pending_count() == 1  # the failed one stays pending, unacked
    drain(consumer)
    assert sorted(recorder.positions) == positions
    assert consumer.pending_count() == 0
    assert redis_client.hlen(consumer.pending_key) == 0


def test_a_live_consumer_takes_over_what_a_dead_one_left_pending(
    event_log: EventLog, redis_client: redis.Redis, stream_key: str
) -> None:
    dead, alive = Recorder(), Recorder()
    first = group(redis_client, stream_key, dead, event_log, consumer="dies")
    second = group(redis_client, stream_key, alive, event_log, consumer="lives")
    first.ensure_group()
    positions = publish(event_log, redis_client, stream_key, 20)
    kind, messages = first.read()  # read, then die before handling or acking
    assert kind == "messages" and len(messages) == 20
    assert first.pending_count() == 20
    drain(second)
    assert sorted(alive.positions) == positions
    assert dead.handled == []
    consumers = {
        c["name"]: c["pending"] for c in redis_client.xinfo_consumers(stream_key, "test-group")
    }
    assert consumers[b"dies"] == 0
    assert second.pending_count() == 0


def test_a_group_behind_the_trim_catches_up_from_the_log_with_nothing_missing(
    event_log: EventLog, redis_client: redis.Redis, stream_key: str
) -> None:
    publish(event_log, redis_client, stream_key, 10)
    recorder = Recorder()
    consumer = group(redis_client, stream_key, recorder, event_log, count=50)
    consumer.ensure_group()  # starts after the 10 published before it
    expected = publish(event_log, redis_client, stream_key, 10)
    drain(consumer)
    assert recorder.positions == expected
    # The consumer is away while 600 events go by a stream trimmed to about 100.
    expected += publish(event_log, redis_client, stream_key, 600, maxlen=100)
    first_position = int(redis_client.xrange(stream_key, count=1)[0][1][b"position"])
    assert first_position > expected[10] + 100, "the stream was not trimmed past the group"
    drain(consumer)
    assert recorder.positions == expected  # each once, in log order
    from_log = [m.position for m in recorder.handled if m.message_id is None]
    assert from_log == [p for p in expected[10:] if p < first_position]


def test_pending_messages_trimmed_before_takeover_are_read_from_the_log(
    event_log: EventLog, redis_client: redis.Redis, stream_key: str
) -> None:
    recorder = Recorder()
    first = group(redis_client, stream_key, Recorder(), event_log, consumer="dies", count=5)
    second = group(redis_client, stream_key, recorder, event_log, consumer="lives", count=50)
    first.ensure_group()
    expected = publish(event_log, redis_client, stream_key, 5)
    assert len(first.read()[1]) == 5  # read, then die
    expected += publish(event_log, redis_client, stream_key, 600, maxlen=100)
    assert int(redis_client.xrange(stream_key, count=1)[0][1][b"position"]) > expected[10]
    drain(second)
    assert sorted(recorder.positions) == expected
    assert len(recorder.positions) == len(expected)
    assert redis_client.hlen(second.pending_key) == 0


def test_an_earliest_group_reads_the_whole_log_then_the_stream(
    event_log: EventLog, redis_client: redis.Redis, stream_key: str
) -> None:
    expected = publish(event_log, redis_client, stream_key, 300, maxlen=100)
    recorder = Recorder()
    consumer = group(redis_client, stream_key, recorder, event_log, start="earliest")
    drain(consumer)
    expected += publish(event_log, redis_client, stream_key, 5, maxlen=100)
    drain(consumer)
    assert recorder.positions == expected


def test_dedupe_hands_a_duplicated_event_over_once(
    event_log: EventLog, redis_client: redis.Redis, stream_key: str
) -> None:
    with_dedupe, without = Recorder(), Recorder()
    deduped = ConsumerGroup(
        redis_client, stream_key, "deduped", with_dedupe, dedupe=True, block_seconds=0.05
    )
    plain = ConsumerGroup(redis_client, stream_key, "plain", without, block_seconds=0.05)
    deduped.ensure_group()
    plain.ensure_group()
    publish(event_log, redis_client, stream_key, 3)
    # The relay's rare duplicate: the same event published twice.
    _id, fields = redis_client.xrange(stream_key)[-1]
    redis_client.xadd(stream_key, fields)
    drain(deduped)
    drain(plain)
    assert len(without.handled) == 4
    assert len(with_dedupe.handled) == 3
    assert len({m.event_id for m in with_dedupe.handled}) == 3


def test_a_wiped_stream_resumes_from_the_recorded_cursor(
    event_log: EventLog, redis_client: redis.Redis, stream_key: str
) -> None:
    recorder = Recorder()
    consumer = group(redis_client, stream_key, recorder, event_log)
    consumer.ensure_group()
    expected = publish(event_log, redis_client, stream_key, 10)
    drain(consumer)
    redis_client.delete(stream_key)  # the group goes with it
    expected += publish(event_log, redis_client, stream_key, 10)  # the relay replays the tail
    drain(consumer)
    assert set(recorder.positions) == set(expected)
    assert recorder.positions[:10] == expected[:10]


def test_messages_carry_the_stream_fields_with_data_decoded(
    event_log: EventLog, redis_client: redis.Redis, stream_key: str
) -> None:
    recorder = Recorder()
    consumer = group(redis_client, stream_key, recorder, event_log)
    consumer.ensure_group()
    [position] = event_log.append(
        make_events(1, event_type="anpr", event_data={"plate": "AB12CDE"})
    )
    publish_all(event_log, redis_client, stream_key, position)
    drain(consumer)
    [message] = recorder.handled
    assert message.position == position
    assert message.event_type == "anpr"
    assert message.data == {"plate": "AB12CDE"}
    body = message.to_json()
    assert body["data"] == {"plate": "AB12CDE"} and body["position"] == str(position)
    assert StreamMessage.from_event(event_log.get(position)).to_json() == body

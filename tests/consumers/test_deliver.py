"""The `deliver` worker as a process: kill -9 mid-delivery, a failing receiver, plate matches."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
import redis

from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.relay import Relay
from tests.conftest import make_event
from tests.consumers.conftest import Cli, Receiver, wait_for

WORKER = ("deliver", "--senders", "2", "--retry-base", "0.2", "--retry-max", "1")


@pytest.fixture
def relay(event_log: EventLog, redis_client: redis.Redis, stream_key: str, database_url: str):
    stop = threading.Event()
    relay = Relay(event_log, redis_client, stream_key, maxlen=10_000)
    thread = threading.Thread(
        target=relay.run, args=(database_url, stop), kwargs={"poll_interval": 0.1}, daemon=True
    )
    thread.start()
    yield relay
    stop.set()
    thread.join(15)


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def groups_ready(client: redis.Redis, stream: str) -> bool:
    try:
        names = {g["name"] for g in client.xinfo_groups(stream)}
    except redis.ResponseError:
        return False
    return {b"webhooks", b"plate-watchlist"} <= names


def stop_gracefully(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(30)


def test_kill_9_mid_delivery_and_a_failing_receiver_lose_nothing(
    cli: Cli,
    relay: Relay,
    event_log: EventLog,
    receiver: Receiver,
    redis_client: redis.Redis,
    stream_key: str,
    workers: list[subprocess.Popen],
) -> None:
    receiver.delay = 0.05
    receiver.fail_first = 15  # the receiver answers 500 for a while, then recovers
    added = cli(
        "webhooks", "add", "hook", "--url", receiver.url, "--secret", receiver.secret,
        "--event-type", "motion",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    args = (*WORKER, "--claim-idle", "2")
    workers.append(cli.start(*args, log_name="first.log"))
    wait_for(lambda: groups_ready(redis_client, stream_key), what="the consumer groups")
    expected: set[str] = set()
    for batch in range(8):
        wanted = [make_event(frame_number=batch * 10 + i) for i in range(10)]
        unwanted = [make_event(event_type="detection", frame_number=i) for i in range(3)]
        event_log.append(wanted + unwanted)
        expected |= {str(e.event_id) for e in wanted}
        time.sleep(0.1)
    wait_for(
        lambda: len(receiver.delivered) >= 10 and receiver.in_flight > 0,
        what="deliveries under way",
    )
    workers[0].kill()  # SIGKILL, in the middle of a delivery
    workers[0].wait(10)
    in_flight_at_kill = receiver.in_flight
    delivered_before_restart = len(receiver.delivered_ids())
    # Restart; two workers at once this time.
    workers.append(cli.start(*args, log_name="second.log"))
    workers.append(cli.start(*args, log_name="third.log"))
    wait_for(lambda: receiver.delivered_ids() >= expected, timeout=120, what="every delivery")
    delivered = receiver.delivered_ids()
    requests = [r.event_id for r in receiver.requests]
    ok = [r.event_id for r in receiver.delivered]
    print(
        f"\ndelivery run: expected {len(expected)}, delivered {len(delivered & expected)}"
        f" ({delivered_before_restart} before the kill -9 with {in_flight_at_kill} in flight),"
        f" {len(requests)} requests, {sum(r.status == 500 for r in receiver.requests)}"
        f" answered 500, {len(ok) - len(set(ok))} duplicate deliveries"
    )
    assert delivered == expected  # nothing missing, nothing unwanted
    for request in receiver.delivered:
        body = json.loads(request.body)
        assert body["event_type"] == "motion" and body["event_id"] == request.event_id
    for process in workers[1:]:
        assert stop_gracefully(process) == 0
    assert redis_client.xpending(stream_key, "webhooks")["pending"] == 0


def test_deliver_appends_plate_matches_that_reach_webhooks(
    cli: Cli,
    relay: Relay,
    event_log: EventLog,
    receiver: Receiver,
    redis_client: redis.Redis,
    stream_key: str,
    workers: list[subprocess.Popen],
) -> None:
    assert cli("plates", "watch", "AB12CDE", "--label", "stolen").returncode == 0
    added = cli(
        "webhooks", "add", "alerts", "--url", receiver.url, "--secret", receiver.secret,
        "--event-type", "plate_match",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    workers.append(cli.start(*WORKER))
    wait_for(lambda: groups_ready(redis_client, stream_key), what="the consumer groups")
    reads = ["AB12CDE", "A812CDE", "ZZ99ZZZ"]  # exact, near (B/8), no match
    sources = [
        make_event(event_type="anpr", camera_id="gate", event_data={"plate": p}) for p in reads
    ]
    event_log.append(sources)
    wait_for(lambda: len(receiver.delivered) >= 2, what="two plate_match deliveries")
    time.sleep(0.5)
    bodies = sorted(receiver.bodies(), key=lambda b: b["data"]["read_plate"])
    assert [b["event_type"] for b in bodies] == ["plate_match", "plate_match"]
    assert [(b["data"]["read_plate"], b["data"]["match"]) for b in bodies] == [
        ("A812CDE", "near"),
        ("AB12CDE", "exact"),
    ]
    assert {b["data"]["source_event_id"] for b in bodies} == {
        str(sources[0].event_id),
        str(sources[1].event_id),
    }
    assert all(b["data"]["label"] == "stolen" and b["camera_id"] == "gate" for b in bodies)
    assert stop_gracefully(workers[0]) == 0

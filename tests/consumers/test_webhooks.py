"""Webhooks: registration, signed deliveries, retries, dead letters, against a local receiver."""

from __future__ import annotations

import json

import pytest

from analytics_pipeline.consumers import StreamMessage
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.webhooks import (
    RetryPolicy,
    WebhookEnqueuer,
    WebhookError,
    WebhookRegistry,
    WebhookSender,
    parse_webhook,
    sign,
    verify,
)
from tests.conftest import make_event
from tests.consumers.conftest import Cli, Receiver

BAD_URLS = [
    ("ftp://example.com/hook", "only http:// and https://"),
    ("file:///etc/passwd", "only http:// and https://"),
    ("javascript:alert(1)", "only http:// and https://"),
    ("example.com/hook", "only http:// and https://"),
    ("http://", "no host"),
    ("https://exa mple.com/hook", "spaces or control characters"),
    ("https://example.com:99999/hook", "not a valid URL"),
    ("", "empty"),
]


def count_rows(pool, table: str) -> int:
    with pool.connection() as conn:
        return conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]


def queue(pool, event_log: EventLog, *events) -> list[StreamMessage]:
    """Append events and hand them to the webhook consumer group's handler."""
    positions = event_log.append(list(events))
    messages = [StreamMessage.from_event(event_log.get(p)) for p in positions]
    enqueue = WebhookEnqueuer(pool)
    for message in messages:
        enqueue(message)
    return messages


def sender(pool, max_attempts: int = 5) -> WebhookSender:
    return WebhookSender(pool, policy=RetryPolicy(max_attempts, 0.0, 0.0), timeout_seconds=5.0)


def send_all(worker: WebhookSender, limit: int = 100) -> int:
    sent = 0
    while sent < limit and worker.send_one():
        sent += 1
    return sent


@pytest.mark.parametrize(("url", "reason"), BAD_URLS, ids=[u or "empty" for u, _ in BAD_URLS])
def test_bad_urls_are_refused_with_a_clear_error(url: str, reason: str) -> None:
    with pytest.raises(WebhookError, match=reason):
        parse_webhook("hook", url, secret="s")


def test_the_command_line_refuses_bad_urls_and_stores_nothing(cli: Cli, pool) -> None:
    for url, reason in BAD_URLS[:2] + BAD_URLS[4:5]:
        result = cli("webhooks", "add", "hook", "--url", url)
        assert result.returncode == 1, result.stderr
        assert "error: webhook 'hook' not registered: url: " in result.stderr
        assert reason in result.stderr and "Traceback" not in result.stderr
    assert count_rows(pool, "webhooks") == 0
    assert cli("webhooks", "list").stdout == ""


def test_good_urls_are_accepted() -> None:
    for url in ("http://127.0.0.1:8080/hook", "https://example.com", "HTTPS://[::1]:443/x?y=1"):
        assert parse_webhook("hook", url).url == url


def test_add_list_remove_from_the_command_line(cli: Cli, pool) -> None:
    added = cli(
        "webhooks",
        "add",
        "alerts",
        "--url",
        "https://user:pw@example.com/hook?token=abc",
        "--event-type",
        "anpr",
        "--event-type",
        "plate_match",
        "--camera-id",
        "gate",
    )
    assert added.returncode == 0, added.stderr
    assert "secret: " in added.stdout  # generated and shown once
    assert "pw" not in added.stdout.splitlines()[0]
    listed = cli("webhooks", "list", "--json")
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert row["name"] == "alerts" and "secret" not in row
    assert row["event_types"] == ["anpr", "plate_match"] and row["camera_ids"] == ["gate"]
    assert "pw" not in row["url"] and "abc" not in row["url"]
    [stored] = WebhookRegistry(pool).list()
    assert stored.url == "https://user:pw@example.com/hook?token=abc"
    assert cli("webhooks", "remove", "alerts").returncode == 0
    missing = cli("webhooks", "remove", "alerts")
    assert missing.returncode == 1 and "no webhook 'alerts'" in missing.stderr


def test_a_delivery_is_the_event_as_json_signed_with_the_secret(
    pool, event_log: EventLog, receiver: Receiver
) -> None:
    registry = WebhookRegistry(pool)
    registry.add(parse_webhook("hook", receiver.url, secret=receiver.secret))
    [message] = queue(
        pool, event_log, make_event(event_type="anpr", event_data={"plate": "AB12CDE"})
    )
    assert send_all(sender(pool)) == 1
    [request] = receiver.requests
    assert request.status == 200
    assert request.event_id == message.event_id
    assert request.signature == sign(receiver.secret, request.body)
    assert verify(receiver.secret, request.body, request.signature)
    body = json.loads(request.body)
    assert body == message.to_json()
    assert body["data"] == {"plate": "AB12CDE"} and body["position"] == str(message.position)
    assert registry.get("hook").delivered == 1


def test_only_matching_types_and_cameras_are_queued_and_an_event_once(
    pool, event_log: EventLog, receiver: Receiver
) -> None:
    registry = WebhookRegistry(pool)
    secret = receiver.secret
    registry.add(parse_webhook("plates", receiver.url, ["anpr"], secret=secret))
    registry.add(parse_webhook("gate", receiver.url, camera_ids=["gate"], secret=secret))
    messages = queue(
        pool,
        event_log,
        make_event(event_type="anpr", camera_id="gate"),
        make_event(event_type="motion", camera_id="gate"),
        make_event(event_type="anpr", camera_id="lobby"),
        make_event(event_type="motion", camera_id="lobby"),
    )
    enqueue = WebhookEnqueuer(pool)
    for message in messages:  # handled twice: queued once
        enqueue(message)
    assert send_all(sender(pool)) == 4
    names = sorted(
        (r.event_id, json.loads(r.body)["camera_id"], json.loads(r.body)["event_type"])
        for r in receiver.requests
    )
    expected = sorted(
        [(messages[0].event_id, "gate", "anpr")] * 2  # both webhooks want it
        + [(messages[1].event_id, "gate", "motion"), (messages[2].event_id, "lobby", "anpr")]
    )
    assert names == expected


def test_a_receiver_failing_for_a_while_gets_everything_once_it_recovers(
    pool, event_log: EventLog, receiver: Receiver
) -> None:
    receiver.fail_first = 7
    WebhookRegistry(pool).add(parse_webhook("hook", receiver.url, secret=receiver.secret))
    messages = queue(pool, event_log, *[make_event(frame_number=i) for i in range(5)])
    worker = WebhookSender(pool, policy=RetryPolicy(10, 0.05, 0.2), timeout_seconds=5.0)
    import time

    deadline = time.monotonic() + 30
    while receiver.delivered_ids() != {m.event_id for m in messages}:
        assert time.monotonic() < deadline, "not everything was delivered"
        if not worker.send_one():
            time.sleep(0.02)
    assert sum(r.status == 500 for r in receiver.requests) == 7
    assert WebhookRegistry(pool).get("hook").delivered == 5


def test_dead_letters_after_the_last_attempt_then_retry(
    cli: Cli, pool, event_log: EventLog, receiver: Receiver
) -> None:
    receiver.fail_first = 10**6
    WebhookRegistry(pool).add(parse_webhook("hook", receiver.url, secret=receiver.secret))
    messages = queue(pool, event_log, make_event(), make_event())
    send_all(sender(pool, max_attempts=3))
    assert len(receiver.requests) == 6  # 3 attempts each, then dead letters
    failures = cli("webhooks", "failures", "hook", "--json")
    rows = [json.loads(line) for line in failures.stdout.splitlines()]
    assert sorted(r["event_id"] for r in rows) == sorted(m.event_id for m in messages)
    assert all(r["attempts"] == 3 and r["last_status"] == 500 for r in rows)
    assert "2 failed deliveries" in cli("webhooks", "failures").stderr
    assert cli("webhooks", "failures", "nope").returncode == 1
    receiver.fail_first = 0
    retried = cli("webhooks", "retry", "hook")
    assert retried.returncode == 0 and "queued 2" in retried.stdout
    assert send_all(sender(pool)) == 2
    assert receiver.delivered_ids() == {m.event_id for m in messages}
    assert cli("webhooks", "failures", "hook", "--json").stdout == ""
    assert cli("webhooks", "retry", "nope").returncode == 1


def test_a_wrong_secret_is_detected_by_the_receiver(
    pool, event_log: EventLog, receiver: Receiver
) -> None:
    WebhookRegistry(pool).add(parse_webhook("hook", receiver.url, secret="not-the-secret"))
    queue(pool, event_log, make_event())
    send_all(sender(pool, max_attempts=2))
    assert [r.status for r in receiver.requests] == [401, 401]
    request = receiver.requests[0]
    assert not verify(receiver.secret, request.body, request.signature)
    assert verify("not-the-secret", request.body, request.signature)
    assert receiver.delivered == []
    [failure] = WebhookRegistry(pool).failures("hook")
    assert failure.last_status == 401


def test_an_unreachable_receiver_is_retried_with_the_error_recorded(
    pool, event_log: EventLog
) -> None:
    from tests.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    WebhookRegistry(pool).add(parse_webhook("hook", url, secret="s"))
    queue(pool, event_log, make_event())
    send_all(sender(pool, max_attempts=2))
    [failure] = WebhookRegistry(pool).failures("hook")
    assert failure.last_status is None and "ConnectError" in failure.last_error


def test_back_off_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(max_attempts=10, base_seconds=2, max_seconds=30)
    assert [policy.delay(n) for n in range(1, 7)] == [2, 4, 8, 16, 30, 30]

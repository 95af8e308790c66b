"""GraphQL subscriptions over graphql-transport-ws on /graphql (issue 15): the protocol's
messages and close codes, delivery with the events filter, resume, keys, limits, the cap, a
slow subscriber, and a prompt stop with subscribers attached.

The npm clients (graphql-ws, Apollo) drive the same server in test_real_clients.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from analytics_pipeline.api import graphql_ws
from analytics_pipeline.api.gql.relay import to_global_id
from analytics_pipeline.eventlog import EventLog
from analytics_pipeline.paths import GRAPHQL_DIR
from analytics_pipeline.relay import Relay
from tests.api.conftest import API_KEY, T0, WRITE_HEADERS, gql
from tests.api.test_operability import start_server
from tests.conftest import REDIS_URL

PROTOCOL = ["graphql-transport-ws"]
SUBSCRIPTION = "subscription($f: EventFilter, $a: String) { eventAdded(filter: $f, after: $a) "
SUBSCRIPTION += "{ id position eventType cameraId } }"


def relay(event_log: EventLog, stream_key: str, count: int) -> None:
    """Put ``count`` more events on the stream (waiting until they are committed and visible)."""
    sender = Relay(event_log, redis.Redis.from_url(REDIS_URL), stream_key, maxlen=1000)
    deadline = time.monotonic() + 20
    sent = 0
    while sent < count:
        assert time.monotonic() < deadline, f"only {sent} of {count} events relayed"
        sent += sender.publish_pending()
        time.sleep(0.05)


@pytest.fixture
def opened(make_client: Callable[..., TestClient]) -> Iterator[Callable[..., Any]]:
    """Open a socket on a client and say ``connection_init``; every socket closes at the end
    (before the clients stop)."""
    sockets: list[Any] = []

    def open_socket(client: TestClient, init: dict[str, Any] | None = None) -> Any:
        ws = client.websocket_connect("/graphql", subprotocols=PROTOCOL).__enter__()
        sockets.append(ws)
        ws.send_json({"type": "connection_init", **({"payload": init} if init else {})})
        assert ws.receive_json() == {"type": "connection_ack"}
        return ws

    yield open_socket
    for ws in sockets:
        with contextlib.suppress(Exception):
            ws.__exit__(None, None, None)


def subscribe(ws: Any, ident: str, variables: dict | None = None, query: str = "") -> None:
    payload = {"query": query or SUBSCRIPTION, "variables": variables or {}}
    ws.send_json({"id": ident, "type": "subscribe", "payload": payload})


def receive(ws: Any, count: int) -> list[dict[str, Any]]:
    return [ws.receive_json() for _ in range(count)]


def close_code(ws: Any) -> int:
    with pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    return closed.value.code


def test_the_protocol_and_its_close_codes(client, opened, monkeypatch) -> None:
    with client.websocket_connect("/graphql") as ws:  # no subprotocol offered
        assert close_code(ws) == 4406
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
        subscribe(ws, "1")  # before connection_init
        assert close_code(ws) == 4401
    ws = opened(client)
    ws.send_json({"type": "ping"})
    assert ws.receive_json() == {"type": "pong"}
    ws.send_json({"type": "connection_init"})
    assert close_code(ws) == 4429
    ws = opened(client)
    ws.send_text("not json")
    assert close_code(ws) == 4400
    ws = opened(client)
    subscribe(ws, "same")
    subscribe(ws, "same")
    assert close_code(ws) == 4409
    monkeypatch.setattr(graphql_ws, "INIT_SECONDS", 0.2)
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
        assert close_code(ws) == 4408


def test_another_sites_page_cannot_open_the_socket(client) -> None:
    """Browsers send their page's origin and apply no same-origin rule to WebSockets."""
    evil = {"origin": "http://evil.example"}
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL, headers=evil) as ws:
        assert close_code(ws) == 4403
    same = {"origin": "http://testserver"}
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL, headers=same) as ws:
        ws.send_json({"type": "connection_init"})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_text("not json")  # the server, not the test's teardown, ends the socket
        assert close_code(ws) == 4400


def test_queries_and_mutations_over_the_socket(client, opened) -> None:
    ws = opened(client)
    subscribe(ws, "q", query="{ cameras { cameraId } }")
    assert receive(ws, 2) == [
        {"id": "q", "type": "next", "payload": {"data": {"cameras": []}}},
        {"id": "q", "type": "complete"},
    ]
    mutation = 'mutation { removeCamera(id: "x") }'
    subscribe(ws, "m", query=mutation)
    assert ws.receive_json()["payload"] == [{"message": "mutations need an API key"}]
    keyed = opened(client, {"apiKey": API_KEY})
    subscribe(keyed, "m", query=mutation)
    assert keyed.receive_json()["payload"] == {"data": {"removeCamera": False}}


def test_events_arrive_with_the_filter_of_events(
    client, opened, event_log, stream_key, seed
) -> None:
    everything, gate_motion = opened(client), opened(client)
    subscribe(everything, "all")
    subscribe(gate_motion, "f", {"f": {"cameraId": "gate", "eventTypes": ["motion"]}})
    time.sleep(0.5)  # both subscriptions are listening
    specs = [
        {"camera_id": camera, "event_type": kind, "timestamp": T0 + timedelta(minutes=i)}
        for i, (camera, kind) in enumerate(
            [("gate", "motion"), ("door", "motion"), ("gate", "detection"), ("gate", "motion")]
        )
    ]
    positions = seed(*specs, snapshot=False)
    relay(event_log, stream_key, 4)
    got_all = [m["payload"]["data"]["eventAdded"] for m in receive(everything, 4)]
    assert [int(e["position"]) for e in got_all] == positions
    got = gate_motion.receive_json()["payload"]["data"]["eventAdded"]
    second = gate_motion.receive_json()["payload"]
    listed = gql(
        client,
        "query($f: EventFilter) { events(filter: $f, last: 10) { edges { node { position } } } }",
        {"f": {"cameraId": "gate", "eventTypes": ["motion"]}},
    )["data"]["events"]["edges"]
    expected = sorted(int(edge["node"]["position"]) for edge in listed)
    assert [int(got["position"]), int(second["data"]["eventAdded"]["position"])] == expected
    assert second["extensions"]["after"].endswith(f":{expected[-1]}")


def test_the_page_subscription_runs(client, opened, event_log, stream_key, seed) -> None:
    ws = opened(client)
    subscribe(ws, "page", query=(GRAPHQL_DIR / "EventAdded.graphql").read_text())
    time.sleep(0.5)
    [position] = seed({"camera_id": "gate"})
    relay(event_log, stream_key, 1)
    event = ws.receive_json()["payload"]["data"]["eventAdded"]
    assert event["position"] == str(position)
    assert event["thumbnailUrl"] == f"/thumbnails/{position}"


def test_deletions_arrive_through_event_deleted(
    client, opened, event_log, stream_key, seed
) -> None:
    ws = opened(client)
    subscribe(ws, "d", query=(GRAPHQL_DIR / "EventDeleted.graphql").read_text())
    time.sleep(0.5)
    [position] = seed({}, snapshot=False)
    relay(event_log, stream_key, 1)  # an added event: not a deletion
    client.delete(f"/api/events/{position}", headers=WRITE_HEADERS).raise_for_status()
    relay(event_log, stream_key, 1)  # the tombstone
    deleted = ws.receive_json()["payload"]["data"]["eventDeleted"]
    assert deleted == {"id": to_global_id("Event", position), "position": str(position)}


def test_resume_after_a_drop_from_the_stream_and_from_the_log(
    client, opened, event_log, stream_key, seed
) -> None:
    ws = opened(client)
    subscribe(ws, "1")
    time.sleep(0.5)
    first = seed({}, {}, snapshot=False)
    relay(event_log, stream_key, 2)
    received = receive(ws, 2)
    assert [int(m["payload"]["data"]["eventAdded"]["position"]) for m in received] == first
    after = received[-1]["payload"]["extensions"]["after"]
    ws.close()

    missed = seed({}, {}, {}, snapshot=False)  # appended while the client was away
    relay(event_log, stream_key, 3)
    again = opened(client)
    subscribe(again, "2", {"a": after})
    resumed = receive(again, 3)
    assert [int(m["payload"]["data"]["eventAdded"]["position"]) for m in resumed] == missed

    # The stream trimmed past the client's place: the log fills the gap.
    redis.Redis.from_url(REDIS_URL).xtrim(stream_key, maxlen=1, approximate=False)
    third = opened(client)
    subscribe(third, "3", {"a": after})
    from_log = receive(third, 3)
    assert [int(m["payload"]["data"]["eventAdded"]["position"]) for m in from_log] == missed
    # An event's own id (or its position, or an events cursor) is a place to resume after too.
    fourth = opened(client)
    subscribe(fourth, "4", {"a": str(missed[0])})
    assert [int(m["payload"]["data"]["eventAdded"]["position"]) for m in receive(fourth, 2)] == (
        missed[1:]
    )
    bad = opened(client)
    subscribe(bad, "5", {"a": "nonsense"})
    assert bad.receive_json()["type"] == "error"


def test_reads_that_need_a_key_need_it_in_connection_init(make_client, opened) -> None:
    client = make_client(api_reads_need_key=True)
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
        ws.send_json({"type": "connection_init", "payload": {"apiKey": "wrong"}})
        assert close_code(ws) == 4403
    ws = opened(client, {"authorization": f"Bearer {API_KEY}"})
    subscribe(ws, "q", query="{ cameras { cameraId } }")
    assert ws.receive_json()["type"] == "next"


def test_limits_and_the_cap_apply_to_subscriptions(make_client, opened) -> None:
    client = make_client(graphql_max_depth=2, graphql_max_subscribers=1)
    ws = opened(client)
    subscribe(ws, "deep", query="subscription { eventAdded { camera { settings } } }")
    error = ws.receive_json()
    assert error["type"] == "error" and "depth 3 exceeds 2" in error["payload"][0]["message"]
    subscribe(ws, "bad", query="subscription { eventAdded { nope } }")
    assert "nope" in ws.receive_json()["payload"][0]["message"]
    subscribe(ws, "one")
    subscribe(ws, "two")
    refused = ws.receive_json()
    # The two subscribes are checked concurrently: whichever comes second is refused.
    assert refused["type"] == "error" and refused["id"] in ("one", "two")
    assert "too many subscriptions" in refused["payload"][0]["message"]


def test_a_slow_subscriber_is_told_and_disconnected(
    make_client, opened, event_log, stream_key, seed, monkeypatch
) -> None:
    original: Callable[..., Any] = graphql_ws.Connection.send
    stalled = threading.Event()

    async def stalls_once(self: graphql_ws.Connection, message: dict[str, Any]) -> None:
        if message.get("type") == "next" and not stalled.is_set():
            stalled.set()
            await asyncio.sleep(3)  # a client that does not read: results pile up meanwhile
        await original(self, message)

    monkeypatch.setattr(graphql_ws.Connection, "send", stalls_once)
    client = make_client(graphql_subscriber_queue=8)
    ws = opened(client)
    subscribe(ws, "1")
    time.sleep(0.5)
    seed({}, snapshot=False)
    relay(event_log, stream_key, 1)
    assert stalled.wait(10)
    seed(*[{} for _ in range(30)], snapshot=False)
    relay(event_log, stream_key, 30)
    messages = []
    with pytest.raises(WebSocketDisconnect) as closed:
        while True:
            messages.append(ws.receive_json())
    assert closed.value.code == 1013
    assert messages[-1]["type"] == "error" and "too slow" in messages[-1]["payload"][0]["message"]
    assert len(messages) < 30  # never the whole backlog


def test_sigint_with_three_subscribers_stops_promptly(database_url, stream_key, tmp_path) -> None:
    process, url = start_server(database_url, stream_key, tmp_path)
    sockets = []
    try:
        for i in range(3):
            ws = connect(url.replace("http", "ws") + "/graphql", subprotocols=PROTOCOL)
            ws.send('{"type": "connection_init"}')
            assert '"connection_ack"' in str(ws.recv(10))
            ws.send(
                f'{{"id": "{i}", "type": "subscribe", "payload": {{"query": '
                f'"subscription {{ eventAdded {{ id }} }}"}}}}'
            )
            sockets.append(ws)
        time.sleep(0.5)
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        codes = []
        for ws in sockets:
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(10)
            codes.append(closed.value.rcvd.code if closed.value.rcvd else None)
        process.communicate(timeout=20)
        took = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
    assert took < 5, f"stopped after {took:.1f} s"
    assert codes == [1012] * 3  # a clean close frame: "service restart", clients reconnect


def test_a_socket_outlives_the_request_head_deadline(real_server) -> None:
    """The server's deadline on request heads (1 s here) ends at the upgrade."""
    with connect(real_server.url.replace("http", "ws") + "/graphql", subprotocols=PROTOCOL) as ws:
        ws.send('{"type": "connection_init"}')
        assert '"connection_ack"' in str(ws.recv(10))
        time.sleep(2.5)
        ws.send('{"type": "ping"}')
        assert json.loads(ws.recv(10)) == {"type": "pong"}

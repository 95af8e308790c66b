"""Property: whatever a client sends as REST parameters or GraphQL variables, the real app
(on real PostgreSQL) answers below 500 and logs nothing at error level (issue 21)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics_pipeline.api.cursors import encode_cursor
from tests.api.conftest import WRITE_HEADERS

NASTY = [
    "",
    "\x00",
    "cam\x001",
    "²",
    "\u0661\u0660",
    "-1",
    " 1",
    "1e9",
    "0",
    "9223372036854775807",
    "9223372036854775808",
    "99999999999999999999999999",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "2026-06-01T08:00:00Z",
    "2026-06-01",
    "NaN",
    "../../etc/passwd",
    "%00",
    "'; DROP TABLE events; --",
    "a" * 5000,
]
EXTREME_ZONES = [UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-14))]
texts = st.one_of(
    st.sampled_from(NASTY),
    st.text(alphabet="\x00\u00b2\u0661 09-:.T+Zz%", min_size=1, max_size=12),
    st.text(max_size=40),
    st.integers().map(str),
)
times = st.one_of(
    st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01"]),
    st.datetimes(timezones=st.sampled_from(EXTREME_ZONES)).map(datetime.isoformat),
)
param_values = st.one_of(texts, times)
REST_PARAMETERS = ["camera_id", "event_type", "start_time", "end_time", "page", "page_size"]
ids = st.one_of(st.integers(0, 2**70), st.sampled_from(["1", "00", "2"]))

json_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), texts, times
)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
cursors = st.one_of(
    texts,
    st.integers(0, 2**70).map(encode_cursor),
    st.sampled_from(["ZXZlbnQ6wrI=", "ZXZlbnQ6LTE="]),
)
event_filters = st.fixed_dictionaries(
    {"end": st.one_of(times, times, texts)},
    optional={
        "cameraId": texts,
        "cameraIds": st.lists(texts, max_size=3),
        "eventTypes": st.lists(texts, max_size=3),
        "start": st.one_of(times, times, texts),
        "objectClass": texts,
        "plate": texts,
        "minConfidence": st.one_of(st.floats(), st.integers()),
        "trackId": st.one_of(st.integers(), texts),
    },
)
variables = st.fixed_dictionaries(
    {"id": st.one_of(texts, ids.map(str)), "filter": st.one_of(event_filters, json_values)},
    optional={
        "first": st.one_of(st.integers(-(2**40), 2**40), texts),
        "last": st.integers(-10, 300),
        "after": cursors,
        "before": cursors,
        "start": st.one_of(texts, times),
    },
)
camera_inputs = st.fixed_dictionaries(
    {"id": texts, "sourceUrl": texts},
    optional={"name": texts, "enabled": st.booleans(), "settings": json_values},
)
QUERY = """query Probe($id: ID!, $filter: EventFilter, $first: Int, $last: Int, $after: String,
  $before: String, $start: Date) {
  event(id: $id) { id camera { sourceUrl } }
  events(filter: $filter, first: $first, last: $last, after: $after, before: $before) {
    totalCount edges { cursor node { id detections { box } track { trackId } plate { text } } } }
  eventStats(filter: $filter) { totalEvents byHour { hour count } }
  dailyStats(start: $start) { day }
}"""
REGISTER = "mutation($input: CameraInput!) { registerCamera(input: $input) { id sourceUrl } }"
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def seeded(client, seed) -> None:
    client.post(
        "/api/cameras",
        json=[{"id": "cam-a", "source_url": "rtsp://u:p@h/s"}],
        headers=WRITE_HEADERS,
    )
    seed(
        {},
        {"event_type": "anpr", "event_data": {"plate": "AB12CDE", "confidence": 0.9}},
        snapshot=False,
    )


def post_json(client, path: str, document: object, headers: dict | None = None):
    """POST ``document`` as JSON, NaN and Infinity included (httpx's json= refuses them)."""
    return client.post(
        path,
        content=json.dumps(document).encode(),
        headers={"content-type": "application/json"} | (headers or {}),
    )


def _errors_logged(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@SETTINGS
@given(values=st.lists(param_values, min_size=1, max_size=3), position=ids)
def test_rest_parameters_never_answer_5xx(client, seeded, caplog, values, position) -> None:
    caplog.clear()
    # Every value in every parameter, alone (so that one bad value cannot hide another)...
    queries = [{name: value} for value in values for name in REST_PARAMETERS]
    # ...and all of them at once.
    queries.append(dict(zip(REST_PARAMETERS, values * len(REST_PARAMETERS), strict=False)))
    for query in queries:
        for path in ("/api/events", "/api/events/stats"):
            response = client.get(path, params=query)
            assert response.status_code < 500, (path, query, response.text)
    for path in (f"/api/events/{position}", f"/snapshots/{position}", f"/thumbnails/{position}"):
        assert client.get(path).status_code < 500, path
    assert _errors_logged(caplog) == []


@SETTINGS
@given(values=variables)
def test_graphql_variables_never_answer_5xx(client, seeded, caplog, values) -> None:
    caplog.clear()
    # The whole set, then each filter field alone (one ill-typed field would refuse the lot).
    attempts = [values]
    if isinstance(values["filter"], dict):
        attempts += [values | {"filter": {k: v}} for k, v in values["filter"].items()]
    for attempt in attempts:
        response = post_json(client, "/graphql", {"query": QUERY, "variables": attempt})
        assert response.status_code < 500, (attempt, response.text)
        assert "internal error" not in response.text, (attempt, response.text)
    assert _errors_logged(caplog) == []


@SETTINGS
@given(camera=camera_inputs, body=json_values)
def test_camera_writes_never_answer_5xx(client, caplog, camera, body) -> None:
    caplog.clear()
    document = {"query": REGISTER, "variables": {"input": camera}}
    response = post_json(client, "/graphql", document, WRITE_HEADERS)
    assert response.status_code < 500, (camera, response.text)
    assert "internal error" not in response.text, (camera, response.text)
    rest = post_json(client, "/api/cameras", body, WRITE_HEADERS)
    assert rest.status_code < 500, (body, rest.text)
    assert _errors_logged(caplog) == []

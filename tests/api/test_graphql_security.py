"""Issue 21's GraphQL probes: every document costs what it costs, bad input is a clear 4xx."""

from __future__ import annotations

import json
import logging
import time

import pytest

from analytics_pipeline.api import graphql_route
from analytics_pipeline.api.gql.documents import MAX_TOKENS
from analytics_pipeline.eventlog import EventLog
from graphql import get_introspection_query
from tests.api.conftest import WRITE_HEADERS, gql


def fragment_bomb(count: int) -> str:
    """``count`` fragments, each spreading the previous one twice: 2**count fields."""
    fragments = ["fragment F0 on Query { cameras { id } }"]
    fragments += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, count)]
    return " ".join(fragments) + f" {{ ...F{count - 1} }}"


def state_of(client):
    return client.app.state.app


@pytest.mark.parametrize("count", [24, 150])
def test_a_fragment_bomb_is_refused_at_once(client, count) -> None:
    started = time.perf_counter()
    response = client.post("/graphql", json={"query": fragment_bomb(count)})
    elapsed = time.perf_counter() - started
    assert response.status_code == 400
    message = response.json()["errors"][0]["message"]
    assert "query cost" in message or "fragments nested more than" in message
    assert elapsed < 1.0


def test_fragments_count_at_every_spread(client) -> None:
    # 5 fragments doubling: 16 spreads of `cameras { id }` at 101 each = 1616, under 20,000;
    # 8 fragments: 128 * 101 = 12,928; 9: 25,856, over.
    assert client.post("/graphql", json={"query": fragment_bomb(8)}).status_code == 200
    refused = client.post("/graphql", json={"query": fragment_bomb(9)})
    assert refused.status_code == 400
    assert "query cost 2" in refused.json()["errors"][0]["message"]


def test_cyclic_and_unknown_fragments_are_validation_errors(client) -> None:
    cyclic = "fragment A on Query { ...B } fragment B on Query { ...A } { ...A }"
    response = client.post("/graphql", json={"query": cyclic})
    assert response.status_code == 400
    assert "within itself" in response.json()["errors"][0]["message"]
    unknown = client.post("/graphql", json={"query": "{ ...Nope }"})
    assert unknown.status_code == 400
    chain = " ".join(f"fragment C{i} on Query {{ ...C{i + 1} }}" for i in range(100))
    deep = client.post(
        "/graphql", json={"query": chain + " fragment C100 on Query { cameras { id } } { ...C0 }"}
    )
    assert deep.status_code == 400


def test_huge_documents_stop_at_the_token_limit_and_are_not_cached(client) -> None:
    huge = "{ " + "a " * 450_000 + "}"  # 900 KB, under the 1 MB body cap
    started = time.perf_counter()
    response = client.post("/graphql", json={"query": huge})
    assert time.perf_counter() - started < 1.0
    assert response.status_code == 400
    assert f"{MAX_TOKENS} tokens" in response.json()["errors"][0]["message"]
    assert len(state_of(client).documents) == 0
    nested = "{" * 1500 + "}" * 1500
    assert client.post("/graphql", json={"query": nested}).status_code == 400


def test_only_valid_documents_are_cached_within_a_byte_budget(client) -> None:
    cache = state_of(client).documents
    assert client.post("/graphql", json={"query": "{ cameras { nope } }"}).status_code == 400
    assert len(cache) == 0
    assert gql(client, "{ cameras { id } }")["data"] == {"cameras": []}
    assert len(cache) == 1
    cache.max_bytes = 400
    for i in range(40):
        gql(client, f"{{ a{i}: cameras {{ id }} }}")
    assert cache.bytes <= 400
    assert len(cache) < 40


def test_introspection_counts_against_the_limits(client) -> None:
    typenames = "{ " + " ".join(f"t{i}: __typename" for i in range(500)) + " }"
    response = client.post("/graphql", json={"query": typenames})
    assert response.status_code == 400
    assert "aliases exceed" in response.json()["errors"][0]["message"]
    schemas = "{ " + " ".join(f"s{i}: __schema {{ types {{ name }} }}" for i in range(5)) + " }"
    response = client.post("/graphql", json={"query": schemas})
    assert response.status_code == 400
    assert "query cost" in response.json()["errors"][0]["message"]
    nested = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    response = client.post("/graphql", json={"query": nested})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Maximum introspection depth exceeded"
    # GraphiQL's own introspection query still runs.
    standard = client.post("/graphql", json={"query": get_introspection_query(descriptions=True)})
    assert standard.status_code == 200, standard.text
    assert standard.json()["data"]["__schema"]["queryType"]["name"] == "Query"


def test_production_mode_suggests_no_names(make_client) -> None:
    dev, prod = make_client(), make_client(api_production=True)
    query = {"query": 'mutation { deleteEvnt(id: "1") { deleted } }'}
    assert "Did you mean" in dev.post("/graphql", json=query, headers=WRITE_HEADERS).text
    refused = prod.post("/graphql", json=query, headers=WRITE_HEADERS)
    assert refused.status_code == 400
    assert "Did you mean" not in refused.text
    assert "deleteEvent" not in refused.text


@pytest.mark.parametrize(
    ("query", "variables", "message"),
    [
        (
            "query($f: EventFilter) { events(filter: $f) { totalCount } }",
            {"f": {"cameraId": "cam\x001"}},
            "NUL",
        ),
        (
            "query($f: EventFilter) { events(filter: $f) { totalCount } }",
            {"f": {"plate": "AB\x00"}},
            "NUL",
        ),
        ('{ events(filter: {objectClass: "car\\u0000"}) { totalCount } }', {}, "NUL"),
        (
            "query($f: EventFilter) { events(filter: $f) { totalCount } }",
            {"f": {"start": "0001-01-01T00:00:00+14:00"}},
            "representable",
        ),
        (
            "query($f: EventFilter) { events(filter: $f) { totalCount } }",
            {"f": {"end": "9999-12-31T23:59:59-14:00"}},
            "representable",
        ),
        ('{ event(id: "²") { id } }', {}, "event id must be a number"),
        ('{ event(id: "99999999999999999999") { id } }', {}, "event id must be a number"),
        ('{ event(id: "-1") { id } }', {}, "event id must be a number"),
        (
            "query($a: String) { events(after: $a) { totalCount } }",
            {"a": "ZXZlbnQ6OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ=="},
            "invalid cursor",
        ),
        (
            "query($a: String) { events(before: $a) { totalCount } }",
            {"a": "ZXZlbnQ6wrI="},
            "invalid cursor",
        ),
    ],
)
def test_bad_input_is_a_clear_error_never_an_internal_one(
    client, caplog, query, variables, message
) -> None:
    caplog.set_level(logging.WARNING)
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code in (200, 400), response.text
    errors = response.json()["errors"]
    assert message in errors[0]["message"], errors
    assert "internal error" not in response.text
    assert "invalid literal" not in response.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_mutation_inputs_with_nul_are_refused(client) -> None:
    mutation = "mutation($i: CameraInput!) { registerCamera(input: $i) { id } }"
    for camera in (
        {"id": "gate", "sourceUrl": "rtsp://a/s", "name": "G\x00"},
        {"id": "gate", "sourceUrl": "rtsp://a/\x00"},
        {"id": "gate", "sourceUrl": "rtsp://a/s", "settings": {"classes": ["car\x00"]}},
        {"id": "gate\x00", "sourceUrl": "rtsp://a/s"},
    ):
        response = client.post(
            "/graphql", json={"query": mutation, "variables": {"i": camera}}, headers=WRITE_HEADERS
        )
        assert response.status_code in (200, 400)
        assert "NUL" in response.text or "camera" in response.json()["errors"][0]["message"]
    assert client.get("/api/cameras").json()["cameras"] == []


def test_deep_json_in_variables_is_a_400(client) -> None:
    deep = (
        '{"query": "{ cameras { id } }", "variables": {"x": ' + "[" * 10_000 + "]" * 10_000 + "}}"
    )
    response = client.post(
        "/graphql", content=deep.encode(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "nested" in response.json()["errors"][0]["message"]
    moderate = {
        "query": "{ cameras { id } }",
        "variables": {"x": json.loads("[" * 100 + "]" * 100)},
    }
    response = client.post("/graphql", json=moderate)
    assert response.status_code == 400
    assert "deeper than 32" in response.json()["errors"][0]["message"]


def test_an_arbitrary_value_error_is_not_shown(client, monkeypatch, caplog) -> None:
    def broken(*args, **kwargs):
        raise ValueError("invalid literal for int() with base 10: 'secret-internal'")

    monkeypatch.setattr(EventLog, "count", broken)
    body = gql(client, "{ events { totalCount } }")
    assert body["errors"][0]["message"] == "internal error (logged on the server)"
    assert "secret-internal" not in json.dumps(body)
    assert any(r.levelno == logging.ERROR for r in caplog.records)


def test_a_slow_request_is_answered_within_its_budget(client, monkeypatch) -> None:
    monkeypatch.setattr(graphql_route, "DEFAULT_TIME_BUDGET_SECONDS", 0.5)

    def slow(*args, **kwargs):
        time.sleep(2.5)
        return 0

    monkeypatch.setattr(EventLog, "count", slow)
    started = time.perf_counter()
    response = client.post("/graphql", json={"query": "{ events { totalCount } }"})
    assert time.perf_counter() - started < 2.0
    assert response.status_code == 503
    assert "took longer than 0.5 s" in response.json()["errors"][0]["message"]


def test_posts_must_be_json(client) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", ""):
        response = client.post(
            "/graphql",
            content=b'{"query": "{ cameras { id } }"}',
            headers={"content-type": content_type} if content_type else {},
        )
        assert response.status_code == 415, content_type
    ok = client.post(
        "/graphql",
        content=b'{"query": "{ cameras { id } }"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert ok.status_code == 200

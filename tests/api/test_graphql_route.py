"""Keys, limits, production mode and error messages of the GraphQL route."""

from __future__ import annotations

import psycopg
import pytest

from analytics_pipeline.api.gql.relay import to_global_id
from tests.api.conftest import API_KEY, WRITE_HEADERS, gql

REGISTER = """mutation { registerCamera(input: {id: "gate", sourceUrl: "rtsp://a/s"}) { id } }"""


@pytest.fixture
def count_sql(monkeypatch):
    """Counts the SQL statements this process sends (not the pool's empty liveness checks)."""
    calls: list[str] = []
    original = psycopg.Connection.execute

    def counting(self, query, *args, **kwargs):
        if str(query):
            calls.append(str(query))
        return original(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", counting)
    return calls


def test_writes_without_a_key_change_nothing(client, seed) -> None:
    [position] = seed({})
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-API-Key": ""}):
        response = client.post("/graphql", json={"query": REGISTER}, headers=headers)
        assert response.status_code == 401
        assert response.json()["errors"][0]["message"] == "mutations need an API key"
        delete = f'mutation {{ deleteEvent(id: "{position}") {{ deleted }} }}'
        assert client.post("/graphql", json={"query": delete}, headers=headers).status_code == 401
        assert client.delete(f"/api/events/{position}", headers=headers).status_code == 401
        assert (
            client.post(
                "/api/cameras", json=[{"id": "x", "source_url": "y"}], headers=headers
            ).status_code
            == 401
        )
        assert client.delete("/api/cameras/x", headers=headers).status_code == 401
    assert client.get("/api/cameras").json()["cameras"] == []
    assert client.get(f"/api/events/{position}").status_code == 200
    registered = gql(client, REGISTER, headers={"X-API-Key": API_KEY})["data"]["registerCamera"]
    assert registered == {"id": to_global_id("Camera", "gate")}


def test_reads_can_need_a_key(make_client, seed) -> None:
    seed({}, snapshot=False)
    client = make_client(api_reads_need_key=True)
    query = {"query": "{ events { totalCount } }"}
    assert client.post("/graphql", json=query).status_code == 401
    assert client.get("/api/events").status_code == 401
    assert client.get("/snapshots/1").status_code == 401
    assert client.post("/graphql", json=query, headers=WRITE_HEADERS).status_code == 200
    assert client.get("/api/events", headers=WRITE_HEADERS).json()["total"] == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "{ events { edges { node { camera { id } track { action } } } } "
            "a1: cameras { id } a2: cameras { id } a3: cameras { id } a4: cameras { id } "
            "a5: cameras { id } a6: cameras { id } a7: cameras { id } a8: cameras { id } "
            "a9: cameras { id } a10: cameras { id } a11: cameras { id } a12: cameras { id } "
            "a13: cameras { id } a14: cameras { id } a15: cameras { id } a16: cameras { id } "
            "a17: cameras { id } a18: cameras { id } a19: cameras { id } a20: cameras { id } "
            "a21: cameras { id } }",
            "aliases exceed",
        ),
        ("{ events(first: 5000) { totalCount } }", "between 0 and 200"),
        ("{ events(last: -1) { totalCount } }", "between 0 and 200"),
        (
            "fragment F on Event { id camera { id name sourceUrl enabled settings createdAt } "
            "detections { className confidence box } } "
            "{ a: events(first: 200) { edges { node { ...F } } } "
            "b: events(first: 200) { edges { node { ...F } } } "
            "c: events(first: 200) { edges { node { ...F } } } }",
            "cost",
        ),
    ],
)
def test_limits_are_checked_before_any_resolver(client, seed, count_sql, query, message) -> None:
    seed({}, snapshot=False)
    count_sql.clear()
    response = client.post("/graphql", json={"query": query})
    assert response.status_code == 400
    assert message in response.json()["errors"][0]["message"]
    assert count_sql == []  # no resolver ran


def test_depth_limit(make_client, count_sql) -> None:
    client = make_client(graphql_max_depth=3)
    deep = "{ events { edges { node { camera { id } } } } }"
    response = client.post("/graphql", json={"query": deep})
    assert response.status_code == 400
    assert "depth 5 exceeds 3" in response.json()["errors"][0]["message"]
    assert count_sql == []


def test_page_size_from_variables_is_checked(client, count_sql) -> None:
    query = "query($n: Int) { events(first: $n) { totalCount } }"
    response = client.post("/graphql", json={"query": query, "variables": {"n": 100000}})
    assert response.status_code == 400
    assert count_sql == []


def test_a_page_of_fifty_costs_a_fixed_number_of_queries(client, seed, count_sql) -> None:
    client.post(
        "/api/cameras",
        headers=WRITE_HEADERS,
        json=[{"id": f"cam-{i}", "source_url": "x"} for i in range(5)],
    )
    seed(*[{"camera_id": f"cam-{i % 5}"} for i in range(60)], snapshot=False)
    query = (
        "query($n: Int) { events(first: $n) { totalCount edges { node { id camera { name } "
        "track { trackId } plate { text } thumbnailUrl } } } }"
    )
    counts = {}
    for size in (5, 50):
        count_sql.clear()
        body = gql(client, query, {"n": size})
        assert len(body["data"]["events"]["edges"]) == size
        assert all(e["node"]["camera"]["name"] for e in body["data"]["events"]["edges"])
        counts[size] = len(count_sql)
    assert counts[5] == counts[50] == 3  # page, cameras of the page, total count


def test_malformed_requests_are_clear_400s(client) -> None:
    cases = [
        (b"not json", "not JSON"),
        (b'{"query": 5}', "'query' string"),
        (b'{"query": "{ events { nope } }"}', "Cannot query field 'nope'"),
        (b'{"query": "{ events { "}', "Syntax Error"),
        (b'{"query": "query A { cameras { id } } query B { cameras { id } }"}', "operationName"),
    ]
    for body, message in cases:
        response = client.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, body
        assert message in response.json()["errors"][0]["message"]
        assert "Traceback" not in response.text


def test_body_size_limit(make_client) -> None:
    client = make_client(api_max_body_bytes=2048)
    response = client.post(
        "/graphql", content=b"x" * 5000, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_production_mode_hides_introspection_and_graphiql(make_client) -> None:
    dev, prod = make_client(), make_client(api_production=True)
    introspection = {"query": "{ __schema { queryType { name } } }"}
    assert dev.post("/graphql", json=introspection).json()["data"]["__schema"]
    refused = prod.post("/graphql", json=introspection)
    assert refused.status_code == 400
    assert "introspection" in refused.json()["errors"][0]["message"].lower()
    assert "GraphiQL" in dev.get("/graphql").text
    assert prod.get("/graphql").status_code == 404
    assert dev.get("/operations/schema.graphql").status_code == 200
    assert prod.get("/operations/schema.graphql").status_code == 404
    assert "query EventsPage" in prod.get("/operations/EventsPage.graphql").text
    assert prod.get("/operations/..%2Fpyproject.toml").status_code == 404


def test_internal_errors_are_not_leaked(client, monkeypatch) -> None:
    from analytics_pipeline.eventlog import EventLog

    def broken(*args, **kwargs):
        raise RuntimeError("password=hunter2 in a stack trace")

    monkeypatch.setattr(EventLog, "count", broken)
    body = gql(client, "{ events { totalCount } }")
    assert body["errors"][0]["message"] == "internal error (logged on the server)"
    assert "hunter2" not in str(body)
    monkeypatch.setattr(EventLog, "stats", broken)
    response = client.get("/api/events/stats")
    assert response.status_code == 500
    assert "hunter2" not in response.text


def test_health_reports_both_stores(client) -> None:
    assert client.get("/health").json() == {"status": "ok", "postgres": "ok", "redis": "ok"}


def test_health_reports_redis_down(make_client) -> None:
    client = make_client(redis_url="redis://127.0.0.1:1/0")
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["postgres"] == "ok"
    assert response.json()["redis"].startswith("error")

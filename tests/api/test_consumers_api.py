"""Webhooks, the plate watchlist and plate search through the API (issue 10)."""

from __future__ import annotations

import pytest

from tests.api.conftest import WRITE_HEADERS, gql

ADD = """mutation($name: String!, $url: String!, $types: [String!]) {
  addWebhook(name: $name, url: $url, eventTypes: $types, secret: "s3cret") {
    secret webhook { name url eventTypes cameraIds pending delivered dead }
  }
}"""
LIST = "{ webhooks { name url } webhookFailures { id } }"


def test_webhook_mutations_need_an_api_key(client) -> None:
    response = client.post("/graphql", json={"query": 'mutation { removeWebhook(name: "x") }'})
    assert response.status_code == 401
    body = gql(client, LIST)
    assert body["errors"][0]["message"] == "webhooks are read with an API key"


def test_add_list_retry_and_remove_a_webhook(client) -> None:
    variables = {"name": "alerts", "url": "https://user:pw@example.test/hook", "types": ["anpr"]}
    added = gql(client, ADD, variables, WRITE_HEADERS)["data"]["addWebhook"]
    assert added["secret"] == "s3cret"
    assert added["webhook"]["url"] == "https://user:***@example.test/hook"
    assert added["webhook"]["eventTypes"] == ["anpr"]
    listed = gql(client, LIST, headers=WRITE_HEADERS)["data"]
    assert listed == {
        "webhooks": [{"name": "alerts", "url": added["webhook"]["url"]}],
        "webhookFailures": [],
    }
    retried = gql(client, 'mutation { retryWebhook(name: "alerts") }', headers=WRITE_HEADERS)
    assert retried["data"] == {"retryWebhook": 0}
    remove = 'mutation { removeWebhook(name: "alerts") }'
    assert gql(client, remove, headers=WRITE_HEADERS)["data"] == {"removeWebhook": True}
    assert gql(client, remove, headers=WRITE_HEADERS)["data"] == {"removeWebhook": False}


@pytest.mark.parametrize("url", ["ftp://example.test/x", "javascript:alert(1)", "", "http://"])
def test_a_bad_webhook_url_is_refused_and_nothing_stored(client, url) -> None:
    body = gql(client, ADD, {"name": "bad", "url": url}, WRITE_HEADERS)
    assert body["data"] is None
    assert "URL" in body["errors"][0]["message"] or "url" in body["errors"][0]["message"]
    assert gql(client, LIST, headers=WRITE_HEADERS)["data"]["webhooks"] == []


def test_watch_and_unwatch_plates(client) -> None:
    watch = 'mutation { watchPlate(plate: "ab 12-cde", label: "stolen") { plate label } }'
    assert client.post("/graphql", json={"query": watch}).status_code == 401
    body = gql(client, watch, headers=WRITE_HEADERS)
    assert body["data"]["watchPlate"] == {"plate": "AB12CDE", "label": "stolen"}
    listed = gql(client, "{ watchedPlates { plate label } }")["data"]["watchedPlates"]
    assert listed == [{"plate": "AB12CDE", "label": "stolen"}]
    unwatch = 'mutation { unwatchPlate(plate: "AB12CDE") }'
    assert gql(client, unwatch, headers=WRITE_HEADERS)["data"] == {"unwatchPlate": True}
    assert gql(client, "{ watchedPlates { plate } }")["data"]["watchedPlates"] == []
    bad = gql(client, 'mutation { watchPlate(plate: "--") { plate } }', headers=WRITE_HEADERS)
    assert "not a plate" in bad["errors"][0]["message"]


@pytest.fixture
def plates_seeded(seed) -> list[int]:
    def anpr(camera: str, plate: str) -> dict:
        return {"camera_id": camera, "event_type": "anpr", "event_data": {"plate": plate}}

    return seed(
        anpr("cam-a", "AB12CDE"),
        anpr("cam-b", "A812CDE"),  # B read as 8: one confusion
        anpr("cam-a", "AB12CD"),  # one character missing
        anpr("cam-b", "XY99ZZZ"),
        {"event_type": "motion"},
        snapshot=False,
    )


def test_plate_sightings_exact_and_fuzzy(client, plates_seeded) -> None:
    query = """query($fuzzy: Boolean) { plateSightings(plate: "ab12cde", fuzzy: $fuzzy) {
      cameraId timestamp plate kind distance eventPosition } }"""
    exact = gql(client, query, {"fuzzy": False})["data"]["plateSightings"]
    assert [(s["cameraId"], s["plate"], s["kind"]) for s in exact] == [
        ("cam-a", "AB12CDE", "exact")
    ]
    fuzzy = gql(client, query, {"fuzzy": True})["data"]["plateSightings"]
    assert [(s["cameraId"], s["plate"], s["kind"]) for s in fuzzy] == [
        ("cam-a", "AB12CD", "near"),
        ("cam-b", "A812CDE", "near"),
        ("cam-a", "AB12CDE", "exact"),
    ]
    assert [s["eventPosition"] for s in fuzzy] == [str(i) for i in plates_seeded[2::-1]]


def test_event_filter_plate_fuzzy_pages_and_counts(client, plates_seeded) -> None:
    query = """query($fuzzy: Boolean, $after: String) {
      events(filter: {plate: "AB12CDE", plateFuzzy: $fuzzy}, first: 2, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { plate { text } } } } }"""
    plain = gql(client, query, {"fuzzy": False})["data"]["events"]
    assert plain["totalCount"] == 1
    first = gql(client, query, {"fuzzy": True})["data"]["events"]
    assert first["totalCount"] == 3
    assert [e["node"]["plate"]["text"] for e in first["edges"]] == ["AB12CD", "A812CDE"]
    assert first["pageInfo"]["hasNextPage"]
    after = first["pageInfo"]["endCursor"]
    rest = gql(client, query, {"fuzzy": True, "after": after})["data"]["events"]
    assert [e["node"]["plate"]["text"] for e in rest["edges"]] == ["AB12CDE"]
    assert not rest["pageInfo"]["hasNextPage"]


def test_rest_plate_filter_exact_and_fuzzy(client, plates_seeded) -> None:
    plain = client.get("/api/events", params={"plate": "ab12cde"}).json()
    assert plain["total"] == 1
    fuzzy = client.get("/api/events", params={"plate": "ab12cde", "plate_fuzzy": "true"}).json()
    assert fuzzy["total"] == 3
    assert {e["event_data"]["plate"] for e in fuzzy["events"]} == {"AB12CDE", "A812CDE", "AB12CD"}
    bad = client.get("/api/events", params={"plate": "x", "plate_fuzzy": "maybe"})
    assert bad.status_code == 400

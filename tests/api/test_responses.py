"""REST and GraphQL answers are encoded with orjson, and what orjson refuses still answers."""

from __future__ import annotations

import json

from analytics_pipeline.api.responses import FastJSONResponse
from tests.api.conftest import gql

BIG = 2**70  # jsonb holds it; orjson refuses integers beyond 64 bits


def test_the_same_json_as_the_standard_library() -> None:
    content = {"name": "Zoë", "n": 1, "x": 0.5, "nested": [None, True, {"a": "b"}]}
    assert (
        FastJSONResponse(content).body
        == json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    )
    assert json.loads(FastJSONResponse({"big": BIG}).body) == {"big": BIG}


def test_event_data_orjson_refuses_is_still_served(client, seed) -> None:
    (position,) = seed({"event_data": {"big": BIG}}, snapshot=False)
    response = client.get("/api/events")
    assert response.status_code == 200
    assert response.json()["events"][0]["event_data"]["big"] == BIG
    body = gql(client, "{ events(first: 1) { edges { node { position data } } } }")
    node = body["data"]["events"]["edges"][0]["node"]
    assert node == {"position": str(position), "data": {"big": BIG}}

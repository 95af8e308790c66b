"""Relay Global Object Identification (issue 15): global ids, node, nodes, and how they map
to the REST ids."""

from __future__ import annotations

from analytics_pipeline.api.gql.relay import parse_global_id, to_global_id
from tests.api.conftest import WRITE_HEADERS, gql

NODE = "query($id: ID!) { node(id: $id) { __typename id ... on Event { position } "
NODE += "... on Camera { cameraId } } }"


def test_a_global_id_names_the_type_and_the_rest_id() -> None:
    assert to_global_id("Event", 42) == "RXZlbnQ6NDI="  # base64("Event:42")
    assert parse_global_id("RXZlbnQ6NDI=") == ("Event", "42")
    assert parse_global_id("42") is None and parse_global_id("gate") is None
    assert parse_global_id(to_global_id("Other", 1)) is None


def test_node_and_nodes_refetch_events_and_cameras(client, seed) -> None:
    [position] = seed({"camera_id": "gate"}, snapshot=False)
    client.post(
        "/api/cameras", json=[{"id": "gate", "source_url": "rtsp://g/s"}], headers=WRITE_HEADERS
    ).raise_for_status()
    event_id, camera_id = to_global_id("Event", position), to_global_id("Camera", "gate")
    assert gql(client, NODE, {"id": event_id})["data"]["node"] == {
        "__typename": "Event",
        "id": event_id,
        "position": str(position),
    }
    assert gql(client, NODE, {"id": camera_id})["data"]["node"] == {
        "__typename": "Camera",
        "id": camera_id,
        "cameraId": "gate",
    }
    for missing in (to_global_id("Event", 999999), to_global_id("Camera", "nope"), "junk"):
        assert gql(client, NODE, {"id": missing})["data"]["node"] is None
    nodes = gql(
        client,
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": [camera_id, "junk", event_id]},
    )["data"]["nodes"]
    assert nodes == [{"id": camera_id}, None, {"id": event_id}]
    too_many = gql(client, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ["x"] * 101})
    assert "at most 100" in too_many["errors"][0]["message"]

    # Every argument that names an event or a camera takes the global id or the REST id.
    by_rest = gql(client, '{ camera(id: "gate") { id } }')["data"]["camera"]
    assert by_rest == gql(client, f'{{ camera(id: "{camera_id}") {{ id }} }}')["data"]["camera"]
    wrong = gql(client, f'{{ event(id: "{camera_id}") {{ id }} }}')
    assert "not of an Event" in wrong["errors"][0]["message"]
    deleted = gql(
        client,
        f'mutation {{ deleteEvent(id: "{event_id}") {{ deleted }} }}',
        headers=WRITE_HEADERS,
    )
    assert deleted["data"]["deleteEvent"] == {"deleted": True}
    assert client.get(f"/api/events/{position}").status_code == 404  # the same event in REST

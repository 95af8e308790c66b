"""Issue 21's REST and serving probes: secrets, bad input, deletes, headers, image types."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from analytics_pipeline.cameras import CameraRegistry, redact_url
from tests.api.conftest import WRITE_HEADERS, gql

SECRET_URL = "rtsp://admin:hunter2@10.0.0.5/stream1"
SHOWN_URL = "rtsp://admin:***@10.0.0.5/stream1"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (SECRET_URL, SHOWN_URL),
        ("rtsp://token123@cam.local/live", "rtsp://***@cam.local/live"),
        ("rtsp://u:p@ss@h:554/a?b=1", "rtsp://u:***@h:554/a?b=1"),
        (
            "http://cam/snap.jpg?user=bob&password=pw&apikey=k&sig=s&channel=2",
            "http://cam/snap.jpg?user=bob&password=***&apikey=***&sig=***&channel=2",
        ),
        ("https://cam/x?access_token=abc#frag", "https://cam/x?access_token=***#frag"),
        ("/videos/gate.mp4", "/videos/gate.mp4"),
        ("0", "0"),
        ("rtsp://10.0.0.5/stream1", "rtsp://10.0.0.5/stream1"),
    ],
)
def test_redact_url(url, shown) -> None:
    assert redact_url(url) == shown


def test_camera_credentials_never_leave(client, seed, pool, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    registered = client.post(
        "/api/cameras", json=[{"id": "cam-a", "source_url": SECRET_URL}], headers=WRITE_HEADERS
    )
    assert registered.status_code == 201
    seed({}, snapshot=False)
    answers = [
        registered.text,
        client.get("/api/cameras").text,
        client.get("/api/events").text,
        str(gql(client, "{ cameras { sourceUrl } }")),
        str(gql(client, '{ camera(id: "cam-a") { sourceUrl } }')),
        str(gql(client, "{ events { edges { node { camera { sourceUrl } } } } }")),
        str(
            gql(
                client,
                'mutation { updateCamera(id: "cam-a", input: {name: "Gate"}) { sourceUrl } }',
                headers=WRITE_HEADERS,
            )
        ),
    ]
    for text in answers:
        assert "hunter2" not in text
    assert SHOWN_URL in answers[1] and SHOWN_URL in answers[3] and SHOWN_URL in answers[5]
    assert "hunter2" not in caplog.text
    # The analyzer still reads the full URL.
    assert CameraRegistry(pool).get("cam-a").source_url == SECRET_URL


def test_sending_back_the_redacted_url_keeps_the_credentials(client, pool) -> None:
    client.post(
        "/api/cameras", json=[{"id": "cam-a", "source_url": SECRET_URL}], headers=WRITE_HEADERS
    )
    shown = client.get("/api/cameras").json()["cameras"][0]
    shown["name"] = "Gate A"
    again = {k: shown[k] for k in ("id", "name", "source_url", "enabled", "settings")}
    assert client.post("/api/cameras", json=[again], headers=WRITE_HEADERS).status_code == 201
    update = (
        f'mutation {{ updateCamera(id: "cam-a", input: {{sourceUrl: "{SHOWN_URL}"}}) {{ name }} }}'
    )
    assert "errors" not in gql(client, update, headers=WRITE_HEADERS)
    stored = CameraRegistry(pool).get("cam-a")
    assert (stored.name, stored.source_url) == ("Gate A", SECRET_URL)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/events", {"camera_id": "cam\x001"}),
        ("/api/events", {"event_type": "motion\x00"}),
        ("/api/events/stats", {"camera_id": "\x00"}),
        ("/api/events", {"page": "²"}),
        ("/api/events", {"page_size": "\u0661\u0660"}),  # Arabic-Indic 10
        ("/api/events", {"page": "99999999999999999999999"}),
        ("/api/events", {"start_time": "0001-01-01T00:00:00+14:00"}),
        ("/api/events", {"end_time": "9999-12-31T23:59:59-14:00"}),
        ("/api/events/stats", {"start_time": "2026-01-01T00:00:00\x00"}),
    ],
)
def test_bad_parameters_are_400_not_500(client, caplog, path, params) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 400, response.text
    assert response.json()["detail"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/events/99999999999999999999"),
        ("GET", "/api/events/9223372036854775808"),
        ("GET", "/api/events/0"),
        ("GET", "/snapshots/99999999999999999999"),
        ("GET", "/thumbnails/99999999999999999999"),
        ("DELETE", "/api/events/99999999999999999999"),
        ("DELETE", "/api/cameras/cam%001"),
        ("DELETE", "/api/cameras/..%2F..%2Fx"),
    ],
)
def test_ids_out_of_range_are_404(client, caplog, method, path) -> None:
    response = client.request(method, path, headers=WRITE_HEADERS)
    assert response.status_code == 404, response.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "body",
    [
        b'[{"id": "cam-a", "source_url": "rtsp://a/\\u0000"}]',
        b'[{"id": "cam-a", "source_url": "rtsp://a/s", "name": "G\\u0000"}]',
        b'[{"id": "cam-a", "source_url": "rtsp://a/s", "settings": {"classes": ["\\u0000"]}}]',
        b'[{"id": "cam-a", "source_url": "rtsp://a/s", "settings": {"fps": NaN}}]',
        b"[" * 10_000 + b"]" * 10_000,
        b"not json",
    ],
)
def test_bad_camera_bodies_are_4xx(client, caplog, body) -> None:
    response = client.post(
        "/api/cameras", content=body, headers=WRITE_HEADERS | {"content-type": "application/json"}
    )
    assert response.status_code in (400, 422), response.text
    assert client.get("/api/cameras").json()["cameras"] == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_post_bodies_must_be_json(client) -> None:
    body = b'[{"id": "cam-a", "source_url": "rtsp://a/s"}]'
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        response = client.post(
            "/api/cameras", content=body, headers=WRITE_HEADERS | {"content-type": content_type}
        )
        assert response.status_code == 415
    assert client.get("/api/cameras").json()["cameras"] == []


def _unremovable(monkeypatch, root: Path) -> None:
    real_rename = os.rename

    def rename(source, target, *args, **kwargs):
        if Path(source).is_relative_to(root.resolve()):
            raise PermissionError(13, "Permission denied")
        return real_rename(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "rename", rename)


def test_a_delete_whose_snapshot_cannot_go_deletes_nothing(
    client, seed, snapshot_store, settings, monkeypatch
) -> None:
    rest_id, gql_id = seed({}, {})
    paths = [
        snapshot_store.resolve(client.get(f"/api/events/{i}").json()["snapshot_path"])
        for i in (rest_id, gql_id)
    ]
    _unremovable(monkeypatch, settings.snapshots_dir)
    response = client.delete(
        f"/api/events/{rest_id}", params={"delete_snapshot": "true"}, headers=WRITE_HEADERS
    )
    assert response.status_code == 409
    assert "Permission denied" in response.json()["detail"]
    assert "nothing was deleted" in response.json()["detail"]
    mutation = f'mutation {{ deleteEvent(id: "{gql_id}", deleteSnapshot: true) {{ deleted }} }}'
    body = gql(client, mutation, headers=WRITE_HEADERS)
    assert "nothing was deleted" in body["errors"][0]["message"]
    for position, path in zip((rest_id, gql_id), paths, strict=True):
        assert client.get(f"/api/events/{position}").status_code == 200
        assert path.exists()
    assert client.get("/api/events/stats").json()["total_events"] == 2
    monkeypatch.undo()
    response = client.delete(
        f"/api/events/{rest_id}", params={"delete_snapshot": "true"}, headers=WRITE_HEADERS
    )
    assert response.status_code == 200 and response.json()["snapshot_deleted"] is True
    assert not paths[0].exists()
    assert not list(paths[0].parent.glob(".deleting-*"))


def test_a_snapshot_that_is_a_folder_is_not_deleted_with_its_event(client, seed, snapshot_store):
    [position] = seed({})
    path = snapshot_store.resolve(client.get(f"/api/events/{position}").json()["snapshot_path"])
    path.unlink()
    path.mkdir()
    response = client.delete(
        f"/api/events/{position}", params={"delete_snapshot": "true"}, headers=WRITE_HEADERS
    )
    assert response.status_code == 409
    assert client.get(f"/api/events/{position}").status_code == 200


def test_security_headers_on_every_answer(client, seed) -> None:
    [position] = seed({})
    for path in ("/api/events", "/health", f"/snapshots/{position}", "/nope", "/graphql", "/"):
        response = client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
        assert response.headers["referrer-policy"] == "no-referrer", path
    page = client.get("/").headers["content-security-policy"]
    assert "script-src 'self'" in page and "unsafe-inline" not in page
    graphiql = client.get("/graphql").headers["content-security-policy"]
    assert "script-src 'self';" in graphiql and "https:" not in graphiql  # served offline
    assert "default-src 'none'" in client.get("/api/events").headers["content-security-policy"]


def test_a_stored_html_file_is_never_served_as_a_page(client, seed, snapshot_store) -> None:
    [position] = seed({})
    path = snapshot_store.resolve(client.get(f"/api/events/{position}").json()["snapshot_path"])
    path.write_bytes(b"<html><script>alert(document.cookie)</script></html>")
    response = client.get(f"/snapshots/{position}")
    assert response.status_code == 415
    assert "text/html" not in response.headers["content-type"]
    assert b"<script>" not in response.content
    assert client.get(f"/thumbnails/{position}").status_code == 404


def test_image_type_comes_from_the_content(client, seed, snapshot_store) -> None:
    [position] = seed({})
    path = snapshot_store.resolve(client.get(f"/api/events/{position}").json()["snapshot_path"])
    path.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 100)  # a JPEG under a .png name
    response = client.get(f"/snapshots/{position}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"


def test_a_snapshot_symlinked_outside_the_root_is_404(
    client, seed, snapshot_store, tmp_path
) -> None:
    [position] = seed({})
    path = snapshot_store.resolve(client.get(f"/api/events/{position}").json()["snapshot_path"])
    outside = tmp_path / "secret.png"
    outside.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(outside)
    assert client.get(f"/snapshots/{position}").status_code == 404
    assert client.get(f"/thumbnails/{position}").status_code == 404
    assert client.get(f"/api/events/{position}/snapshot").status_code == 404

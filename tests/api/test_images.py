"""Snapshots and thumbnails served by event id only."""

from __future__ import annotations

import cv2
import numpy as np
import pytest


def test_snapshot_has_content_type_etag_and_revalidates(client, seed) -> None:
    [position] = seed({})
    first = client.get(f"/snapshots/{position}")
    assert first.status_code == 200
    assert first.headers["content-type"] == "image/png"
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag and modified
    again = client.get(f"/snapshots/{position}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    since = client.get(f"/snapshots/{position}", headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    stale = client.get(f"/snapshots/{position}", headers={"If-None-Match": '"other"'})
    assert stale.status_code == 200


def test_thumbnail_is_a_small_jpeg_made_once(client, seed, settings) -> None:
    [position] = seed({})
    response = client.get(f"/thumbnails/{position}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    image = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[1] == 320
    files = list(settings.thumbnails_dir.rglob("*.jpg"))
    assert len(files) == 1
    mtime = files[0].stat().st_mtime_ns
    assert client.get(f"/thumbnails/{position}").status_code == 200
    assert files[0].stat().st_mtime_ns == mtime


def test_missing_file_or_event_is_404(client, seed, snapshot_store) -> None:
    with_file, without_snapshot = seed({}), seed({}, snapshot=False)
    path = snapshot_store.resolve(client.get(f"/api/events/{with_file[0]}").json()["snapshot_path"])
    path.unlink()
    assert client.get(f"/snapshots/{with_file[0]}").status_code == 404
    assert client.get(f"/thumbnails/{with_file[0]}").status_code == 404
    assert client.get(f"/snapshots/{without_snapshot[0]}").status_code == 404
    assert client.get("/snapshots/987654").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/snapshots/../../etc/passwd",
        "/snapshots/%2e%2e/%2e%2e/etc/passwd",
        "/snapshots/%2e%2e%2fsecret",
        "/snapshots//etc/passwd",
        "/snapshots/1%00.png",
        "/snapshots/abc",
        "/snapshots/-1",
        "/thumbnails/..%2F1",
        "/api/events/..%2F1/snapshot",
        "/api/events/1%00",
        "/api/events/abc",
    ],
)
def test_paths_and_bad_ids_never_reach_the_disk(client, seed, path) -> None:
    seed({})
    response = client.get(path)
    assert response.status_code in (400, 404)
    assert b"root:" not in response.content

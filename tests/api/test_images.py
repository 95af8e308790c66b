"""Snapshots and thumbnails served by event id only; clips deleted with their events."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from analytics_pipeline.analyzer.clips import encode_mp4
from analytics_pipeline.payloads import ClipReadyData
from analytics_pipeline.snapshots import EncodedFile, clip_relative_path
from tests.api.conftest import WRITE_HEADERS
from tests.conftest import clip_ready_event


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


def clip_of(event_log, snapshot_store, position: int, *, append: bool = True) -> tuple[int, Path]:
    """A real MP4 clip of the event at ``position``, written where the analyzer writes it, and
    (unless ``append=False``) its ``clip_ready`` event: (clip_ready position, clip file)."""
    source = event_log.get(position)
    moments = [source.timestamp + timedelta(seconds=n / 5) for n in range(6)]
    images = [np.full((96, 160, 3), 30 * n, np.uint8) for n in range(6)]
    relative = clip_relative_path(
        source.camera_id, source.event_type, source.timestamp, source.event_id
    )
    stored = snapshot_store.write(
        source.camera_id,
        "clip_ready",
        source.timestamp,
        EncodedFile(relative, encode_mp4(images, moments, 5.0)),
    )
    assert stored is not None
    if not append:
        return 0, snapshot_store.resolve(stored)
    data = ClipReadyData(
        source_event_id=source.event_id,
        source_event_type=source.event_type,
        path=stored,
        start=moments[0],
        end=moments[-1],
        duration_seconds=1.2,
        frames=6,
        width=160,
        height=96,
    )
    [ready] = event_log.append([clip_ready_event(source, data)])
    return ready, snapshot_store.resolve(stored)


def test_a_clip_ready_event_has_a_clip_not_a_snapshot(client, seed, event_log, snapshot_store):
    [source] = seed({"event_type": "line_crossed"})
    ready, _ = clip_of(event_log, snapshot_store, source)
    event = client.get(f"/api/events/{ready}").json()
    assert event["snapshot_url"] is None
    assert client.get(f"/api/events/{source}").json()["snapshot_url"] == f"/snapshots/{source}"
    assert client.get(f"/clips/{ready}").status_code == 200
    assert client.get(f"/snapshots/{ready}").status_code in (404, 415)
    assert client.get(f"/thumbnails/{ready}").status_code in (404, 415)


def test_deleting_an_event_deletes_its_clip(client, seed, event_log, snapshot_store) -> None:
    keep, source = seed({"event_type": "line_crossed"}, {"event_type": "line_crossed"})
    kept_ready, kept_clip = clip_of(event_log, snapshot_store, keep)
    ready, clip = clip_of(event_log, snapshot_store, source)
    snapshot = snapshot_store.resolve(event_log.get(source).snapshot_path)
    assert client.get(f"/clips/{source}").status_code == 200
    response = client.delete(
        f"/api/events/{source}", params={"delete_snapshot": "true"}, headers=WRITE_HEADERS
    )
    assert response.status_code == 200 and response.json()["snapshot_deleted"] is True
    assert not clip.exists() and not snapshot.exists()
    assert not any(p.name.startswith(".deleting-") for p in clip.parent.iterdir())
    for position in (source, ready):
        assert client.get(f"/api/events/{position}").status_code == 404
        assert client.get(f"/clips/{position}").status_code == 404
    with event_log.pool.connection() as conn:
        tombstones = conn.execute(
            "SELECT (event_data ->> 'deleted_id')::bigint AS id FROM events"
            " WHERE event_type = 'event_deleted' ORDER BY 1"
        ).fetchall()
    assert [t["id"] for t in tombstones] == [source, ready]
    # The other event and its clip are untouched.
    assert kept_clip.exists() and client.get(f"/clips/{kept_ready}").status_code == 200
    assert [e["id"] for e in client.get("/api/events").json()["events"]] == [kept_ready, keep]


def test_deleting_without_erasing_hides_the_clip_and_keeps_its_file(
    client, seed, event_log, snapshot_store
) -> None:
    [source] = seed({"event_type": "line_crossed"})
    ready, clip = clip_of(event_log, snapshot_store, source)
    assert client.delete(f"/api/events/{source}", headers=WRITE_HEADERS).status_code == 200
    assert clip.exists()
    assert client.get(f"/api/events/{ready}").status_code == 404
    assert client.get(f"/clips/{ready}").status_code == 404


def test_deleting_a_clip_ready_deletes_only_the_clip(
    client, seed, event_log, snapshot_store
) -> None:
    [source] = seed({"event_type": "line_crossed"})
    ready, clip = clip_of(event_log, snapshot_store, source)
    response = client.delete(
        f"/api/events/{ready}", params={"delete_snapshot": "true"}, headers=WRITE_HEADERS
    )
    assert response.status_code == 200 and response.json()["snapshot_deleted"] is True
    assert not clip.exists()
    assert client.get(f"/api/events/{source}").status_code == 200
    assert client.get(f"/snapshots/{source}").status_code == 200
    assert client.get(f"/clips/{source}").status_code == 404


def test_deleting_a_clip_ready_keeping_its_file_takes_the_clip_off_the_source(
    client, seed, event_log, snapshot_store
) -> None:
    [source] = seed({"event_type": "line_crossed"})
    ready, clip = clip_of(event_log, snapshot_store, source)
    assert client.get(f"/clips/{source}").status_code == 200
    assert client.delete(f"/api/events/{ready}", headers=WRITE_HEADERS).status_code == 200
    assert clip.exists()  # kept on disk, as asked
    assert client.get(f"/clips/{source}").status_code == 404
    assert client.get(f"/clips/{ready}").status_code == 404


def test_a_clip_written_before_its_clip_ready_goes_with_its_event(
    client, seed, event_log, snapshot_store
) -> None:
    [source] = seed({"event_type": "line_crossed"})
    _, clip = clip_of(event_log, snapshot_store, source, append=False)
    response = client.delete(
        f"/api/events/{source}", params={"delete_snapshot": "true"}, headers=WRITE_HEADERS
    )
    assert response.status_code == 200
    assert not clip.exists()


def test_a_clip_that_cannot_be_removed_deletes_nothing(
    client, seed, event_log, snapshot_store
) -> None:
    [source] = seed({"event_type": "line_crossed"})
    ready, clip = clip_of(event_log, snapshot_store, source)
    snapshot = snapshot_store.resolve(event_log.get(source).snapshot_path)
    clip.unlink()
    clip.mkdir()  # a folder where the clip should be: it cannot be removed as a file
    response = client.delete(
        f"/api/events/{source}", params={"delete_snapshot": "true"}, headers=WRITE_HEADERS
    )
    assert response.status_code == 409
    assert snapshot.exists() and clip.is_dir()
    assert not any(p.name.startswith(".deleting-") for p in snapshot.parent.iterdir())
    assert client.get(f"/api/events/{source}").status_code == 200
    assert client.get(f"/api/events/{ready}").status_code == 200

"""Video sources: files, a broken file, and an HTTP MJPEG stream that drops."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest

from analytics_pipeline.analyzer.sources import SourceError, VideoSource
from analytics_pipeline.analyzer.synthetic import Actor, StreetVideo


@pytest.fixture(scope="module")
def short_video(tmp_path_factory) -> Path:
    video = StreetVideo(
        frames=40, fps=10, actors=[Actor("car", 5, 35, 340, 260, (40, 40, 200), plate="AB12CDE")]
    )
    return video.write(tmp_path_factory.mktemp("video") / "short.avi")


def test_a_file_is_sampled_to_the_analysis_rate(short_video: Path) -> None:
    source = VideoSource(str(short_video), fps=5)
    frames = list(source.frames())
    assert [f.number for f in frames] == list(range(0, 40, 2))
    assert (frames[1].moment - frames[0].moment).total_seconds() == pytest.approx(0.2)
    assert source.stats.frames_analysed == 20 and source.stats.frames_dropped == 20
    assert source.total_frames == 40


def test_realtime_plays_at_the_videos_pace(short_video: Path) -> None:
    began = time.monotonic()
    list(VideoSource(str(short_video), fps=10, realtime=True).frames())
    assert time.monotonic() - began >= 3.5  # 40 frames at 10 fps


def test_realtime_drops_the_frames_a_slow_analysis_is_too_late_for(short_video: Path) -> None:
    source = VideoSource(str(short_video), fps=10, realtime=True)
    analysed = 0
    for _frame in source.frames():
        analysed += 1
        time.sleep(0.25)  # analysis takes 2.5 frame intervals: it is soon 1 s behind
    assert source.stats.frames_overload >= 10
    assert analysed + source.stats.frames_overload == 40


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        VideoSource(str(tmp_path / "nope.mp4"))


def test_a_corrupt_file_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.avi"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00AVI garbage" + bytes(range(256)) * 40)
    with pytest.raises(SourceError, match=r"cannot open .*broken.avi|no frame"):
        list(VideoSource(str(broken)).frames())


class MjpegStream(BaseHTTPRequestHandler):
    """Serves ``frames_per_connection`` JPEG frames, then drops the connection."""

    frames_per_connection = 15
    connections = 0

    def do_GET(self) -> None:
        type(self).connections += 1
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        for i in range(self.frames_per_connection):
            image = np.full((120, 160, 3), (i * 16) % 255, np.uint8)
            _ok, jpeg = cv2.imencode(".jpg", image)
            try:
                self.wfile.write(
                    b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                    + str(len(jpeg)).encode()
                    + b"\r\n\r\n"
                    + jpeg.tobytes()
                    + b"\r\n"
                )
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return
            time.sleep(0.02)

    def log_message(self, *args: object) -> None:
        pass


def test_a_dropped_stream_reconnects(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), MjpegStream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop = threading.Event()
    source = VideoSource(
        f"http://127.0.0.1:{server.server_port}/stream.mjpg", fps=100, stop=stop, max_backoff=0.5
    )
    received = 0
    try:
        for _ in source.frames():
            received += 1
            if received >= 2 * MjpegStream.frames_per_connection:
                stop.set()
    finally:
        server.shutdown()
    assert source.stats.reconnects >= 1
    assert MjpegStream.connections >= 2
    assert received >= 2 * MjpegStream.frames_per_connection


def test_a_slow_analysis_drops_stream_frames_not_falls_behind() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), MjpegStream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop = threading.Event()
    source = VideoSource(
        f"http://127.0.0.1:{server.server_port}/stream.mjpg", fps=100, stop=stop, max_backoff=0.5
    )
    numbers = []
    try:
        for frame in source.frames():
            numbers.append(frame.number)
            time.sleep(0.1)  # five times slower than the stream
            if len(numbers) >= 8:
                stop.set()
    finally:
        server.shutdown()
    assert source.stats.frames_overload > 0
    assert numbers == sorted(numbers) and numbers[-1] - numbers[0] > len(numbers)

"""Dead network cameras: a server that accepts and then says nothing never blocks a reader
beyond the source's timeouts, and RTSP asks for the transport the camera is configured with."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator

import cv2
import numpy as np
import pytest

from analytics_pipeline.analyzer.sources import SourceError, VideoSource, ffmpeg_options

GENEROUS = 20.0  # far above the 1 s timeouts below; without them FFmpeg waits 30 s or more


class StallingServer:
    """Accepts TCP connections; sends ``frames`` MJPEG frames on each (none: not even a
    response) and then stalls, holding the connection open."""

    def __init__(self, frames: int) -> None:
        self.frames = frames
        self.connections = 0
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def port(self) -> int:
        return self._socket.getsockname()[1]

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self.connections += 1
            self._held.append(connection)
            if self.frames:
                threading.Thread(target=self._send, args=(connection,), daemon=True).start()

    def _send(self, connection: socket.socket) -> None:
        jpeg = cv2.imencode(".jpg", np.zeros((120, 160, 3), np.uint8))[1].tobytes()
        try:
            connection.recv(4096)
            connection.sendall(
                b"HTTP/1.0 200 OK\r\n"
                b"Content-Type: multipart/x-mixed-replace; boundary=frame\r\n\r\n"
            )
            for _ in range(self.frames):
                connection.sendall(
                    b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(jpeg)
                    + jpeg
                    + b"\r\n"
                )
        except OSError:
            pass

    def close(self) -> None:
        self._stop.set()
        self._socket.close()
        for connection in self._held:
            connection.close()


@pytest.fixture
def silent_server() -> Iterator[StallingServer]:
    server = StallingServer(frames=0)
    yield server
    server.close()


@pytest.mark.parametrize("scheme", ["http", "rtsp"])
def test_a_camera_that_accepts_and_says_nothing_fails_the_open_after_the_timeout(
    silent_server: StallingServer, scheme: str
) -> None:
    source = VideoSource(f"{scheme}://127.0.0.1:{silent_server.port}/stream", open_timeout=1)
    began = time.monotonic()
    with pytest.raises(SourceError, match="did not answer within 1 s"):
        source._open()
    assert time.monotonic() - began < GENEROUS
    assert silent_server.connections == 1


def test_a_stream_that_stalls_mid_way_is_reconnected_after_the_read_timeout() -> None:
    server = StallingServer(frames=10)
    stop = threading.Event()
    source = VideoSource(
        f"http://127.0.0.1:{server.port}/stream.mjpg",
        fps=100,
        stop=stop,
        read_timeout=1,
        max_backoff=0.5,
    )
    received = 0
    began = time.monotonic()
    try:
        for _ in source.frames():
            received += 1
            if server.connections >= 2 and received >= 12:
                stop.set()
            if time.monotonic() - began > 2 * GENEROUS:
                break
    finally:
        stop.set()
        server.close()
    assert server.connections >= 2, "the stalled stream was never reconnected"
    assert source.stats.reconnects >= 1
    assert received >= 12  # frames from the second connection arrived too


class RtspServer:
    """Just enough RTSP for FFmpeg to reach SETUP; records the Transport header asked for."""

    SDP = (
        "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=test\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track1\r\n"
    )

    def __init__(self) -> None:
        self.transports: list[str] = []
        self._socket = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def port(self) -> int:
        return self._socket.getsockname()[1]

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(connection,), daemon=True).start()

    def _session(self, connection: socket.socket) -> None:
        buffer = b""
        with connection:
            while b"\r\n\r\n" in buffer or (chunk := connection.recv(4096)):
                if b"\r\n\r\n" not in buffer:
                    buffer += chunk
                    continue
                request, buffer = buffer.split(b"\r\n\r\n", 1)
                text = request.decode(errors="replace")
                method = text.split(" ", 1)[0]
                cseq = re.search(r"CSeq: *(\d+)", text, re.I)
                head = f"RTSP/1.0 200 OK\r\nCSeq: {cseq.group(1) if cseq else 0}\r\n"
                if method == "OPTIONS":
                    reply = head + "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n"
                elif method == "DESCRIBE":
                    reply = (
                        head + "Content-Type: application/sdp\r\n"
                        f"Content-Length: {len(self.SDP)}\r\n\r\n{self.SDP}"
                    )
                elif method == "SETUP":
                    transport = re.search(r"Transport: *([^\r\n]+)", text, re.I)
                    self.transports.append(transport.group(1) if transport else "")
                    reply = "RTSP/1.0 461 Unsupported Transport\r\n" + head.split("\r\n", 1)[1]
                    reply += "\r\n"
                else:
                    reply = head + "\r\n"
                connection.sendall(reply.encode())

    def close(self) -> None:
        self._socket.close()


@pytest.mark.parametrize(("transport", "asked"), [("tcp", "RTP/AVP/TCP"), ("udp", "RTP/AVP/UDP")])
def test_rtsp_asks_for_the_configured_transport(transport: str, asked: str) -> None:
    server = RtspServer()
    source = VideoSource(
        f"rtsp://127.0.0.1:{server.port}/stream", rtsp_transport=transport, open_timeout=3
    )
    try:
        with pytest.raises(SourceError):
            source._open()  # the server refuses SETUP: only the request matters here
    finally:
        server.close()
    assert server.transports, "FFmpeg never reached SETUP"
    assert all(t.startswith(asked) for t in server.transports), server.transports


def test_an_operators_own_ffmpeg_options_are_kept() -> None:
    assert ffmpeg_options(None, "tcp") == "rtsp_transport;tcp"
    assert ffmpeg_options("stimeout;5000000", "udp") == "stimeout;5000000|rtsp_transport;udp"
    assert ffmpeg_options("rtsp_transport;http", "tcp") == "rtsp_transport;http"

"""Camera sources: files, RTSP and HTTP (MJPEG) through OpenCV, sampled to a target rate.

A stream that drops or a corrupt frame is logged and counted and the source reconnects with
capped back-off; one camera's trouble never stops the process. Files run as fast as the
machine allows (frame times follow the video's own clock) or, with ``realtime``, at their pace,
dropping a frame the analysis reaches more than :data:`LATE_SECONDS` late, as a live stream
does (``frames_overload``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from analytics_pipeline.cameras import redact_url
from analytics_pipeline.errors import PipelineError

log = logging.getLogger(__name__)
STREAM_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://")
# A file played in real time drops a frame the analysis reaches this late (a live camera's
# buffered frames go stale the same way); below it a busy moment is caught up.
LATE_SECONDS = 1.0
RtspTransport = Literal["tcp", "udp"]
FFMPEG_OPTIONS_VARIABLE = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
# OpenCV reads FFmpeg's options from the environment when a capture opens: the lock keeps two
# cameras with different RTSP transports from opening with each other's options.
_FFMPEG_OPTIONS_LOCK = threading.Lock()


class SourceError(PipelineError):
    """A source that cannot be opened or decoded; the message says which and why."""


@dataclass(frozen=True)
class Frame:
    image: np.ndarray
    number: int  # frame index in the source
    moment: datetime


@dataclass
class SourceStats:
    frames_read: int = 0
    frames_analysed: int = 0
    frames_dropped: int = 0  # skipped to keep to the analysis rate
    frames_overload: int = 0  # dropped because the analysis was behind a live stream
    corrupt_frames: int = 0
    reconnects: int = 0


def is_stream(url: str) -> bool:
    return url.lower().startswith(STREAM_SCHEMES)


def ffmpeg_options(existing: str | None, rtsp_transport: RtspTransport) -> str:
    """OpenCV's FFmpeg options (``key;value|key;value``) with the RTSP transport set, keeping
    the options an operator set in the environment; their own ``rtsp_transport`` wins."""
    options = [option for option in (existing or "").split("|") if option]
    if not any(option.split(";", 1)[0] == "rtsp_transport" for option in options):
        options.append(f"rtsp_transport;{rtsp_transport}")
    return "|".join(options)


class VideoSource:
    """Frames of one camera at (at most) ``fps`` per second."""

    def __init__(
        self,
        url: str,
        *,
        fps: float = 5.0,
        realtime: bool = False,
        max_backoff: float = 30.0,
        stop: threading.Event | None = None,
        open_timeout: float = 10.0,
        read_timeout: float = 10.0,
        rtsp_transport: RtspTransport = "tcp",
    ) -> None:
        self.url = url
        self.shown_url = redact_url(url)  # for messages and logs: no credentials
        self.fps = fps
        self.realtime = realtime
        self.max_backoff = max_backoff
        self.stop = stop or threading.Event()
        self.open_timeout = open_timeout
        self.read_timeout = read_timeout
        self.rtsp_transport = rtsp_transport
        self.stats = SourceStats()
        self.live = is_stream(url)
        self.total_frames: int | None = None
        self.source_fps: float = 0.0
        if not self.live and not Path(url).is_file():
            raise SourceError(f"video file {url} does not exist")

    def _open(self) -> cv2.VideoCapture:
        # A dead camera (one that accepts and then says nothing) fails the open or the read
        # after these timeouts instead of blocking its reader for FFmpeg's default 30 s+.
        timeouts = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            round(self.open_timeout * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            round(self.read_timeout * 1000),
        ]
        with _FFMPEG_OPTIONS_LOCK:
            saved = os.environ.get(FFMPEG_OPTIONS_VARIABLE)
            if self.url.lower().startswith(("rtsp://", "rtsps://")):
                os.environ[FFMPEG_OPTIONS_VARIABLE] = ffmpeg_options(saved, self.rtsp_transport)
            try:
                capture = cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, timeouts)
            finally:
                if saved is None:
                    os.environ.pop(FFMPEG_OPTIONS_VARIABLE, None)
                else:
                    os.environ[FFMPEG_OPTIONS_VARIABLE] = saved
        if not capture.isOpened():
            capture.release()
            raise SourceError(
                f"cannot open {self.shown_url}: not a video OpenCV can read, "
                f"or the camera did not answer within {self.open_timeout:g} s"
            )
        self.source_fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.total_frames = count if count > 0 and not self.live else None
        return capture

    def frames(self) -> Iterator[Frame]:
        """Sampled frames until the file ends or ``stop`` is set (streams reconnect)."""
        if self.live:
            yield from self._stream_frames()
        else:
            yield from self._file_frames()

    def _file_frames(self) -> Iterator[Frame]:
        capture = self._open()
        source_fps = self.source_fps if 0 < self.source_fps < 1000 else self.fps
        step = max(1.0, source_fps / self.fps)
        started, wall_start, next_index, index = datetime.now(UTC), time.monotonic(), 0.0, -1
        try:
            while not self.stop.is_set():
                ok = capture.grab()
                if not ok:
                    if index < 0:
                        raise SourceError(f"{self.shown_url} has no frame OpenCV can decode")
                    return
                index += 1
                self.stats.frames_read += 1
                if index < next_index:
                    self.stats.frames_dropped += 1
                    continue
                next_index += step
                offset = index / source_fps
                if self.realtime:
                    delay = wall_start + offset - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    elif -delay > LATE_SECONDS:
                        # The analysis is this far behind the camera's clock: the frame is
                        # dropped, as a live stream drops what its reader could not take.
                        self.stats.frames_overload += 1
                        continue
                ok, image = capture.retrieve()
                if not ok or image is None or image.size == 0:
                    self.stats.corrupt_frames += 1
                    log.warning("%s: frame %d is corrupt, skipped", self.shown_url, index)
                    continue
                self.stats.frames_analysed += 1
                yield Frame(image, index, started + timedelta(seconds=offset))
        finally:
            capture.release()

    def _stream_frames(self) -> Iterator[Frame]:
        """The newest frame at each step: a reader thread keeps the stream drained, so a
        slow analysis drops frames (counted as overload) instead of falling behind."""
        slot: list[Frame | None] = [None]
        ready = threading.Condition()
        done = threading.Event()
        reader = threading.Thread(
            target=self._read_stream,
            args=(slot, ready, done),
            name=f"read-{self.shown_url}",
            daemon=True,
        )
        reader.start()
        interval, last = 1.0 / self.fps, 0.0
        try:
            while not self.stop.is_set():
                with ready:
                    ready.wait_for(lambda: slot[0] is not None or self.stop.is_set(), 0.5)
                    frame, slot[0] = slot[0], None
                if frame is None:
                    continue
                now = time.monotonic()
                if now - last < interval:
                    self.stats.frames_dropped += 1
                    continue
                last = now
                self.stats.frames_analysed += 1
                yield frame
        finally:
            done.set()
            reader.join(5)

    def _read_stream(
        self, slot: list[Frame | None], ready: threading.Condition, done: threading.Event
    ) -> None:
        backoff, index = 1.0, 0
        while not (self.stop.is_set() or done.is_set()):
            try:
                capture = self._open()
            except SourceError as exc:
                self.stats.reconnects += 1
                log.error("%s; retrying in %.0f s", exc, backoff)
                done.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            backoff, failures = 1.0, 0
            try:
                while not (self.stop.is_set() or done.is_set()):
                    asked = time.monotonic()
                    ok, image = capture.read()
                    if not ok or image is None:
                        failures += 1
                        self.stats.corrupt_frames += 1
                        stalled = time.monotonic() - asked >= self.read_timeout * 0.9
                        if stalled:
                            log.error(
                                "%s: no frame within %g s, reconnecting",
                                self.shown_url,
                                self.read_timeout,
                            )
                            self.stats.reconnects += 1
                            break
                        if failures >= 25:
                            log.error("%s: stream dropped, reconnecting", self.shown_url)
                            self.stats.reconnects += 1
                            break
                        continue
                    failures, index = 0, index + 1
                    self.stats.frames_read += 1
                    with ready:
                        if slot[0] is not None:
                            self.stats.frames_overload += 1
                            if self.stats.frames_overload % 100 == 1:
                                log.warning(
                                    "%s: analysis is behind, %d frame(s) dropped so far",
                                    self.shown_url,
                                    self.stats.frames_overload,
                                )
                        slot[0] = Frame(image, index, datetime.now(UTC))
                        ready.notify()
            finally:
                capture.release()

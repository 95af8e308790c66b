"""Event clips: the analysed frames around an event, as an MP4 that browsers play.

Each camera keeps a ring buffer of its analysed frames, downscaled to at most
:data:`MAX_WIDTH` pixels wide and JPEG-encoded (:data:`JPEG_QUALITY`), for
``clip_pre_seconds`` plus :data:`LATE_EVENT_SECONDS` (an ``anpr`` event is emitted when its
vehicle leaves, about its best frame, seconds earlier), and never more than
:data:`MAX_BUFFER_BYTES` of them. An event of one of
the camera's ``clip_events`` types starts a clip with the buffered frames since
``clip_pre_seconds`` before it; the clip takes the following frames until ``clip_post_seconds``
after it (or the end of the stream), then a worker thread, off the frame path, encodes it as
H.264 in MP4 (PyAV's libx264: OpenCV's pip wheels cannot write H.264), writes it atomically
beside the snapshots and appends a ``clip_ready`` event through the camera's event sink.
"""

from __future__ import annotations

import logging
import queue
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from analytics_pipeline.analyzer.sources import Frame
from analytics_pipeline.events import NewEvent
from analytics_pipeline.leases import LeaseLost
from analytics_pipeline.payloads import ClipReadyData
from analytics_pipeline.snapshots import EncodedFile, clip_relative_path

log = logging.getLogger(__name__)

MAX_WIDTH = 640
JPEG_QUALITY = 80
#: Buffered JPEG bytes a camera holds at most (ring and clips being filled share frames).
MAX_BUFFER_BYTES = 32 * 2**20
#: Clips of one camera waiting to be filled or encoded, at most.
MAX_PENDING = 16
#: How much longer than ``clip_pre_seconds`` frames are kept, for events emitted late.
LATE_EVENT_SECONDS = 10.0
TIME_BASE = Fraction(1, 1000)  # pts in milliseconds: frames keep their own times
WORKER_IDLE_SECONDS = 30.0  # an idle worker thread ends; the next clip starts another

Emit = Callable[[str, datetime, int, dict, EncodedFile], NewEvent]


@dataclass(frozen=True)
class BufferedFrame:
    moment: datetime
    jpeg: bytes


@dataclass
class PendingClip:
    source: NewEvent
    end: datetime
    frames: list[BufferedFrame] = field(default_factory=list)


@dataclass(frozen=True)
class ClipInfo:
    """What an MP4 file holds (as a player would read it)."""

    codec: str
    width: int
    height: int
    frames: int
    duration_seconds: float


def downscale(image: np.ndarray, max_width: int = MAX_WIDTH) -> np.ndarray:
    """``image`` at most ``max_width`` wide, with even sides (yuv420p needs them)."""
    height, width = image.shape[:2]
    scale = min(1.0, max_width / width)
    size = (max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2))
    if size == (width, height):
        return image
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def encode_mp4(images: list[np.ndarray], moments: list[datetime], fps: float) -> bytes:
    """H.264 (yuv420p, faststart) MP4 of BGR ``images`` shown at their ``moments``."""
    height, width = images[0].shape[:2]
    with tempfile.TemporaryDirectory(prefix="clip-") as folder:
        path = Path(folder, "clip.mp4")
        with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            stream = out.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.time_base = TIME_BASE
            stream.codec_context.time_base = TIME_BASE
            stream.options = {"preset": "veryfast", "crf": "26", "profile": "main"}
            stream.thread_count = 1
            last = -1
            for image, moment in zip(images, moments, strict=True):
                pts = max(last + 1, round((moment - moments[0]).total_seconds() * 1000))
                frame = av.VideoFrame.from_ndarray(image, format="bgr24")
                frame.pts, frame.time_base, last = pts, TIME_BASE, pts
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
        return path.read_bytes()


def read_clip(path: Path | str) -> ClipInfo:
    """Codec, size, frame count and duration of an MP4 file, decoding every frame."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        duration = float(container.duration or 0) / av.time_base
        return ClipInfo(stream.codec_context.name, stream.width, stream.height, frames, duration)


class ClipRecorder:
    """One camera's ring buffer of analysed frames and its clips (see the module)."""

    def __init__(
        self,
        camera_id: str,
        emit: Emit,
        *,
        event_types: list[str],
        pre_seconds: float,
        post_seconds: float,
        fps: float,
    ) -> None:
        self.camera_id = camera_id
        self.emit = emit
        self.event_types = frozenset(event_types)
        self.pre = timedelta(seconds=pre_seconds)
        self.keep = timedelta(seconds=pre_seconds + LATE_EVENT_SECONDS)
        self.post = timedelta(seconds=post_seconds)
        self.fps = fps
        self.ring: deque[BufferedFrame] = deque()
        self.ring_bytes = 0
        self.pending: list[PendingClip] = []
        self.queue: queue.Queue[PendingClip | None] = queue.Queue()
        self.worker: threading.Thread | None = None
        self.lock = threading.Lock()  # the worker's start and idle end
        self.written = 0
        self.skipped = 0
        self.failed = 0

    def wants(self, event_type: str) -> bool:
        return event_type in self.event_types

    def add(self, frame: Frame) -> None:
        """Buffer one analysed frame (before the frame's events start clips)."""
        ok, jpeg = cv2.imencode(
            ".jpg", downscale(frame.image), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
        )
        if not ok:
            return
        buffered = BufferedFrame(frame.moment, jpeg.tobytes())
        self.ring.append(buffered)
        self.ring_bytes += len(buffered.jpeg)
        while self.ring and (
            self.ring[0].moment < frame.moment - self.keep or self.ring_bytes > MAX_BUFFER_BYTES
        ):
            self.ring_bytes -= len(self.ring.popleft().jpeg)
        for clip in self.pending:
            if frame.moment <= clip.end:
                clip.frames.append(buffered)
        self._hand_over(lambda clip: frame.moment >= clip.end)

    def start(self, event: NewEvent) -> None:
        """Start the clip of an event just emitted (its frame is the latest buffered one, or
        an earlier one, as for ``anpr``)."""
        if len(self.pending) + self.queue.qsize() >= MAX_PENDING:
            self.skipped += 1
            log.warning(
                "camera %s: too many clips waiting, none for this %s event",
                self.camera_id,
                event.event_type,
            )
            return
        begin, end = event.timestamp - self.pre, event.timestamp + self.post
        clip = PendingClip(event, end, [f for f in self.ring if begin <= f.moment <= end])
        self.pending.append(clip)
        latest = self.ring[-1].moment if self.ring else event.timestamp
        self._hand_over(lambda candidate: candidate is clip and latest >= clip.end)

    def close(self) -> None:
        """End of stream: the clips being filled end here; wait until all are written."""
        self._hand_over(lambda clip: True)
        with self.lock:
            worker, self.worker = self.worker, None
            if worker is not None:
                self.queue.put(None)
        if worker is not None:
            worker.join()

    def _hand_over(self, done: Callable[[PendingClip], bool]) -> None:
        finished = [clip for clip in self.pending if done(clip)]
        if not finished:
            return
        self.pending = [clip for clip in self.pending if not done(clip)]
        with self.lock:
            for clip in finished:
                self.queue.put(clip)
            if self.worker is None:
                self.worker = threading.Thread(
                    target=self._work, name=f"clips-{self.camera_id}", daemon=True
                )
                self.worker.start()

    def _work(self) -> None:
        while True:
            try:
                clip = self.queue.get(timeout=WORKER_IDLE_SECONDS)
            except queue.Empty:
                with self.lock:
                    if self.queue.empty():
                        self.worker = None
                        return
                continue
            if clip is None:
                return
            if not clip.frames:
                continue
            try:
                self._write(clip)
            except LeaseLost as exc:  # another analyzer has the camera now: not a failure
                log.warning(
                    "camera %s: clip of event %s not stored: %s",
                    self.camera_id,
                    clip.source.event_id,
                    exc,
                )
            except Exception:
                self.failed += 1
                log.exception(
                    "camera %s: clip of event %s failed", self.camera_id, clip.source.event_id
                )

    def _write(self, clip: PendingClip) -> None:
        images = [
            cv2.imdecode(np.frombuffer(f.jpeg, np.uint8), cv2.IMREAD_COLOR) for f in clip.frames
        ]
        moments = [f.moment for f in clip.frames]
        data = encode_mp4(images, moments, self.fps)
        source = clip.source
        relative = clip_relative_path(
            self.camera_id, source.event_type, source.timestamp, source.event_id
        )
        duration = (moments[-1] - moments[0]).total_seconds() + 1 / self.fps
        height, width = images[0].shape[:2]
        payload = ClipReadyData(
            source_event_id=source.event_id,
            source_event_type=source.event_type,
            path=relative.as_posix(),
            start=moments[0],
            end=moments[-1],
            duration_seconds=round(duration, 3),
            frames=len(images),
            width=width,
            height=height,
        )
        self.emit(
            "clip_ready",
            source.timestamp,
            source.frame_number,
            payload.event_data(),
            EncodedFile(relative, data),
        )
        self.written += 1

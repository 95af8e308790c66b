"""The snapshot file store: where an event's annotated image lives under the snapshot root.

Layout (a contract of the original service):
``<camera_id>/<YYYY-MM-DD>/<event_type>_<HHMMSS>_<microseconds>.png``, relative to
``SNAPSHOTS_DIR``, UTC. What is drawn on the image is the analyzer's
(``analytics_pipeline.analyzer.annotators``); encoding is :mod:`analytics_pipeline.imaging`
and the whole-or-nothing write :mod:`analytics_pipeline.atomic`.

Event clips (``ENABLE_CLIPS``) live beside the snapshots, named after their source event:
``<camera_id>/<YYYY-MM-DD>/clips/<event_type>_<HHMMSS>_<microseconds>_<event_id>.mp4``
(:func:`clip_relative_path`); the analyzer hands them to :meth:`SnapshotStore.write` as an
:class:`EncodedFile`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import numpy as np

from analytics_pipeline.atomic import write_atomically
from analytics_pipeline.errors import PipelineError
from analytics_pipeline.events import validate_camera_id
from analytics_pipeline.imaging import EXTENSIONS, ImageFormat, encode_image

if TYPE_CHECKING:
    from analytics_pipeline.config import Settings


class SnapshotPathError(PipelineError, ValueError):
    """A snapshot path that points outside the snapshot root (or at the root itself)."""


def snapshot_relative_path(
    camera_id: str, event_type: str, moment: datetime, image_format: ImageFormat = "png"
) -> PurePosixPath:
    """``<camera_id>/<YYYY-MM-DD>/<event_type>_<HHMMSS>_<microseconds><ext>`` (UTC)."""
    validate_camera_id(camera_id)
    utc = moment.astimezone(UTC)
    name = f"{event_type}_{utc:%H%M%S}_{utc:%f}{EXTENSIONS[image_format]}"
    return PurePosixPath(camera_id, f"{utc:%Y-%m-%d}", name)


def clip_relative_path(
    camera_id: str, event_type: str, moment: datetime, event_id: uuid.UUID
) -> PurePosixPath:
    """Where the clip of an event lives (UTC day and time of the event, its ``event_id``):
    ``<camera_id>/<YYYY-MM-DD>/clips/<event_type>_<HHMMSS>_<microseconds>_<event_id>.mp4``."""
    validate_camera_id(camera_id)
    utc = moment.astimezone(UTC)
    name = f"{event_type}_{utc:%H%M%S}_{utc:%f}_{event_id}.mp4"
    return PurePosixPath(camera_id, f"{utc:%Y-%m-%d}", "clips", name)


@dataclass(frozen=True)
class EncodedFile:
    """A file already encoded (a clip) and where it goes under the root."""

    relative: PurePosixPath
    data: bytes


class SnapshotStore:
    """Writes and finds snapshot files under one root directory."""

    def __init__(
        self,
        root: Path,
        *,
        image_format: ImageFormat = "png",
        quality: int = 90,
        enabled: bool = True,
        clips: bool = False,
    ) -> None:
        self.root = root.resolve()
        self.image_format = image_format
        self.quality = quality
        self.enabled = enabled
        self.clips = clips  # ENABLE_CLIPS: the analyzer records event clips

    @classmethod
    def from_settings(cls, settings: Settings) -> SnapshotStore:
        """The store configured by ``SNAPSHOTS_DIR``, ``SNAPSHOT_FORMAT`` and friends."""
        return cls(
            settings.snapshots_dir,
            image_format=settings.snapshot_format,
            quality=settings.snapshot_quality,
            enabled=settings.enable_snapshots,
            clips=settings.enable_clips,
        )

    def write(
        self, camera_id: str, event_type: str, moment: datetime, image: np.ndarray | EncodedFile
    ) -> str | None:
        """Write ``image`` atomically and return its path relative to the root.

        Returns ``None`` when snapshots are disabled (an :class:`EncodedFile`, a clip, is
        written at its own path whatever ``ENABLE_SNAPSHOTS``). The file appears whole or not
        at all (temp file, fsync, then a hard link that never replaces an existing file: two
        events in the same microsecond get ``_1``, ``_2`` suffixes).
        """
        if isinstance(image, EncodedFile):
            stored = write_atomically(self.root / image.relative, image.data)
            return stored.relative_to(self.root).as_posix()
        if not self.enabled:
            return None
        relative = snapshot_relative_path(camera_id, event_type, moment, self.image_format)
        stored = write_atomically(
            self.root / relative, encode_image(image, self.image_format, self.quality)
        )
        return stored.relative_to(self.root).as_posix()

    def resolve(self, relative: str) -> Path:
        """The absolute path of a stored snapshot; :class:`SnapshotPathError` (a
        ``ValueError``) for anything outside the root, a symlink's target included."""
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise SnapshotPathError(f"snapshot path {relative!r} is outside the snapshot root")
        return path

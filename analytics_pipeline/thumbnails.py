"""Thumbnails of snapshots: about 320 px wide JPEGs mirroring the snapshot layout.

``<THUMBNAILS_DIR>/<snapshot path>.jpg`` for ``<SNAPSHOTS_DIR>/<snapshot path>``. Made by the
Dagster asset for every snapshot, or by the API on the first request for one not made yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2

from analytics_pipeline.atomic import write_atomically
from analytics_pipeline.config import Settings
from analytics_pipeline.imaging import encode_image
from analytics_pipeline.snapshots import SnapshotStore


@dataclass(frozen=True)
class ThumbnailStore:
    """Makes and finds thumbnails for the snapshots of one :class:`SnapshotStore`."""

    snapshots: SnapshotStore
    root: Path
    width: int = 320

    @classmethod
    def from_settings(cls, settings: Settings) -> ThumbnailStore:
        return cls(
            SnapshotStore.from_settings(settings),
            settings.thumbnails_dir.resolve(),
            settings.thumbnail_width,
        )

    def path_for(self, snapshot_path: str) -> Path:
        """Where the thumbnail of a snapshot lives (whether or not it exists yet)."""
        self.snapshots.resolve(snapshot_path)  # refuses paths outside the snapshot root
        return self.root / f"{snapshot_path}.jpg"

    def ensure(self, snapshot_path: str) -> tuple[Path, bool]:
        """The thumbnail of a snapshot, made if missing: (path, made_now).

        Raises ``FileNotFoundError`` when the snapshot itself is missing or unreadable.
        """
        target = self.path_for(snapshot_path)
        if target.is_file():
            return target, False
        source = self.snapshots.resolve(snapshot_path)
        image = cv2.imread(str(source), cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f"snapshot {snapshot_path} is missing or unreadable")
        height, width = image.shape[:2]
        if width > self.width:
            size = (self.width, max(1, round(height * self.width / width)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        write_atomically(target, encode_image(image, "jpeg", 80), replace=True)
        return target, True

    def remove(self, snapshot_path: str) -> bool:
        """Delete a snapshot's thumbnail; ``False`` when there was none."""
        target = self.path_for(snapshot_path)
        if target.is_file():
            target.unlink()
            return True
        return False

"""Real footage for the demo and the tests: Debian's opencv-doc package carries CCTV video
(vtest.avi: pedestrians on a campus, 768x576, 10 fps, 795 frames). It is downloaded with
apt-get and unpacked, never installed."""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from analytics_pipeline.errors import PipelineError
from analytics_pipeline.paths import local_dir

log = logging.getLogger(__name__)
DATA_IN_PACKAGE = Path("usr/share/doc/opencv-doc/examples/data")


class MediaUnavailable(PipelineError):
    """The sample video could not be had; the message says why."""


def samples_dir() -> Path:
    """Where fetched samples are kept (``.local/opencv-doc``)."""
    return local_dir() / "opencv-doc"


def opencv_sample(name: str = "vtest.avi", folder: Path | None = None) -> Path:
    """The path of a file from opencv-doc's examples/data, fetched on first use."""
    folder = folder or samples_dir()
    target = folder / name
    if target.is_file():
        return target
    for system_copy in (Path("/") / DATA_IN_PACKAGE / name,):
        if system_copy.is_file():
            return system_copy
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise MediaUnavailable("apt-get and dpkg-deb are needed to fetch opencv-doc")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as download:
        Path(download).chmod(0o777)  # apt's sandbox user writes here
        fetched = subprocess.run(
            ["apt-get", "download", "opencv-doc"],
            cwd=download,
            capture_output=True,
            text=True,
            timeout=600,
        )
        packages = list(Path(download).glob("opencv-doc_*.deb"))
        if not packages:
            raise MediaUnavailable(
                f"apt-get download opencv-doc failed: {fetched.stderr.strip()[-300:]}"
            )
        with tempfile.TemporaryDirectory() as unpacked:
            subprocess.run(["dpkg-deb", "-x", str(packages[0]), unpacked], check=True, timeout=600)
            data = Path(unpacked) / DATA_IN_PACKAGE
            for item in ("vtest.avi", "Megamind.avi", "Megamind_bugy.avi"):
                if (data / item).is_file():
                    shutil.copyfile(data / item, folder / item)
    if not target.is_file():
        raise MediaUnavailable(f"opencv-doc has no {name}")
    log.info("fetched %s from Debian's opencv-doc", target)
    return target

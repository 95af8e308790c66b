"""Whole-or-nothing file writes: a temp file in the same folder, fsync, then link or rename.

Snapshots, thumbnails and reports are written this way, so a reader (the API, retention, a
consumer) never sees half a file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: bytes, *, replace: bool = False) -> Path:
    """Write ``data`` so that ``path`` appears whole or not at all; return where it went.

    Temp file in the same folder, fsync, then either a rename over ``path`` (``replace``) or a
    hard link that never replaces an existing file: a taken name gets ``_1``, ``_2``...
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temp_name, path)
            return path
        candidate, attempt = path, 0
        while True:
            try:
                os.link(temp_name, candidate)
                return candidate
            except FileExistsError:
                attempt += 1
                candidate = path.with_name(f"{path.stem}_{attempt}{path.suffix}")
    finally:
        if os.path.exists(temp_name):
            os.unlink(temp_name)

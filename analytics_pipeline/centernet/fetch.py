"""Fetch the pinned ``@vladmandic/human`` package from the npm registry, integrity checked.

``npm pack`` is the only client used (the npm registry, no other host). The tarball is kept
under ``.local/centernet`` and must match the registry's ``dist.integrity``; only the two model
files are extracted from it, and they must match their pinned sha256.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from analytics_pipeline.centernet import BUILD_COMMAND, ConversionError
from analytics_pipeline.paths import local_dir

log = logging.getLogger(__name__)

NPM_PACKAGE = "@vladmandic/human"
NPM_VERSION = "3.3.6"
#: The registry's ``dist.integrity`` of the pinned tarball (checked before anything is read).
NPM_INTEGRITY = (
    "sha512-Nr5mPfq1gQ+uKeXY5uM3Fj8UxvF5CEh2s6txM5wRThqaW0mF9huooOuZSrT8hhGho0hGaXLFdAwfD/2+"
    "teCv6A=="
)
#: The registry's ``dist.shasum`` (sha1) of the same tarball, for reference.
NPM_SHASUM = "74397dcda15109f52db36de098de823b8497ddc5"
TARBALL_NAME = f"vladmandic-human-{NPM_VERSION}.tgz"
#: The two files taken from the tarball, with their sha256 (checked on every use).
MODEL_MEMBERS = {
    "package/models/centernet.json": (
        "bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05"
    ),
    "package/models/centernet.bin": (
        "1b635a15009071f506f9f2b3519b31c072c534888989f30d269ffd44734ef7ef"
    ),
}

#: Bumped whenever the conversion changes, so an older generated file is rebuilt.
NPM_TIMEOUT_S = 600


def default_cache() -> Path:
    """Where the npm tarball and the extracted TFJS files are kept: ``.local/centernet``."""
    return local_dir() / "centernet"


def integrity_of(path: Path) -> str:
    """The npm ``integrity`` string (``sha512-`` and base64) of a file."""
    digest = hashlib.sha512()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha512-" + base64.b64encode(digest.digest()).decode("ascii")


def _npm_error(stdout: str, stderr: str) -> str:
    """The gist of a failed ``npm pack --json``: its JSON error summary, else its first lines."""
    try:
        error = json.loads(stdout).get("error", {})
        return f"{error.get('code', '')} {error['summary']}".strip()
    except (ValueError, AttributeError, KeyError, TypeError):
        pass
    lines = [
        line.removeprefix("npm error").strip()
        for line in stderr.splitlines()
        if line.startswith("npm error") and not line.strip().startswith("npm error     at ")
    ]
    return " / ".join(line for line in lines[:4] if line) or stderr.strip()[-300:]


def _npm_pack(dest: Path) -> Path:
    """Run ``npm pack`` for the pinned version into ``dest``; return the tarball."""
    npm = shutil.which("npm")
    if npm is None:
        raise ConversionError(
            f"npm is needed to fetch {NPM_PACKAGE}@{NPM_VERSION} (the CenterNet model) from the "
            "npm registry: install Node.js and npm (Debian: apt-get install npm) and run "
            f"{BUILD_COMMAND} again"
        )
    with tempfile.TemporaryDirectory(dir=dest, prefix=".npm-pack-") as scratch:
        try:
            packed = subprocess.run(
                [
                    npm,
                    "pack",
                    f"{NPM_PACKAGE}@{NPM_VERSION}",
                    "--pack-destination",
                    scratch,
                    "--ignore-scripts",
                    "--json",
                ],
                cwd=scratch,
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ConversionError(
                f"npm pack {NPM_PACKAGE}@{NPM_VERSION} took more than {NPM_TIMEOUT_S} s: "
                "is the npm registry reachable?"
            ) from exc
        tarballs = list(Path(scratch).glob("*.tgz"))
        if packed.returncode != 0 or len(tarballs) != 1:
            detail = _npm_error(packed.stdout, packed.stderr)
            raise ConversionError(
                f"npm pack {NPM_PACKAGE}@{NPM_VERSION} failed (exit {packed.returncode}); the "
                f"npm registry must be reachable to make the CenterNet model: {detail}"
            )
        target = dest / TARBALL_NAME
        os.replace(tarballs[0], target)
    return target


def fetch_package(dest: Path | None = None) -> tuple[Path, Path]:
    """The pinned package's ``centernet.json`` and ``centernet.bin``, fetched once into ``dest``.

    The tarball comes from ``npm pack`` (the npm registry, no other host), is kept in ``dest``
    (default ``.local/centernet``) and must match :data:`NPM_INTEGRITY`; only the two model
    files are extracted from it, and they must match their pinned sha256 (files already
    extracted and matching are used as they are).
    """
    dest = (dest or default_cache()).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    extracted = dest / f"human-{NPM_VERSION}"
    paths = {extracted / Path(member).name: digest for member, digest in MODEL_MEMBERS.items()}
    if all(_sha256(path) == digest for path, digest in paths.items()):
        json_path, bin_path = paths
        return json_path, bin_path
    tarball = dest / TARBALL_NAME
    if not (tarball.is_file() and integrity_of(tarball) == NPM_INTEGRITY):
        log.info("fetching %s@%s with npm pack", NPM_PACKAGE, NPM_VERSION)
        tarball = _npm_pack(dest)
        found = integrity_of(tarball)
        if found != NPM_INTEGRITY:
            tarball.unlink()
            raise ConversionError(
                f"{NPM_PACKAGE}@{NPM_VERSION} from npm has integrity {found}, expected "
                f"{NPM_INTEGRITY}: refusing to use it"
            )
    extracted.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball, "r:gz") as archive:
        for member_name, path in zip(MODEL_MEMBERS, paths, strict=True):
            try:
                member = archive.getmember(member_name)
            except KeyError as exc:
                raise ConversionError(f"{tarball} has no {member_name}") from exc
            source = archive.extractfile(member) if member.isfile() else None
            if source is None:
                raise ConversionError(f"{member_name} in {tarball} is not a regular file")
            temp = path.with_name(f".{path.name}.part")
            with source, temp.open("wb") as out:
                shutil.copyfileobj(source, out)
            if _sha256(temp) != paths[path]:
                temp.unlink()
                raise ConversionError(f"{member_name} in {tarball} is not the pinned file")
            os.replace(temp, path)
    json_path, bin_path = paths
    return json_path, bin_path


def _sha256(path: Path) -> str | None:
    """The hex sha256 of a file, or None when there is no such file."""
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

"""Where the project's files are: package data inside the package, working files beside it.

The SQL files, the GraphQL contract and the page ship inside the package (read through
``importlib.resources``), so an installed wheel migrates, queries and serves anywhere. Working
files (``.local/``: spill, caches, fetched media) live under the project root: the checkout
when the package runs from one, else the current directory.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

PACKAGE_DIR = Path(str(files("analytics_pipeline")))
SQL_DIR = PACKAGE_DIR / "sql"
GRAPHQL_DIR = PACKAGE_DIR / "graphql_contract"
STATIC_DIR = PACKAGE_DIR / "api" / "static"


def project_root() -> Path:
    """The checkout holding the package (it has ``pyproject.toml``), else the working dir."""
    checkout = PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").is_file():
        return checkout
    return Path.cwd()


def local_dir() -> Path:
    """``.local/`` under the project root: working files that are never committed."""
    return project_root() / ".local"

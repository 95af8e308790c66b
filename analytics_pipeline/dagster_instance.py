"""Where Dagster keeps its runs: a database of its own beside the log, and DAGSTER_HOME."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from analytics_pipeline.config import Settings
from analytics_pipeline.db import create_database_if_missing

REPO_ROOT = Path(__file__).resolve().parent.parent


def dagster_postgres_url(settings: Settings) -> str:
    """DATABASE_URL's server, database ``<name>_dagster``, through psycopg2.

    psycopg2 explicitly: SQLAlchemy 2.1 defaults to psycopg 3, with which dagster-postgres
    fails on its first event write (DESIGN.md, traps).
    """
    parts = urlsplit(settings.database_url)
    name = parts.path.lstrip("/") or "analytics"
    return urlunsplit(parts._replace(scheme="postgresql+psycopg2", path=f"/{name}_dagster"))


def prepare_dagster_environment(
    settings: Settings, home: Path = REPO_ROOT / ".dagster_home"
) -> dict[str, str]:
    """Create the Dagster database and DAGSTER_HOME (holding a link to ``dagster.yaml``);
    return the environment variables ``dagster`` commands need."""
    url = dagster_postgres_url(settings)
    create_database_if_missing(url.replace("postgresql+psycopg2://", "postgresql://", 1))
    home.mkdir(parents=True, exist_ok=True)
    link = home / "dagster.yaml"
    if not link.exists():
        link.symlink_to(REPO_ROOT / "dagster.yaml")
    return {"DAGSTER_HOME": str(home), "DAGSTER_POSTGRES_URL": url}

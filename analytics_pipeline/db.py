"""PostgreSQL access: named SQL files, connection pools and schema migrations."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from analytics_pipeline.paths import SQL_DIR

log = logging.getLogger(__name__)

MIGRATIONS_DIR = SQL_DIR / "migrations"
QUERIES_DIR = SQL_DIR / "queries"
_MIGRATION_LOCK = 0x616E616C  # any constant shared by every process that migrates
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@cache
def query_text(name: str) -> str:
    """The text of ``sql/queries/<name>.sql``."""
    path = QUERIES_DIR / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"no named query {name!r} at {path}")
    return path.read_text()


def query(name: str, **parts: str | sql.Composable) -> sql.Composable:
    """A named query; ``parts`` fill ``{placeholders}``: a ``str`` is a trusted SQL keyword,
    a ``sql.Literal`` a quoted value (for statements that take no parameters, such as COPY)."""
    text = query_text(name)
    if not parts:
        return sql.SQL(text)  # type: ignore[arg-type]
    filled = {k: sql.SQL(v) if isinstance(v, str) else v for k, v in parts.items()}  # type: ignore[arg-type]
    return sql.SQL(text).format(**filled)  # type: ignore[arg-type]


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection:
    """One connection returning rows as dicts."""
    return psycopg.connect(url, autocommit=autocommit, row_factory=dict_row)


def create_pool(
    url: str,
    *,
    min_size: int = 1,
    max_size: int = 4,
    timeout: float = 30.0,
    wait: bool = True,
) -> ConnectionPool:
    """A connection pool returning rows as dicts; opened before it is returned.

    Each connection is checked before it is handed out, so one that died with a restarted
    server is replaced instead of failing a request. ``timeout``: how long a caller waits
    for a connection before PoolTimeout. ``wait=False``: open at once and connect in the
    background (long-running services that start before PostgreSQL)."""
    pool = ConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        kwargs={"row_factory": dict_row, "connect_timeout": 5},
        open=False,
        name="analytics",
        timeout=timeout,
        check=ConnectionPool.check_connection,
    )
    pool.open(wait=wait, timeout=10)
    return pool


@contextmanager
def transaction(pool: ConnectionPool) -> Iterator[psycopg.Connection]:
    """A pooled connection inside one transaction (committed on success)."""
    with pool.connection() as conn, conn.transaction():
        yield conn


@dataclass(frozen=True)
class Migration:
    """One ``sql/migrations/NNNN_name.sql`` file."""

    version: int
    name: str
    text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every migration file in version order; a misnamed file is an error."""
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file {path.name} is not named NNNN_lower_case.sql")
        found.append(Migration(int(match.group(1)), path.stem, path.read_text()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"two migrations share a version number in {directory}")
    return found


def create_database_if_missing(url: str) -> bool:
    """Create the database named in ``url`` when the server answers but lacks it."""
    try:
        psycopg.connect(url, connect_timeout=10).close()
        return False
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(url, dbname="postgres", autocommit=True) as conn:
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(str(name))))
        except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
            return False  # another process created it at the same moment
    log.info("created database %s", name)
    return True


def with_database_name(url: str, name: str) -> str:
    """``url`` naming another database on the same server."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def drop_database(url: str) -> None:
    """Drop the database ``url`` names (closing its connections), if it exists."""
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(url, dbname="postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(str(name)))
        )


def migrate(url: str, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations in order, each in its own transaction; return their names.

    Creates the database first when it is missing. An advisory lock serialises concurrent
    runs; an applied migration whose file changed since is an error (write a new one).
    """
    applied_now: list[str] = []
    create_database_if_missing(url)
    with connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {
                row["version"]: row
                for row in conn.execute("SELECT version, name, checksum FROM schema_migrations")
            }
            for migration in migrations(directory):
                if migration.version in done:
                    if done[migration.version]["checksum"] != migration.checksum:
                        raise RuntimeError(
                            f"migration {migration.name} was changed after it was applied"
                        )
                    continue
                with conn.transaction():
                    conn.execute(migration.text)  # type: ignore[arg-type]
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum)"
                        " VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                log.info("applied migration %s", migration.name)
                applied_now.append(migration.name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
    return applied_now

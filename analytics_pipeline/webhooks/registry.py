"""Webhooks registered in PostgreSQL: where to POST which events, and the dead letters.

A webhook has a name, an ``http://`` or ``https://`` URL (anything else is refused with a
clear message and nothing is stored), the event types and camera ids it wants (empty: all),
and the secret its deliveries are signed with (``X-Signature-256``). Deliveries that failed
every attempt stay as dead letters until ``retry`` sends them again.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from psycopg_pool import ConnectionPool
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from analytics_pipeline.cameras import redact_url
from analytics_pipeline.db import query
from analytics_pipeline.errors import PipelineError
from analytics_pipeline.events import describe_errors, validate_camera_id, validate_identifier

MAX_URL_LENGTH = 2048
MAX_SECRET_LENGTH = 1000
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")


class WebhookError(PipelineError):
    """A webhook that cannot be registered, or one that does not exist."""


def validate_webhook_url(url: str) -> str:
    """``url`` when it is an absolute ``http://`` or ``https://`` URL with a host.

    Raises ValueError with a message meant for the person who typed it."""
    if not url:
        raise ValueError("the URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise ValueError("the URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        found = f"{parts.scheme}://" if parts.scheme else "no scheme"
        raise ValueError(f"only http:// and https:// URLs are accepted ({found} given)")
    if not parts.hostname:
        raise ValueError("the URL has no host")
    if port == 0:
        raise ValueError("the URL's port must be 1-65535")
    return url


def validate_webhook_name(name: str) -> str:
    """A webhook name: 1-100 letters, digits, ``._-``, starting with a letter or digit."""
    return validate_identifier(name, "a webhook name")


class WebhookInput(BaseModel):
    """What a client sends to register a webhook. ``secret``: generated when not given."""

    model_config = ConfigDict(extra="forbid")

    name: str
    url: str
    event_types: list[str] = Field(default_factory=list)
    camera_ids: list[str] = Field(default_factory=list)
    secret: str = Field(default_factory=lambda: secrets.token_urlsafe(32))

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return validate_webhook_name(value)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return validate_webhook_url(value.strip())

    @field_validator("event_types")
    @classmethod
    def _event_types(cls, value: list[str]) -> list[str]:
        for event_type in value:
            if not _EVENT_TYPE.match(event_type):
                raise ValueError(
                    f"event type {event_type!r} must be lower-case letters, digits and '_'"
                )
        return sorted(set(value))

    @field_validator("camera_ids")
    @classmethod
    def _camera_ids(cls, value: list[str]) -> list[str]:
        return sorted({validate_camera_id(camera_id) for camera_id in value})

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str) -> str:
        if not value or len(value) > MAX_SECRET_LENGTH or "\x00" in value:
            raise ValueError(f"the secret must be 1-{MAX_SECRET_LENGTH} characters, without NUL")
        return value


class Webhook(BaseModel):
    """A registered webhook, with how many of its deliveries are pending, done and dead."""

    name: str
    url: str
    event_types: list[str]
    camera_ids: list[str]
    secret: str
    created_at: datetime
    updated_at: datetime
    pending: int = 0
    delivered: int = 0
    dead: int = 0

    @property
    def redacted_url(self) -> str:
        """The URL with any credentials in it replaced by ``***``: safe to show and log."""
        return redact_url(self.url)

    def wants(self, event_type: str, camera_id: str) -> bool:
        """Whether this webhook is sent events of this type from this camera."""
        return (not self.event_types or event_type in self.event_types) and (
            not self.camera_ids or camera_id in self.camera_ids
        )


@dataclass(frozen=True)
class Failure:
    """A dead letter: a delivery that failed every attempt."""

    id: int
    webhook: str
    event_id: uuid.UUID
    position: int
    event_type: str
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


def parse_webhook(
    name: str,
    url: str,
    event_types: Sequence[str] = (),
    camera_ids: Sequence[str] = (),
    secret: str | None = None,
) -> WebhookInput:
    """A :class:`WebhookInput`, or :class:`WebhookError` with one readable line per problem."""
    fields: dict[str, object] = {
        "name": name,
        "url": url,
        "event_types": list(event_types),
        "camera_ids": list(camera_ids),
    }
    if secret is not None:
        fields["secret"] = secret
    try:
        return WebhookInput.model_validate(fields)
    except ValidationError as exc:
        raise WebhookError(describe_errors(exc).replace("Value error, ", "")) from None


class WebhookRegistry:
    """Webhooks and their dead letters, through a connection pool."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def add(self, webhook: WebhookInput) -> Webhook:
        """Register ``webhook``, or replace the one with its name (its deliveries stay)."""
        with self.pool.connection() as conn:
            row = conn.execute(query("webhook_upsert"), webhook.model_dump()).fetchone()
        return Webhook.model_validate(row)

    def list(self) -> list[Webhook]:
        """Every webhook, by name."""
        return self._select(None)

    def get(self, name: str) -> Webhook | None:
        """The webhook called ``name``, or ``None``."""
        found = self._select(name)
        return found[0] if found else None

    def _select(self, name: str | None) -> list[Webhook]:
        with self.pool.connection() as conn:
            rows = conn.execute(query("webhook_list"), {"name": name}).fetchall()
        return [Webhook.model_validate(row) for row in rows]

    def remove(self, name: str) -> bool:
        """Remove a webhook and its deliveries; ``False`` when there was none."""
        with self.pool.connection() as conn:
            return conn.execute(query("webhook_delete"), {"name": name}).fetchone() is not None

    def failures(self, name: str | None = None, *, limit: int = 1000) -> list[Failure]:
        """Dead letters of one webhook (or of all), oldest first."""
        with self.pool.connection() as conn:
            rows = conn.execute(
                query("webhook_failures"), {"name": name, "limit": limit}
            ).fetchall()
        return [Failure(**row) for row in rows]

    def retry(self, name: str) -> int:
        """Queue a webhook's dead letters again, each with a fresh series of attempts; return
        how many. Raises :class:`WebhookError` when there is no such webhook."""
        if self.get(name) is None:
            raise WebhookError(f"no webhook {name!r}")
        with self.pool.connection() as conn:
            return len(conn.execute(query("webhook_requeue"), {"name": name}).fetchall())

"""API keys: writes always need one, reads when API_READS_NEED_KEY is set."""

from __future__ import annotations

import hmac

from starlette.requests import Request

from analytics_pipeline.config import Settings


def presented_key(request: Request) -> str | None:
    """The key from ``Authorization: Bearer …`` or ``X-API-Key``."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key")


def has_valid_key(settings: Settings, request: Request) -> bool:
    """Whether the request carries one of the configured keys (compared in constant time)."""
    key = presented_key(request)
    if not key:
        return False
    return any(hmac.compare_digest(key.encode(), good.encode()) for good in settings.api_key_set)


def may_read(settings: Settings, request: Request) -> bool:
    """Reads are open unless API_READS_NEED_KEY is set."""
    return not settings.api_reads_need_key or has_valid_key(settings, request)

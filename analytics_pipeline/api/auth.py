"""API keys: writes always need one, reads when API_READS_NEED_KEY is set."""

from __future__ import annotations

import hmac

from starlette.exceptions import HTTPException
from starlette.requests import Request

from analytics_pipeline.api.state import AppState
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


def reader_state(request: Request) -> AppState:
    """The app's state for a read; 401 when reads need a key and none valid came."""
    state: AppState = request.app.state.app
    if not may_read(state.settings, request):
        raise HTTPException(401, "this server needs an API key for reads")
    return state


def writer_state(request: Request) -> AppState:
    """The app's state for a write; 401 without a valid key (nothing is changed)."""
    state: AppState = request.app.state.app
    if not has_valid_key(state.settings, request):
        raise HTTPException(401, "writes need an API key (Authorization: Bearer … or X-API-Key)")
    return state

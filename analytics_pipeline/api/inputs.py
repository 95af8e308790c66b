"""Checks of client input, shared by REST and GraphQL: every value is checked before SQL.

Strings carry no NUL (PostgreSQL's text refuses it), numbers are ASCII digits within range
(``'²'.isdigit()`` is true and ``int('²')`` fails), timestamps are representable in UTC, and
JSON is plain and shallow. A failed check raises :class:`BadInput`, whose message is written
for the client and answered as a 400 (REST) or a GraphQL error.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from analytics_pipeline.errors import PipelineError

MAX_POSITION = 2**63 - 1  # the log position is a PostgreSQL bigint
MAX_TEXT_LENGTH = 1000
MAX_JSON_DEPTH = 32
MAX_JSON_NODES = 100_000


class BadInput(PipelineError):
    """A value the client sent is malformed; the message says which and why."""


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "...")


def text(value: str, name: str, max_length: int = MAX_TEXT_LENGTH) -> str:
    """A string without NUL characters, at most ``max_length`` long."""
    if "\x00" in value:
        raise BadInput(f"{name} must not contain NUL characters")
    if len(value) > max_length:
        raise BadInput(f"{name} is longer than {max_length} characters")
    return value


def whole_number(raw: str, name: str, low: int, high: int) -> int:
    """``raw`` as an int from ``low`` to ``high``, ASCII digits only (no sign, no spaces)."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 20) or not low <= int(raw) <= high:
        raise BadInput(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def is_position(value: int) -> bool:
    """Whether ``value`` can be a log position (a positive bigint)."""
    return 1 <= value <= MAX_POSITION


def event_position(raw: str) -> int:
    """An event id given as text (GraphQL ``ID``): ASCII digits, a positive bigint."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19) or not is_position(int(raw)):
        raise BadInput(f"event id must be a number, got {_shown(raw)}")
    return int(raw)


def utc_time(moment: datetime, name: str) -> datetime:
    """``moment`` in UTC (a naive time is taken as UTC); refused when UTC cannot hold it."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise BadInput(f"{name} is outside the range of representable UTC times") from None


def iso_time(raw: str, name: str) -> datetime:
    """An ISO 8601 date-time from a query parameter, in UTC."""
    text(raw, name, 64)
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(f"{name} must be an ISO 8601 date-time") from None
    return utc_time(moment, name)


def plain_json(value: Any, name: str) -> None:
    """JSON as PostgreSQL and the resolvers take it: no NUL in any string or key, finite
    numbers, at most ``MAX_JSON_DEPTH`` levels and ``MAX_JSON_NODES`` values. Iterative, so a
    deep document cannot exhaust the stack."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    nodes = 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > MAX_JSON_NODES:
            raise BadInput(f"{name} has more than {MAX_JSON_NODES} values")
        if isinstance(item, str):
            if "\x00" in item:
                raise BadInput(f"{name}: strings must not contain NUL characters")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise BadInput(f"{name}: numbers must be finite")
        elif isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise BadInput(f"{name} is nested deeper than {MAX_JSON_DEPTH} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    if "\x00" in str(key):
                        raise BadInput(f"{name}: keys must not contain NUL characters")
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)


def json_document(body: bytes, name: str = "the request body") -> Any:
    """``body`` parsed as JSON; :class:`BadInput` when it is not JSON or is nested too deep."""
    try:
        return json.loads(body)
    except RecursionError:
        raise BadInput(f"{name} is nested too deeply") from None
    except (ValueError, UnicodeDecodeError):
        raise BadInput(f"{name} is not JSON") from None

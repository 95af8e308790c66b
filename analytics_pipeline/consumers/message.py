"""One event as a consumer sees it: a stream message's fields, or the same built from the log.

Stream messages are flat strings (DESIGN.md, Publishing to Redis). An event read from the log
during catch-up gets exactly the fields the relay would have published
(:func:`analytics_pipeline.relay.message_fields`), so a handler cannot tell them apart except
by :attr:`StreamMessage.message_id`, which is ``None`` for an event read from the log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from analytics_pipeline.eventlog import Cursor, parse_cursor
from analytics_pipeline.events import StoredEvent
from analytics_pipeline.relay import decode_message, message_fields


def parse_stream_id(text: bytes | str) -> tuple[int, int]:
    """A Redis stream id ``"<ms>-<seq>"`` as a pair of integers (``"5"`` is ``(5, 0)``)."""
    value = text.decode() if isinstance(text, bytes) else text
    milliseconds, _, sequence = value.partition("-")
    return int(milliseconds), int(sequence or 0)


@dataclass(frozen=True)
class StreamMessage:
    """One event: the stream message's fields as text and, when it came from Redis, its id."""

    fields: Mapping[str, str]
    message_id: str | None = None
    """The Redis stream id; ``None`` for an event read from the log (catch-up, recovery)."""

    @classmethod
    def from_stream(
        cls, message_id: bytes | str, fields: Mapping[bytes | str, bytes | str]
    ) -> StreamMessage:
        """A message as redis-py returns it (bytes or text)."""
        ident = message_id.decode() if isinstance(message_id, bytes) else message_id
        return cls(decode_message(fields), ident)

    @classmethod
    def from_event(cls, event: StoredEvent) -> StreamMessage:
        """An event read from the log, with the fields the relay publishes for it."""
        return cls(message_fields(event), None)

    @property
    def event_id(self) -> str:
        """The event's idempotency key (UUID text); ``""`` when the message has none."""
        return self.fields.get("event_id", "")

    @property
    def position(self) -> int | None:
        """The event's global position in the log."""
        value = self.fields.get("position")
        return int(value) if value else None

    @property
    def cursor(self) -> Cursor | None:
        """The event's place in commit-safe order, ``None`` when the message has no cursor."""
        value = self.fields.get("cursor")
        return parse_cursor(value) if value else None

    @property
    def event_type(self) -> str:
        """``motion``, ``detection``, ``tracking``, ``anpr``, ``plate_match``..."""
        return self.fields.get("event_type", "")

    @property
    def camera_id(self) -> str:
        """The camera the event came from."""
        return self.fields.get("camera_id", "")

    @property
    def data(self) -> dict[str, Any]:
        """``event_data``, decoded from the ``data`` field's JSON (``{}`` when absent)."""
        raw = self.fields.get("data")
        value = json.loads(raw) if raw else {}
        return value if isinstance(value, dict) else {}

    def to_json(self) -> dict[str, Any]:
        """The message's fields with ``data`` decoded: what a webhook receives."""
        return {**self.fields, "data": self.data}

"""Opaque page cursors over the log position."""

from __future__ import annotations

import base64
import binascii

from analytics_pipeline.api.inputs import BadInput, is_position

_PREFIX = "event:"
MAX_CURSOR_LENGTH = 64


class BadCursor(BadInput):
    """A cursor this API did not hand out."""


def encode_cursor(position: int) -> str:
    """An opaque cursor for a log position."""
    return base64.urlsafe_b64encode(f"{_PREFIX}{position}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The log position inside a cursor; :class:`BadCursor` for anything else."""
    shown = cursor if len(cursor) <= 40 else cursor[:40] + "..."
    if len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii():
        raise BadCursor(f"invalid cursor {shown!r}")
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadCursor(f"invalid cursor {shown!r}") from None
    digits = text[len(_PREFIX) :]
    if not text.startswith(_PREFIX) or not (digits.isascii() and digits.isdigit()):
        raise BadCursor(f"invalid cursor {shown!r}")
    if len(digits) > 19 or not is_position(int(digits)):
        raise BadCursor(f"invalid cursor {shown!r}: position out of range")
    return int(digits)

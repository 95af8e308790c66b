"""Opaque page cursors over the log position."""

from __future__ import annotations

import base64
import binascii

_PREFIX = "event:"


class BadCursor(ValueError):
    """A cursor this API did not hand out."""


def encode_cursor(position: int) -> str:
    """An opaque cursor for a log position."""
    return base64.urlsafe_b64encode(f"{_PREFIX}{position}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The log position inside a cursor; :class:`BadCursor` for anything else."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadCursor(f"invalid cursor {cursor!r}") from None
    if not text.startswith(_PREFIX) or not text[len(_PREFIX) :].isdigit():
        raise BadCursor(f"invalid cursor {cursor!r}")
    return int(text[len(_PREFIX) :])

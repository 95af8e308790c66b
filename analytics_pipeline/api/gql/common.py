"""Small pieces the GraphQL domains share."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from graphene.types.generic import GenericScalar


class JSON(GenericScalar):
    """Any JSON value."""


def box(value: Any) -> list[float] | None:
    """A box ``[x1, y1, x2, y2]`` from event data, ``None`` when it is not one."""
    if isinstance(value, list) and len(value) == 4:
        try:
            return [float(v) for v in value]
        except (TypeError, ValueError):
            return None
    return None


def iso_datetime(value: Any) -> datetime | None:
    """A time stored as ISO 8601 text in event data, ``None`` when it is not one."""
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None

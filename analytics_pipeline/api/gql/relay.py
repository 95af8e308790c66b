"""Relay Global Object Identification: the ``Node`` interface and its global ids.

A global id is ``base64("Type:rest_id")``, as graphene and the Relay examples make them:
``Event:1234`` for the event at log position 1234 (``/api/events/1234``, ``/snapshots/1234``)
and ``Camera:gate`` for the camera ``gate`` (``/api/cameras``). ``Event.position`` and
``Camera.cameraId`` give the REST id of an object; every argument that names an event or a
camera (``event``, ``camera``, ``deleteEvent``, ``updateCamera``, ``removeCamera``) takes either.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import graphene

from analytics_pipeline.api import inputs

TYPES = ("Event", "Camera")
MAX_GLOBAL_ID = 400


def to_global_id(type_name: str, rest_id: object) -> str:
    """The global id of an object of ``type_name`` whose REST id is ``rest_id``."""
    return base64.b64encode(f"{type_name}:{rest_id}".encode()).decode()


def parse_global_id(value: str) -> tuple[str, str] | None:
    """``(type name, REST id)`` of a global id this API made; ``None`` for anything else."""
    if not value or len(value) > MAX_GLOBAL_ID or not value.isascii():
        return None
    try:
        text = base64.b64decode(value.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name, sep, rest_id = text.partition(":")
    if not sep or type_name not in TYPES or not rest_id:
        return None
    return type_name, rest_id


def event_position(value: str) -> int:
    """The log position of an event id: a global id (``Event:…``) or the position itself."""
    parsed = parse_global_id(value)
    if parsed is None:
        return inputs.event_position(value)
    type_name, rest_id = parsed
    if type_name != "Event":
        raise inputs.BadInput(f"{value[:60]!r} is the id of a {type_name}, not of an Event")
    return inputs.event_position(rest_id)


def camera_id(value: str) -> str:
    """A camera's own id from a global id (``Camera:…``) or the camera's id itself."""
    parsed = parse_global_id(value)
    if parsed is None:
        return value
    type_name, rest_id = parsed
    if type_name != "Camera":
        raise inputs.BadInput(f"{value[:60]!r} is the id of a {type_name}, not of a Camera")
    return rest_id


class Node(graphene.relay.Node):
    """An object with a global id: refetch it with ``node(id:)`` (Relay Global Object
    Identification). The id is ``base64("Event:<log position>")`` or
    ``base64("Camera:<camera id>")``."""

    # Each implementing type names the Python class it resolves from (``possible_types``):
    # that is how ``node`` finds the GraphQL type of a StoredEvent or a Camera.

    class Meta:
        name = "Node"

    @classmethod
    def to_global_id(cls, type_: str, id: Any) -> str:
        return to_global_id(type_, id)

"""What every resolver receives as ``info.context``: one typed object per request."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from analytics_pipeline.api.state import AppState
from analytics_pipeline.cameras import Camera, CameraLease
from analytics_pipeline.config import Settings
from analytics_pipeline.events import validate_camera_id
from graphql import GraphQLResolveInfo


class CameraLoader:
    """Per-request batch loader: the cameras of a page cost one query, not one per event."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.cache: dict[str, Camera | None] = {}
        self.wanted: set[str] = set()

    def want(self, camera_ids: Iterable[str]) -> None:
        """Cameras the first :meth:`load` fetches together: a page that never asks for
        ``camera`` costs no query."""
        self.wanted.update(camera_ids)

    def prime(self, camera_ids: Iterable[str]) -> None:
        """Load every camera of ``camera_ids`` not loaded yet, in one query."""
        missing = {c for c in camera_ids if c not in self.cache}
        valid = {c for c in missing if _is_camera_id(c)}
        if valid:
            found = self.state.cameras.get_many(sorted(valid))
            self.cache.update({c: found.get(c) for c in valid})
        self.cache.update({c: None for c in missing - valid})

    def load(self, camera_id: str) -> Camera | None:
        """One camera (``None`` when not registered, or when the id cannot be one)."""
        if camera_id not in self.cache:
            self.prime([camera_id, *self.wanted])
            self.wanted.clear()
        return self.cache[camera_id]


def _is_camera_id(value: str) -> bool:
    try:
        validate_camera_id(value)
    except ValueError:
        return False
    return True


@dataclass
class GraphQLContext:
    """The request's view of the service: the stores, the settings, per-request loaders."""

    state: AppState
    may_write: bool = False  # the request carries a valid API key
    cameras: CameraLoader = field(init=False)
    _leases: dict[str, CameraLease] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.cameras = CameraLoader(self.state)

    def lease_of(self, camera_id: str) -> CameraLease:
        """Who holds the camera's lease (every camera's read in one query per request)."""
        if self._leases is None:
            self._leases = self.state.cameras.leases()
        return self._leases.get(camera_id) or CameraLease(camera_id=camera_id)

    @property
    def settings(self) -> Settings:
        return self.state.settings


def context(info: GraphQLResolveInfo) -> GraphQLContext:
    """The typed context of a resolver call."""
    return info.context

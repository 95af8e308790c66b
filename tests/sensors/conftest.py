"""The sensors use the same seeded log and resources as the asset tests."""

from tests.assets.conftest import add_events, resources, snapshots  # noqa: F401

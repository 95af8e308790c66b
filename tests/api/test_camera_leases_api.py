"""GraphQL ``cameras`` shows which analyzer holds each camera's lease, and until when."""

from __future__ import annotations

from datetime import datetime

from analytics_pipeline.cameras import CameraInput, CameraRegistry
from analytics_pipeline.leases import LeaseKeeper

QUERY = "{ cameras { cameraId owner leaseExpiresAt } }"


def test_cameras_show_their_lease_holder(client, pool) -> None:
    registry = CameraRegistry(pool)
    for camera_id in ("gate", "yard"):
        registry.register(CameraInput(id=camera_id, source_url="/dev/null"))
    keeper = LeaseKeeper(pool, lease_seconds=30, capacity=1, owner="analyzer-host:4242")
    claimed, _ = keeper.claim(["gate", "yard"])
    assert len(claimed) == 1  # capacity 1: one held, one free
    held, free = claimed[0], ({"gate", "yard"} - set(claimed)).pop()
    try:
        cameras = {
            c["cameraId"]: c
            for c in client.post("/graphql", json={"query": QUERY}).json()["data"]["cameras"]
        }
        assert cameras[held]["owner"] == "analyzer-host:4242"
        expires = datetime.fromisoformat(cameras[held]["leaseExpiresAt"])
        assert expires.tzinfo is not None
        assert cameras[free] == {"cameraId": free, "owner": None, "leaseExpiresAt": None}
    finally:
        keeper.leave()
    after = client.post("/graphql", json={"query": QUERY}).json()["data"]["cameras"]
    assert all(c["owner"] is None for c in after)  # released on a clean exit

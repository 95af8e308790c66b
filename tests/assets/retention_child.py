"""A retention run in a process of its own, for the kill tests (test_retention_kill.py).

    python -m tests.assets.retention_child URL SNAPSHOTS THUMBNAILS NOW POLICY_JSON BATCH

With ANALYTICS_RETENTION_PAUSE_AT set, the run stops at that checkpoint until killed.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

from analytics_pipeline.db import create_pool
from analytics_pipeline.retention import Retention, RetentionPolicy
from analytics_pipeline.snapshots import SnapshotStore
from analytics_pipeline.thumbnails import ThumbnailStore


def policy_from_json(text: str) -> RetentionPolicy:
    fields = json.loads(text)
    fields["orphan_grace"] = timedelta(minutes=fields.pop("orphan_grace_minutes"))
    return RetentionPolicy(**fields)


def main(url: str, snapshots: str, thumbnails: str, now: str, policy: str, batch: str) -> None:
    pool = create_pool(url, max_size=2)
    try:
        store = ThumbnailStore(SnapshotStore(Path(snapshots)), Path(thumbnails).resolve())
        report = Retention(pool, store, batch=int(batch)).run(
            policy_from_json(policy), now=datetime.fromisoformat(now)
        )
        print(json.dumps({"events_purged": report.events_purged}))
    finally:
        pool.close()


if __name__ == "__main__":
    main(*sys.argv[1:])

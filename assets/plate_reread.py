"""``plate_reread``: re-read the plates of a camera's ``anpr`` snapshots (a backfill), and its job.

Run config (the launchpad in the UI; ``dagster asset materialize --select plate_reread
--config-json '...'`` or ``dagster job execute -j plate_reread_job -c run.yaml`` on the CLI)::

    {"ops": {"plate_reread": {"config": {
        "camera": "gate", "start": "2026-11-01T00:00:00Z", "end": "2026-11-02T00:00:00Z",
        "engine": "paddleocr", "plate_pattern": "[A-Z]{2}[0-9]{2}[A-Z]{3}"}}}}

Appends one ``anpr_reread`` event per ``anpr`` event in [start, end) whose event id (derived from
the source event and the engine) is not stored yet: a second run appends nothing.
"""

from datetime import UTC, datetime
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    Config,
    Failure,
    MaterializeResult,
    asset,
    define_asset_job,
)
from pydantic import Field

from analytics_pipeline.analyzer.ocr import build_ocr
from analytics_pipeline.analyzer.reread import reread_camera
from analytics_pipeline.cameras import CameraRegistry
from analytics_pipeline.config import get_settings
from analytics_pipeline.snapshots import SnapshotStore
from assets.resources import EventLogResource, SnapshotsResource

ENGINES = ("rapidocr", "paddleocr")


class PlateRereadConfig(Config):
    """Which events to re-read, and how."""

    camera: str = Field(description="The camera whose anpr events are re-read.")
    start: str | None = Field(default=None, description="ISO time (UTC if naive); inclusive.")
    end: str | None = Field(default=None, description="ISO time (UTC if naive); exclusive.")
    engine: str = Field(default="rapidocr", description="rapidocr or paddleocr.")
    plate_pattern: str | None = Field(
        default=None,
        description="Regex of valid plates; unset: the camera's plate_pattern; '': the "
        "plate-likeness rule (4-10 letters and digits, at least one of each).",
    )


def _moment(text: str | None, name: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Failure(f"{name}: not an ISO time: {text!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _snapshot_root(snapshots: SnapshotsResource) -> Path:
    return Path(snapshots.snapshots_dir or get_settings().snapshots_dir)


@asset(group_name="images", kinds={"opencv"})
def plate_reread(
    context: AssetExecutionContext,
    config: PlateRereadConfig,
    event_log: EventLogResource,
    snapshots: SnapshotsResource,
) -> MaterializeResult:
    """Re-reads the plates of a camera's anpr snapshots in a time range with an engine and a
    plate pattern; appends anpr_reread events (each at most once per engine)."""
    if config.engine not in ENGINES:
        raise Failure(f"engine must be one of {', '.join(ENGINES)}, not {config.engine!r}")
    start, end = _moment(config.start, "start"), _moment(config.end, "end")
    pattern = config.plate_pattern
    if pattern is None:
        camera = CameraRegistry(event_log.pool).get(config.camera)
        pattern = (camera.settings.get("plate_pattern") if camera else None) or None
    ocr = build_ocr(config.engine)
    assert ocr is not None
    counts = reread_camera(
        event_log.event_log,
        SnapshotStore(_snapshot_root(snapshots)),
        ocr,
        config.camera,
        start=start,
        end=end,
        plate_pattern=pattern or None,
    )
    if counts.snapshots_missing:
        context.log.warning(f"{counts.snapshots_missing} anpr event(s) have no snapshot to read")
    return MaterializeResult(
        metadata={
            "camera": config.camera,
            "engine": config.engine,
            "plate_pattern": pattern or "(plate-likeness rule)",
            "read": counts.read,
            "changed": counts.changed,
            "unreadable": counts.unreadable,
            "already_reread": counts.already_reread,
            "snapshots_missing": counts.snapshots_missing,
            "appended": counts.appended,
        }
    )


plate_reread_job = define_asset_job(
    "plate_reread_job",
    selection=[plate_reread],
    description="Re-read the plates of a camera's anpr snapshots (run config: camera, start, "
    "end, engine, plate_pattern).",
)

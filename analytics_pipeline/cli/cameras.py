"""``cameras``: registration."""

from __future__ import annotations

import json

import click
from pydantic import ValidationError

from analytics_pipeline.cameras import CameraInput, CameraRegistry
from analytics_pipeline.cli.context import EXIT_REJECTED, Context, fail, pass_context


@click.group()
def cameras() -> None:
    """Register, list and remove cameras."""


@cameras.command("add")
@click.argument("camera_id")
@click.option("--source", "source_url", required=True, help="File path, rtsp:// or http:// URL.")
@click.option("--name", default="", help="Display name (defaults to the id).")
@click.option("--disabled", is_flag=True, help="Register without analysing it.")
@click.option("--settings", "settings_json", default="{}", help="Per-camera settings as JSON.")
@pass_context
def cameras_add(
    state: Context, camera_id: str, source_url: str, name: str, disabled: bool, settings_json: str
) -> None:
    """Register a camera (or replace the one with the same id)."""
    try:
        camera = CameraInput(
            id=camera_id,
            name=name,
            source_url=source_url,
            enabled=not disabled,
            settings=json.loads(settings_json),
        )
    except (ValidationError, json.JSONDecodeError) as exc:
        raise click.BadParameter(str(exc)) from None
    stored = CameraRegistry(state.pool).register(camera)
    click.echo(f"registered camera {stored.id} ({stored.redacted_source_url})")


@cameras.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_context
def cameras_list(state: Context, as_json: bool) -> None:
    """List registered cameras with the analyzer (host:pid) holding each one's lease and
    when that lease expires ("-" for a camera no analyzer holds)."""
    registry = CameraRegistry(state.pool)
    cameras = registry.list()
    leases = registry.leases()
    for camera in cameras:
        lease = leases.get(camera.id)
        owner = lease.owner if lease is not None else None
        expires = lease.lease_expires_at if lease is not None else None
        if as_json:
            click.echo(
                json.dumps(
                    camera.model_dump(mode="json")
                    | {
                        "source_url": camera.redacted_source_url,
                        "owner": owner,
                        "lease_expires_at": expires.isoformat() if expires else None,
                    }
                )
            )
        else:
            status = "enabled" if camera.enabled else "disabled"
            shown = camera.redacted_source_url
            held = f"{owner} until {expires:%H:%M:%S}" if owner and expires else "-"
            click.echo(f"{camera.id:<20} {status:<9} {camera.name:<24} {held:<32} {shown}")


@cameras.command("remove")
@click.argument("camera_id")
@pass_context
def cameras_remove(state: Context, camera_id: str) -> None:
    """Remove a camera; its events stay in the log."""
    if not CameraRegistry(state.pool).remove(camera_id):
        fail(f"no camera {camera_id!r}", EXIT_REJECTED)
    click.echo(f"removed camera {camera_id}")

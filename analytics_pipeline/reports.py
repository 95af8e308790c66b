"""Daily reports: an HTML page, an hourly chart (PNG) and the data (CSV and Parquet).

Written under ``REPORTS_DIR/<YYYY-MM-DD>/`` from the derived daily statistics; listed and
served by the API (``/api/reports``, ``/reports/<day>/<file>``).
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import polars as pl
from psycopg_pool import ConnectionPool

from analytics_pipeline.atomic import write_atomically
from analytics_pipeline.daily_stats import read_daily_stats
from analytics_pipeline.imaging import encode_image

REPORT_FILES = ("report.html", "hourly.png", "counts.csv", "counts.parquet")


@dataclass(frozen=True)
class Report:
    day: date
    folder: Path

    @property
    def files(self) -> list[str]:
        return [name for name in REPORT_FILES if (self.folder / name).is_file()]


def hourly_chart(counts: list[int], width: int = 720, height: int = 240) -> np.ndarray:
    """A bar chart of 24 hourly counts (BGR image)."""
    image = np.full((height, width, 3), 255, np.uint8)
    left, bottom, top = 40, 24, 16
    peak = max(max(counts), 1)
    step = (width - left - 8) / 24
    for hour, count in enumerate(counts):
        bar = round((height - bottom - top) * count / peak)
        x = round(left + hour * step)
        cv2.rectangle(
            image,
            (x + 2, height - bottom - bar),
            (round(x + step) - 2, height - bottom),
            (165, 110, 58),
            cv2.FILLED,
        )
        if hour % 3 == 0:
            cv2.putText(
                image,
                f"{hour:02d}",
                (x + 2, height - 6),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.4,
                (60, 60, 60),
                1,
                cv2.LINE_AA,
            )
    cv2.putText(
        image, str(peak), (4, top + 8), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (60, 60, 60), 1, cv2.LINE_AA
    )
    cv2.line(image, (left, height - bottom), (width - 8, height - bottom), (60, 60, 60), 1)
    return image


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(day: date, stats: dict[str, Any], counts: pl.DataFrame) -> str:
    """The report page for one day."""
    by_camera = (
        counts.group_by("camera_id")
        .agg(pl.col("events").sum())
        .sort(["events", "camera_id"], descending=[True, False])
    )
    pivot_rows = [
        [r["camera_id"], r["event_type"], r["events"]] for r in counts.iter_rows(named=True)
    ]
    plates = [[p["plate"], p["reads"]] for p in stats["top_plates"]]
    dwell = stats["mean_dwell_seconds"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Events report {day}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;color:#222}}
table{{border-collapse:collapse;margin:.5rem 0 1.5rem}}td,th{{border:1px solid #ccc;
padding:.2rem .6rem;text-align:left}}</style></head><body>
<h1>Events report, {day} (UTC)</h1>
<p>{stats["total_events"]} events; {stats["distinct_plates"]} distinct plates;
mean dwell time {f"{dwell:.1f} s" if dwell is not None else "n/a"}.</p>
<h2>Events per hour</h2><img src="hourly.png" alt="events per hour">
<h2>Busiest cameras</h2>
{_table(["camera", "events"], [[c, n] for c, n in by_camera.iter_rows()])}
<h2>Events per camera and type</h2>
{_table(["camera", "type", "events"], pivot_rows)}
<h2>Top plates</h2>
{_table(["plate", "reads"], plates) if plates else "<p>No plates read.</p>"}
<p>Data: <a href="counts.csv">counts.csv</a>, <a href="counts.parquet">counts.parquet</a></p>
</body></html>
"""


def write_report(pool: ConnectionPool, reports_dir: Path, day: date) -> Report:
    """Write the day's report from the derived statistics (which must exist)."""
    rows = read_daily_stats(pool, day, day)
    if not rows:
        raise LookupError(f"no daily statistics for {day}: materialize daily_event_stats first")
    stats = rows[0]
    counts = pl.DataFrame(
        stats["counts"],
        schema={"camera_id": pl.String, "event_type": pl.String, "events": pl.Int64},
    )
    folder = reports_dir.resolve() / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    write_atomically(
        folder / "hourly.png",
        encode_image(hourly_chart(stats["events_by_hour"]), "png"),
        replace=True,
    )
    for name, write in (("counts.csv", counts.write_csv), ("counts.parquet", counts.write_parquet)):
        buffer = io.BytesIO()
        write(buffer)
        write_atomically(folder / name, buffer.getvalue(), replace=True)
    write_atomically(folder / "report.html", render_html(day, stats, counts).encode(), replace=True)
    return Report(day, folder)


def list_reports(reports_dir: Path) -> list[Report]:
    """Every report folder, newest day first."""
    if not reports_dir.is_dir():
        return []
    found = []
    for folder in reports_dir.iterdir():
        try:
            day = date.fromisoformat(folder.name)
        except ValueError:
            continue
        if (folder / "report.html").is_file():
            found.append(Report(day, folder))
    return sorted(found, key=lambda r: r.day, reverse=True)

"""Reports from the derived daily statistics: an HTML page, a chart (PNG) and the data.

- Daily: ``REPORTS_DIR/<YYYY-MM-DD>/`` with ``report.html`` (busiest cameras, counts per
  camera and type, crossings of counting lines per direction, top plates), ``hourly.png``,
  ``counts.csv`` and ``counts.parquet``; listed and served by the API (``/api/reports``).
- Weekly and monthly: ``REPORTS_DIR/weekly/<first day>/`` and ``REPORTS_DIR/monthly/<YYYY-MM>/``
  with ``report.html``, ``trend.png`` (events per day over the period, by type), ``days.csv``
  and ``days.parquet``, built from the period's daily rows.

A report never reads the log: when a day it needs has no statistics, or statistics that rows
leaving the log made stale, it raises :class:`MissingStatistics` naming those days. Charts are
drawn with matplotlib (no display needed), with titled and labelled axes at report size.
"""

from __future__ import annotations

import html
import io
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl
from psycopg_pool import ConnectionPool

from analytics_pipeline.atomic import write_atomically
from analytics_pipeline.daily_stats import days_between, read_daily_stats, stale_days
from analytics_pipeline.errors import PipelineError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

REPORT_FILES = ("report.html", "hourly.png", "counts.csv", "counts.parquet")
PERIOD_FILES = ("report.html", "trend.png", "days.csv", "days.parquet")
COUNTS_SCHEMA = {"camera_id": pl.String, "event_type": pl.String, "events": pl.Int64}
STYLE = """<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;
padding:.2rem .6rem;text-align:left}</style>"""


class MissingStatistics(PipelineError, LookupError):
    """Days of a report whose statistics were never counted, or are out of date."""

    def __init__(self, missing: list[date], stale: list[date]) -> None:
        self.missing, self.stale = missing, stale
        parts = []
        if missing:
            parts.append(f"no daily statistics for {_days_text(missing)}")
        if stale:
            parts.append(f"statistics out of date (events left the log) for {_days_text(stale)}")
        super().__init__("; ".join(parts))


def _days_text(days: list[date]) -> str:
    if len(days) > 6:
        return f"{len(days)} days: {', '.join(map(str, days[:3]))}, ..., {days[-1]}"
    return ", ".join(map(str, days))


@dataclass(frozen=True)
class Report:
    """A daily report's folder."""

    day: date
    folder: Path

    @property
    def files(self) -> list[str]:
        return [name for name in REPORT_FILES if (self.folder / name).is_file()]


@dataclass(frozen=True)
class Period:
    """A week (Monday to Sunday) or a calendar month, in UTC days."""

    kind: Literal["weekly", "monthly"]
    first_day: date
    last_day: date

    @property
    def name(self) -> str:
        return self.first_day.isoformat() if self.kind == "weekly" else f"{self.first_day:%Y-%m}"

    @property
    def title(self) -> str:
        if self.kind == "weekly":
            return f"week of {self.first_day} ({self.first_day} to {self.last_day})"
        return f"{self.first_day:%B %Y}"

    def folder(self, reports_dir: Path) -> Path:
        return reports_dir.resolve() / self.kind / self.name

    def files(self, reports_dir: Path) -> list[str]:
        return [name for name in PERIOD_FILES if (self.folder(reports_dir) / name).is_file()]


def statistics_for(pool: ConnectionPool, first_day: date, last_day: date) -> list[dict[str, Any]]:
    """The derived rows of every day of the range; :class:`MissingStatistics` otherwise."""
    rows = read_daily_stats(pool, first_day, last_day)
    have = {row["day"] for row in rows}
    missing = [day for day in days_between(first_day, last_day) if day not in have]
    stale = [r["day"] for r in stale_days(pool) if first_day <= r["day"] <= last_day]
    if missing or stale:
        raise MissingStatistics(missing, stale)
    return rows


def _figure(width: int, height: int) -> Figure:
    from matplotlib.figure import Figure  # only when a report is drawn: a slow import

    return Figure(figsize=(width / 100, height / 100), dpi=100, layout="constrained")


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def hourly_chart(counts: list[int], width: int = 720, height: int = 280) -> bytes:
    """A bar chart of 24 hourly counts, as PNG bytes."""
    figure = _figure(width, height)
    axes = figure.add_subplot()
    axes.bar(range(24), counts, color="#3a6ea5")
    axes.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    axes.set_xlim(-0.6, 23.6)
    axes.set_xlabel("hour (UTC)")
    axes.set_ylabel("events")
    axes.set_title("Events per hour")
    axes.grid(axis="y", alpha=0.3)
    return _png(figure)


def trend_chart(
    days: list[date], by_type: dict[str, list[int]], title: str, width: int = 900, height: int = 380
) -> bytes:
    """Events per day over a period, stacked by event type, as PNG bytes."""
    figure = _figure(width, height)
    axes = figure.add_subplot()
    bottom = [0] * len(days)
    for event_type, counts in sorted(by_type.items()):
        axes.bar(range(len(days)), counts, bottom=bottom, label=event_type)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    step = 1 if len(days) <= 10 else 3
    positions = list(range(0, len(days), step))
    axes.set_xticks(positions, [f"{days[p]:%a %d %b}" for p in positions], rotation=30, ha="right")
    axes.set_xlabel("day (UTC)")
    axes.set_ylabel("events")
    axes.set_title(title)
    axes.grid(axis="y", alpha=0.3)
    if by_type:
        axes.legend(
            title="event type", fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1)
        )
    return _png(figure)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _by_camera(counts: pl.DataFrame) -> list[list[Any]]:
    totals = (
        counts.group_by("camera_id")
        .agg(pl.col("events").sum())
        .sort(["events", "camera_id"], descending=[True, False])
    )
    return [list(row) for row in totals.iter_rows()]


def line_rows(line_counts: list[dict[str, Any]]) -> list[list[Any]]:
    """[camera, line, a_to_b, b_to_a] per camera and counting line, by camera then line."""
    table: dict[tuple[str, str], dict[str, int]] = {}
    for count in line_counts:
        key = (count["camera_id"], count["line"])
        table.setdefault(key, {})[count["direction"]] = count["crossings"]
    return [
        [camera, line, found.get("a_to_b", 0), found.get("b_to_a", 0)]
        for (camera, line), found in sorted(table.items())
    ]


def render_html(day: date, stats: dict[str, Any], counts: pl.DataFrame) -> str:
    """The report page for one day."""
    pivot_rows = [
        [r["camera_id"], r["event_type"], r["events"]] for r in counts.iter_rows(named=True)
    ]
    plates = [[p["plate"], p["reads"]] for p in stats["top_plates"]]
    dwell = stats["mean_dwell_seconds"]
    lines = line_rows(stats.get("line_counts", []))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Events report {day}</title>
{STYLE}</head><body>
<h1>Events report, {day} (UTC)</h1>
<p>{stats["total_events"]} events; {stats["distinct_plates"]} distinct plates;
mean dwell time {f"{dwell:.1f} s" if dwell is not None else "n/a"}.</p>
<h2>Events per hour</h2><img src="hourly.png" alt="events per hour">
<h2>Busiest cameras</h2>
{_table(["camera", "events"], _by_camera(counts))}
<h2>Events per camera and type</h2>
{_table(["camera", "type", "events"], pivot_rows)}
<h2>Line crossings</h2>
{_table(["camera", "line", "a_to_b", "b_to_a"], lines) if lines else "<p>No line crossed.</p>"}
<h2>Top plates</h2>
{_table(["plate", "reads"], plates) if plates else "<p>No plates read.</p>"}
<p>Data: <a href="counts.csv">counts.csv</a>, <a href="counts.parquet">counts.parquet</a></p>
</body></html>
"""


def _write_data(folder: Path, stem: str, frame: pl.DataFrame) -> None:
    for suffix, write in ((".csv", frame.write_csv), (".parquet", frame.write_parquet)):
        buffer = io.BytesIO()
        write(buffer)
        write_atomically(folder / f"{stem}{suffix}", buffer.getvalue(), replace=True)


def write_report(pool: ConnectionPool, reports_dir: Path, day: date) -> Report:
    """Write the day's report from its derived statistics (:class:`MissingStatistics` when
    they are missing or out of date)."""
    [stats] = statistics_for(pool, day, day)
    counts = pl.DataFrame(stats["counts"], schema=COUNTS_SCHEMA)
    folder = reports_dir.resolve() / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    write_atomically(folder / "hourly.png", hourly_chart(stats["events_by_hour"]), replace=True)
    _write_data(folder, "counts", counts)
    write_atomically(folder / "report.html", render_html(day, stats, counts).encode(), replace=True)
    return Report(day, folder)


def period_counts(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """(day, camera_id, event_type, events) of the daily rows."""
    return pl.DataFrame(
        [{"day": row["day"], **count} for row in rows for count in row["counts"]],
        schema={"day": pl.Date, **COUNTS_SCHEMA},
    )


def render_period_html(period: Period, rows: list[dict[str, Any]], counts: pl.DataFrame) -> str:
    """The report page of a week or a month."""
    types = sorted(set(counts["event_type"].to_list()))
    per_day = {
        (day, kind): n
        for day, kind, n in counts.group_by("day", "event_type").agg(pl.col("events").sum()).rows()
    }
    day_rows = [
        [row["day"], row["total_events"], *(per_day.get((row["day"], t), 0) for t in types)]
        for row in rows
    ]
    totals = [row["total_events"] for row in rows]
    busiest = max(rows, key=lambda row: (row["total_events"], row["day"]))
    plates: Counter[str] = Counter()
    for row in rows:
        plates.update({p["plate"]: p["reads"] for p in row["top_plates"]})
    top = [[plate, n] for plate, n in sorted(plates.items(), key=lambda p: (-p[1], p[0]))[:10]]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Events report, {period.title}</title>
{STYLE}</head><body>
<h1>Events report, {html.escape(period.title)} (UTC)</h1>
<p>{sum(totals)} events over {len(rows)} days; {sum(totals) / len(rows):.1f} a day on average;
busiest day {busiest["day"]} ({busiest["total_events"]} events).</p>
<h2>Events per day</h2><img src="trend.png" alt="events per day, by type">
{_table(["day", "events", *types], day_rows)}
<h2>Busiest cameras</h2>
{_table(["camera", "events"], _by_camera(counts))}
<h2>Most read plates</h2>
{_table(["plate", "reads"], top) if top else "<p>No plates read.</p>"}
<p>(Summed over each day's ten most read plates.)</p>
<p>Data: <a href="days.csv">days.csv</a>, <a href="days.parquet">days.parquet</a></p>
</body></html>
"""


def write_period_report(pool: ConnectionPool, reports_dir: Path, period: Period) -> Path:
    """Write a weekly or monthly report from the period's daily statistics; its folder
    (:class:`MissingStatistics` when a day's statistics are missing or out of date)."""
    rows = statistics_for(pool, period.first_day, period.last_day)
    counts = period_counts(rows)
    days = [row["day"] for row in rows]
    position = {day: n for n, day in enumerate(days)}
    by_type: dict[str, list[int]] = {}
    for day, _camera, kind, n in counts.rows():
        by_type.setdefault(kind, [0] * len(days))[position[day]] += n
    folder = period.folder(reports_dir)
    folder.mkdir(parents=True, exist_ok=True)
    chart = trend_chart(days, by_type, f"Events per day, {period.title}")
    write_atomically(folder / "trend.png", chart, replace=True)
    _write_data(folder, "days", counts)
    page = render_period_html(period, rows, counts)
    write_atomically(folder / "report.html", page.encode(), replace=True)
    return folder


def list_reports(reports_dir: Path) -> list[Report]:
    """Every daily report folder, newest day first."""
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

"""Logging for every process: readable text for people (the default) or one JSON object per
line (``LOG_FORMAT=json``) for log collectors; uvicorn's lines go through the same handler, and
lines written while a progress bar is drawn do not break it."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal

from tqdm import tqdm

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
WORKER_TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(processName)s %(name)s: %(message)s"
# Attributes of a LogRecord that are not extra context.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, and any ``extra`` fields
    (``camera_id``, ``event_id``...) passed to the logging call."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.processName not in ("MainProcess", None):
            entry["process"] = record.processName
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class ProgressAwareHandler(logging.StreamHandler):
    """Writes through ``tqdm.write``, which clears and redraws any progress bar around it."""

    def emit(self, record: logging.LogRecord) -> None:
        """Write one formatted record to stderr without breaking a progress bar."""
        try:
            tqdm.write(self.format(record), file=self.stream or sys.stderr)
        except Exception:
            self.handleError(record)


def make_formatter(log_format: LogFormat, *, worker: bool = False) -> logging.Formatter:
    """The formatter of ``LOG_FORMAT``; a worker process's text lines name the process."""
    if log_format == "json":
        return JsonFormatter()
    return logging.Formatter(WORKER_TEXT_FORMAT if worker else TEXT_FORMAT)


def configure_logging(level: str, log_format: LogFormat = "text", *, worker: bool = False) -> None:
    """Route every logger (uvicorn's included) through one handler on stderr."""
    handler = ProgressAwareHandler(sys.stderr)
    handler.setFormatter(make_formatter(log_format, worker=worker))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        named = logging.getLogger(name)
        named.handlers.clear()
        named.propagate = True


def uvicorn_log_config() -> dict[str, Any]:
    """A uvicorn ``log_config`` that leaves its loggers to :func:`configure_logging`."""
    return {"version": 1, "disable_existing_loggers": False}

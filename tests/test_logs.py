"""Log formats: JSON lines for collectors, text for people, through one handler."""

from __future__ import annotations

import json
import subprocess
import sys


def _run(code: str, log_format: str) -> str:
    script = (
        "from analytics_pipeline.logs import configure_logging\n"
        f"configure_logging('INFO', {log_format!r})\n" + code
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stderr


def test_json_format_gives_one_object_per_line_with_context() -> None:
    err = _run(
        "import logging\n"
        "logging.getLogger('analytics_pipeline.analyzer').warning("
        "'camera %s lost', 'gate', extra={'camera_id': 'gate'})\n"
        "logging.getLogger('uvicorn.error').info('Started server process')\n",
        "json",
    )
    lines = [json.loads(line) for line in err.splitlines()]
    assert lines[0]["level"] == "WARNING" and lines[0]["message"] == "camera gate lost"
    assert lines[0]["camera_id"] == "gate" and lines[0]["logger"] == "analytics_pipeline.analyzer"
    assert lines[0]["time"].endswith("+00:00")
    assert lines[1]["logger"] == "uvicorn.error"


def test_text_is_the_default_for_people() -> None:
    err = _run("import logging\nlogging.getLogger('x').info('hello')\n", "text")
    assert err.rstrip().endswith("INFO    x: hello")


def test_log_lines_do_not_break_a_progress_bar() -> None:
    """A record written during a bar starts on a line of its own."""
    err = _run(
        "import logging, sys\nfrom tqdm import tqdm\n"
        "bar = tqdm(total=10, file=sys.stderr, ascii=True)\nbar.update(3)\n"
        "logging.getLogger('x').info('in the middle')\nbar.update(7)\nbar.close()\n",
        "json",
    )
    records = [line for line in err.replace("\r", "\n").splitlines() if "in the middle" in line]
    assert len(records) == 1
    assert json.loads(records[0].strip())["message"] == "in the middle"

"""Runs the API under uvicorn as ``serve`` will: ``python tests/api/run_server.py PORT``.

Settings come from the environment; the header deadline is shortened (HEADER_SECONDS) so the
slow-header test is quick. Used by the tests that need a real server (concurrency, memory).
"""

from __future__ import annotations

import os
import sys

import uvicorn

from analytics_pipeline.api.app import create_app
from analytics_pipeline.api.server import guarded_protocol, uvicorn_config
from analytics_pipeline.config import Settings
from analytics_pipeline.logs import configure_logging, uvicorn_log_config


def main() -> None:
    settings = Settings(_env_file=None)
    configure_logging(settings.log_level, settings.log_format)  # as `serve` does
    options = uvicorn_config(settings, host="127.0.0.1", port=int(sys.argv[1]))
    options["http"] = guarded_protocol(float(os.environ.get("HEADER_SECONDS", "10")))
    uvicorn.run(create_app(settings), **options, log_config=uvicorn_log_config())


if __name__ == "__main__":
    main()

"""``python -m analytics_pipeline``: the command line."""

from analytics_pipeline.cli import main

main()

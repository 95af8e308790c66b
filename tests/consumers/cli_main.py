"""``analytics-pipeline`` with this issue's commands, whether or not the CLI registers them yet:
``python -m tests.consumers.cli_main ARGS``."""

from __future__ import annotations

from analytics_pipeline.cli import main
from analytics_pipeline.cli.deliver import deliver
from analytics_pipeline.cli.plates import plates
from analytics_pipeline.cli.webhooks import webhooks

for command in (webhooks, plates, deliver):
    if command.name not in main.commands:
        main.add_command(command)

if __name__ == "__main__":
    main()

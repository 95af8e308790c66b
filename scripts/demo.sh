#!/usr/bin/env bash
# The demo: set-up (venv, packages, services, schema), then the pipeline end to end.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
analytics-pipeline demo --serve

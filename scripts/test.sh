#!/usr/bin/env bash
# The whole test suite: set-up (venv, packages, services, schema), lint, then pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh -k relay).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
# The events page is tested in headless Chromium (Debian's chromium and chromium-driver).
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  apt_install chromium chromium-driver
fi
say "ruff"
ruff check . && ruff format --check .
say "pytest"
pytest "$@"

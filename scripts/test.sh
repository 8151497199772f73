#!/usr/bin/env bash
# Set up (idempotent), then run the whole test suite: unit, integration (real Mephisto + node
# router + simulated workers) and browser tests (headless Debian chromium). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-browser
exec .venv/bin/python -m pytest "$@"

#!/usr/bin/env bash
# Set up (idempotent), then run the whole test suite: unit, integration (real Mephisto + node
# router + simulated workers) and browser tests (headless Debian chromium). Extra arguments go to pytest.
#
# The suite runs in parallel (pytest-xdist `-n auto`), each test file on one worker (--dist loadfile: a
# file's module fixtures, such as a Ray instance or a model server, start once). How many workers:
# tests/conftest.py, one per usable CPU and at most 4, none on a single CPU; PYTEST_XDIST_AUTO_NUM_WORKERS=N
# chooses, `-n 0` runs everything in pytest's own process, and --pdb does so by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-browser
exec .venv/bin/python -m pytest -n auto --dist loadfile "$@"

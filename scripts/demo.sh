#!/usr/bin/env bash
# Set up (idempotent), then run a local sandbox study on the bundled example data and print the
# worker pages to open. Extra arguments are Hydra overrides passed to `python -m humaneval.launch`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m humaneval.launch "${HUMANEVAL_DEMO_TASK:-acute}" "$@"

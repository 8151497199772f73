#!/usr/bin/env bash
# Refresh constraints.txt, the tested set scripts/setup.sh installs: resolve pyproject.toml's ranges (all + dev
# extras) afresh in a throw-away venv, add Mephisto --no-deps as setup.sh does, and freeze the result. Run the
# whole test suite after it; commit constraints.txt only when it passes.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${HUMANEVAL_PYTHON:-.venv/bin/python}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
"$python" -m venv "$scratch/venv"
"$scratch/venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[all,dev]'
"$scratch/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps mephisto==1.1.1
{ sed -n '/^#/p' constraints.txt; "$scratch/venv/bin/python" -m pip freeze --exclude-editable | grep -v '^humaneval'; } \
  > "$scratch/constraints.txt"
mv "$scratch/constraints.txt" constraints.txt
echo "lock: constraints.txt rewritten ($(grep -vc '^#' constraints.txt) packages); now run bash scripts/test.sh"

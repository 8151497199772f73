#!/usr/bin/env bash
# One idempotent set-up step for everything humaneval needs; both README commands run it first.
#   1. .venv with Python >= 3.11 (3.11 first) and the project (all + dev extras) installed at the tested versions
#      (constraints.txt), then Mephisto 1.1.1 --no-deps
#   2. Mephisto's node router packages (installed once, from Mephisto's own lockfile)
#   3. the task pages: npm ci from frontend/package-lock.json, then a webpack build
#   --with-browser: also make sure Debian's chromium is installed (browser tests need it)
# Each step is skipped when a stamp of its inputs is unchanged, so a second run is a fast no-op.
set -euo pipefail
cd "$(dirname "$0")/.."

with_browser=0
for arg in "$@"; do
  case "$arg" in
    --with-browser) with_browser=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

say() { printf 'setup: %s\n' "$*"; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "setup: $1 not found: $2" >&2; exit 1; }; }
hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# Any Python >= 3.11 with venv will do ($HUMANEVAL_PYTHON first, then by name); 3.11 is what CI tests.
find_python() {
  local candidate
  for candidate in ${HUMANEVAL_PYTHON:-} python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}
PYTHON="$(find_python)" || {
  echo "setup: no Python >= 3.11 with venv found (tried \$HUMANEVAL_PYTHON, python3.11, python3.12, python3.13, python3): install one (Debian: apt-get install python3 python3-venv)" >&2
  exit 1
}
need node "install Node.js >= 18 (Debian: apt-get install nodejs)"
need npm "install npm (Debian: apt-get install npm)"

MEPHISTO_VERSION=1.1.1
STAMPS=.venv/.humaneval-stamps

# 1. Python environment
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $PYTHON ($("$PYTHON" -c 'import sys; print("Python", sys.version.split()[0])'); CI tests 3.11)"
  "$PYTHON" -m venv .venv
fi
mkdir -p "$STAMPS"
py_hash="$(hash_of pyproject.toml constraints.txt)-mephisto-$MEPHISTO_VERSION"
if [ "$(cat "$STAMPS/python" 2>/dev/null)" != "$py_hash" ]; then
  say "installing the project and its dependencies into .venv"
  # constraints.txt: the exact versions the tests ran with (pyproject.toml has the ranges humaneval needs)
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[all,dev]'
  # Mephisto's metadata pins flask<2, click<8 and detoxify; pyproject.toml lists what it really needs.
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps "mephisto==$MEPHISTO_VERSION"
  echo "$py_hash" > "$STAMPS/python"
else
  say "python packages up to date"
fi

# 2. Mephisto's node router (npm ci inside site-packages, once per environment)
router_dir="$(.venv/bin/python - <<'PY'
import importlib.util, pathlib
spec = importlib.util.find_spec("mephisto")
print(pathlib.Path(spec.origin).parent / "abstractions/architects/router/node")
PY
)"
if [ ! -f "$router_dir/node_modules/express/package.json" ]; then
  say "installing Mephisto's node router packages"
  (cd "$router_dir" && npm ci --no-audit --no-fund --loglevel=error)
else
  say "node router up to date"
fi

# 3. Task pages
lock_hash="$(hash_of frontend/package-lock.json)"
if [ "$(cat frontend/node_modules/.humaneval-stamp 2>/dev/null)" != "$lock_hash" ]; then
  say "installing frontend packages (npm ci)"
  (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_hash" > frontend/node_modules/.humaneval-stamp
else
  say "frontend packages up to date"
fi
src_hash="$(find frontend/src frontend/public frontend/webpack.config.js frontend/package-lock.json -type f | sort | xargs cat | sha256sum | cut -d' ' -f1)"
if [ "$(cat frontend/dist/.humaneval-stamp 2>/dev/null)" != "$src_hash" ]; then
  say "building task pages (webpack)"
  (cd frontend && npx --no-install webpack --mode production --no-stats)
  echo "$src_hash" > frontend/dist/.humaneval-stamp
else
  say "task pages up to date"
fi

# 4. Browser for the browser tests
if [ "$with_browser" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian chromium"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "setup: chromium not found: run 'sudo apt-get install chromium' (browser tests need it)" >&2
    exit 1
  fi
fi
say "ready"

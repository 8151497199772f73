"""scripts/setup.sh is idempotent: the test command runs it before pytest, so here it is a second run
and must do nothing (its speed is measured in bench/setup_noop.sh, not asserted)."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_second_setup_run_is_a_no_op() -> None:
    result = subprocess.run(["bash", "scripts/setup.sh"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines == [
        "setup: python packages up to date",
        "setup: node router up to date",
        "setup: frontend packages up to date",
        "setup: task pages up to date",
        "setup: ready",
    ], result.stdout


def test_missing_system_piece_gets_one_line_error(tmp_path: Path) -> None:
    # A PATH with bash and coreutils but no python3.11/node/npm.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "cat", "sha256sum", "cut", "dirname", "sed"):
        found = subprocess.run(["bash", "-c", f"command -v {tool}"], capture_output=True, text=True).stdout.strip()
        (bin_dir / tool).symlink_to(found)
    result = subprocess.run(
        [str(bin_dir / "bash"), "scripts/setup.sh"], cwd=REPO, capture_output=True, text=True,
        env={"PATH": str(bin_dir)}, timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "setup: python3.11 not found: install Python 3.11 (Debian: apt-get install python3.11 python3.11-venv)"
    ]

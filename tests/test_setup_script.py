"""scripts/setup.sh is idempotent: the test command runs it before pytest, so here it is a second run
and must do nothing (its speed is measured in bench/setup_noop.sh, not asserted)."""

from __future__ import annotations

import subprocess
import sys
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


def _setup_with_only(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    """setup.sh on a PATH of bash and the coreutils it uses, plus `extra` (name -> target) and nothing else."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "cat", "sha256sum", "cut", "dirname", "sed"):
        found = subprocess.run(["bash", "-c", f"command -v {tool}"], capture_output=True, text=True).stdout.strip()
        (bin_dir / tool).symlink_to(found)
    for name, target in extra.items():
        (bin_dir / name).symlink_to(target)
    return subprocess.run(
        [str(bin_dir / "bash"), "scripts/setup.sh"], cwd=REPO, capture_output=True, text=True,
        env={"PATH": str(bin_dir)}, timeout=60,
    )


def test_missing_system_piece_gets_one_line_error(tmp_path: Path) -> None:
    result = _setup_with_only(tmp_path)  # no Python, node or npm
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "setup: no Python >= 3.11 with venv found (tried $HUMANEVAL_PYTHON, python3.11, python3.12, python3.13, "
        "python3): install one (Debian: apt-get install python3 python3-venv)"
    ]


def test_a_python_named_python3_is_found(tmp_path: Path) -> None:
    """Current Debian has no `python3.11` by name: any Python >= 3.11 on the PATH will do."""
    result = _setup_with_only(tmp_path, python3=sys.executable)  # the venv's 3.11, under another name
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["setup: node not found: install Node.js >= 18 (Debian: apt-get install nodejs)"]

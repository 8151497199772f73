"""The wheel of a clean checkout, built once per test session: `git clone` of this repository's committed HEAD
(what CI tests), `pip wheel` there (setup.py builds the task pages with npm, since a clean checkout has none),
and the clone deleted afterwards, so whatever installs the wheel cannot read a repository tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def build_clean_wheel(root: Path) -> Path:
    clone = root / "clean_checkout"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True, timeout=300)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
                            "--no-build-isolation", "-w", str(root / "wheels"), str(clone)],
                           capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stderr[-3000:]
    shutil.rmtree(clone)
    [wheel] = (root / "wheels").glob("humaneval-*.whl")
    return wheel


def fresh_venv(root: Path, wheel: Path, extras: str) -> Path:
    """A new venv at `root/venv` with `wheel[extras]` installed at the tested versions (constraints.txt, as
    scripts/setup.sh installs them; pip needs the registry or its cache)."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                              "-c", str(REPO / "constraints.txt"), f"{wheel}[{extras}]"],
                             capture_output=True, text=True, timeout=900, cwd=root)
    assert install.returncode == 0, install.stderr[-2000:]
    return venv

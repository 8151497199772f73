"""Build step of the wheel (everything else is in pyproject.toml): the wheel carries the files humaneval needs
at run time besides its Python code, under `humaneval/_shipped/` (see humaneval/shipped_files.py):

- `task_configs/`: the task YAMLs, the model registry and each study's bundled example data;
- `pages/`: the built task pages (`frontend/dist`), built here with `npm ci` and webpack when the checkout
  has none (a clean checkout, or an sdist), so a wheel built anywhere can launch every task;
- `public/`: our router page (`frontend/public`).

An editable install (`pip install -e`, what scripts/setup.sh does) reads the checkout's own folders instead.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
FRONTEND = ROOT / "frontend"
PAGES = ("acute", "safety", "bad", "smoke")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


def _build_pages() -> None:
    """Build the task pages unless every bundle is there (npm and Node.js are needed only then)."""
    if all((FRONTEND / "dist" / page / "bundle.js").is_file() for page in PAGES):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("building humaneval's task pages needs npm (Node.js >= 18): install it and build again")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=FRONTEND, check=True)
    subprocess.run([npm, "run", "build"], cwd=FRONTEND, check=True)


class BuildPyWithShippedFiles(build_py):
    """setuptools' build_py, then the shipped files copied into the build's humaneval package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's folders (shipped_files.py)
        _build_pages()
        target = Path(self.build_lib) / "humaneval" / "_shipped"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(ROOT / "task_configs", target / "task_configs", ignore=IGNORED)
        for page in PAGES:
            shutil.copytree(FRONTEND / "dist" / page, target / "pages" / page)
        shutil.copytree(FRONTEND / "public", target / "public")


setup(cmdclass={"build_py": BuildPyWithShippedFiles})

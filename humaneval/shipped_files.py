"""Where the files humaneval ships besides its Python code are: the task configs (with the bundled example
data and the model registry), the built task pages and our router page.

In a checkout they are the repository's own folders (`task_configs/`, `frontend/dist/`, `frontend/public/`).
A wheel carries copies inside the package, under `humaneval/_shipped/`: setup.py copies them at build time,
building the pages first when the checkout has none. Code asks here instead of walking up from its own file,
so that an installed humaneval never reads a repository tree, and a checkout never reads a stale copy.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
INSTALLED_DIR = PACKAGE_DIR / "_shipped"
"""Present only in an installed wheel (setup.py's build step writes it)."""
CHECKOUT_DIR = PACKAGE_DIR.parent


def _shipped(installed: str, in_checkout: str) -> Path:
    return INSTALLED_DIR / installed if INSTALLED_DIR.is_dir() else CHECKOUT_DIR / in_checkout


TASK_CONFIG_DIR = _shipped("task_configs", "task_configs")
"""The task YAMLs (acute, safety, bad, smoke, serve, models) and each study's bundled data folder."""
PAGES_DIR = _shipped("pages", "frontend/dist")
"""One folder per task page, each with its `bundle.js`."""
PUBLIC_DIR = _shipped("public", "frontend/public")
"""Our router page (Mephisto's default links a stylesheet from a CDN that workers may not reach)."""

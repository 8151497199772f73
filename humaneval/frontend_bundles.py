"""Where the built task pages are: `frontend/dist/<page>/bundle.js` (built by scripts/setup.sh)."""

from __future__ import annotations

from pathlib import Path

FRONTEND_DIR = Path(__file__).resolve().parent.parent / "frontend"
DIST_DIR = FRONTEND_DIR / "dist"
# Our own router page (the router's default links a CSS file from a CDN, which workers may not reach).
PUBLIC_DIR = FRONTEND_DIR / "public"


class BundleMissing(FileNotFoundError):
    """A task page was not built; scripts/setup.sh builds them all."""


def bundle_path(page: str) -> Path:
    path = DIST_DIR / page / "bundle.js"
    if not path.is_file():
        raise BundleMissing(f"the '{page}' task page is not built ({path} missing): run `bash scripts/setup.sh`")
    return path

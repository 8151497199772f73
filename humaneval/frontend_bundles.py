"""Where the built task pages are: `<pages>/<page>/bundle.js` (`frontend/dist` in a checkout, built by
scripts/setup.sh; inside the package in a wheel, see shipped_files)."""

from __future__ import annotations

from pathlib import Path

from humaneval.shipped_files import PAGES_DIR, PUBLIC_DIR

__all__ = ["PAGES_DIR", "PUBLIC_DIR", "BundleMissing", "bundle_path"]


class BundleMissing(FileNotFoundError):
    """A task page was not built; scripts/setup.sh builds them all."""


def bundle_path(page: str) -> Path:
    path = PAGES_DIR / page / "bundle.js"
    if not path.is_file():
        raise BundleMissing(f"the '{page}' task page is not built ({path} missing): run `bash scripts/setup.sh`")
    return path

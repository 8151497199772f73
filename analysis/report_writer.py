"""Put a report folder on disk all at once.

Everything is written into a hidden temporary folder beside the target and renamed into place at
the end, so an error (or Ctrl-C) never leaves a half-written report that looks complete. An existing
report folder is replaced; a folder holding anything else is refused rather than deleted.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from humaneval.input_errors import InputError


def write_report(
    out_dir: str | Path, tables: Mapping[str, pd.DataFrame], summary: Mapping[str, Any], html: str
) -> list[Path]:
    """Write CSVs, summary.json and report.html; return the final paths."""
    out = Path(out_dir)
    names = set(tables) | {"summary.json", "report.html"}
    if out.exists():
        if not out.is_dir():
            raise InputError("exists and is not a folder", path=out)
        foreign = sorted(p.name for p in out.iterdir() if p.name not in names)
        if foreign:
            raise InputError(f"holds files that are not part of a report ({', '.join(foreign[:3])}); choose a new folder", path=out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        for name, frame in tables.items():
            index = frame.index.name is not None
            frame.to_csv(tmp / name, index=index, float_format="%.10g")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (tmp / "report.html").write_text(html, encoding="utf-8")
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return sorted(out / n for n in names)

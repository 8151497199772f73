"""`write_csv` writes the bytes pandas' `to_csv` writes for the same spreadsheet-safe table, on the column
kinds it writes itself (floats, integers, bools, nullable bools, categories) and on those it leaves to pandas."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.report import writer
from analysis.report.writer import FLOAT_FORMAT, spreadsheet_safe, write_csv

TEXT = ["plain", "=1+1", "-x", 'say "hi", then\nleave', "", "tab\there", "é😀", "@a", "a,b"]


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    floats = rng.normal(0, 1e6, n) * rng.choice([1e-12, 1.0, 1e9], n)
    floats[rng.random(n) < 0.2] = np.nan
    floats[rng.random(n) < 0.3] = 1795260549.1030962  # repeated values (a unit's judgements share their times)
    floats[:4] = [math.inf, -0.0, 1795260000.123456, 0.0][:n]
    if seed % 2:
        floats[floats == 0] = 0.0  # zeros of one sign only: formatted once each
    codes = rng.integers(-1, len(TEXT), n)
    return pd.DataFrame({
        "text": pd.Categorical.from_codes(codes, categories=pd.Index(TEXT, dtype=object)),
        "float": floats,
        "int": rng.integers(-10**12, 10**12, n),
        "small": rng.integers(-3, 3, n).astype(np.int8),
        "bool": rng.random(n) < 0.5,
        "maybe": pd.array([None if r < 0.3 else bool(r < 0.6) for r in rng.random(n)], dtype="boolean"),
        "-odd name": rng.random(n),
    })


def _pandas_bytes(frame: pd.DataFrame, path: Path) -> bytes:
    spreadsheet_safe(frame).to_csv(path, index=frame.index.name is not None, float_format=FLOAT_FORMAT)
    return path.read_bytes()


@pytest.mark.parametrize("n", [0, 1, 7, 2500, 2501])
def test_the_same_bytes_as_pandas(n: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer, "CSV_CHUNK_ROWS", 1000)  # several chunks
    frame = _frame(n, seed=n)
    write_csv(frame, tmp_path / "ours.csv")
    assert (tmp_path / "ours.csv").read_bytes() == _pandas_bytes(frame, tmp_path / "theirs.csv")
    assert writer._cell_makers(frame) is not None  # written here, not by pandas


def test_other_tables_are_left_to_pandas(tmp_path: Path) -> None:
    plain_text = pd.DataFrame({"model": ["=a", None, "b"], "x": [1.5, np.nan, -2.0]})
    grid = pd.DataFrame([[0.5, np.nan]], index=pd.Index(["=row"], name="model"), columns=["a", "+b"])
    for frame in (plain_text, grid):
        write_csv(frame, tmp_path / "ours.csv")
        assert (tmp_path / "ours.csv").read_bytes() == _pandas_bytes(frame, tmp_path / "theirs.csv")
    assert writer._cell_makers(plain_text) is None

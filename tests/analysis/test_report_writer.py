"""The report folder: spreadsheet formulas in text cells are defused, permissions follow the umask."""

from __future__ import annotations

import csv
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from analysis.report.writer import spreadsheet_safe, write_report
from analysis_record_factory import judgement
from humaneval.jsonl import write_jsonl
from cli_in_process import run_analysis

FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1:A2)", "\tx", "\rx"]


def _cells(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_text_cells_that_start_like_formulas_get_a_quote() -> None:
    frame = pd.DataFrame({"model": FORMULAS + ["plain", "a=b"], "strength": [-0.5, 1, 2, 3, 4, 5, 6, 7],
                          "mixed": [-1, "-x", 2.5, None, "ok", "=1", 7, "+"]})
    safe = spreadsheet_safe(frame)
    assert safe["model"].tolist() == ["'" + f for f in FORMULAS] + ["plain", "a=b"]
    assert safe["strength"].tolist() == frame["strength"].tolist()  # numbers stay numbers, -0.5 included
    assert safe["mixed"].tolist() == [-1, "'-x", 2.5, None, "ok", "'=1", 7, "'+"]
    assert frame["model"].tolist()[0] == FORMULAS[0]  # the caller's frame is not changed


def test_written_tables_are_defused_cells_names_and_index(tmp_path: Path) -> None:
    frame = pd.DataFrame({"model": ["=1+1", "-2", "@x"], "strength": [-0.5, 0.0, 1.5]})
    grid = pd.DataFrame([[0.5]], index=pd.Index(["=evil"], name="model"), columns=["+evil"])
    write_report(tmp_path / "r", {"t.csv": frame, "grid.csv": grid}, {}, "<p>x</p>")
    assert _cells(tmp_path / "r" / "t.csv") == [["model", "strength"], ["'=1+1", "-0.5"], ["'-2", "0"], ["'@x", "1.5"]]
    assert _cells(tmp_path / "r" / "grid.csv") == [["model", "'+evil"], ["'=evil", "0.5"]]


def test_every_table_of_a_real_report_is_defused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A model and a worker named like formulas, through `python -m analysis acute`: no cell of any CSV starts with one."""
    evil_model, evil_worker = "=cmd|' /C calc'!A0", "@worker"
    records = [judgement(worker_id=w, unit_id=f"u{i}", pair_id=str(i % 3), model_b=evil_model,
                         winner=evil_model if i % 2 else "alpha", reason="-ok")
               for i, w in enumerate(["w1", "w2", evil_worker, "w3", "w4", "w5"])]
    write_jsonl(tmp_path / "j.jsonl", records)
    done = run_analysis(capsys, "acute", "--judgements", tmp_path / "j.jsonl", "--out", tmp_path / "r", "--bootstrap-rounds", "0")
    assert done.returncode == 0, done.stderr
    cells = [c for f in sorted((tmp_path / "r").glob("*.csv")) for row in _cells(f) for c in row]
    assert f"'{evil_model}" in cells and f"'{evil_worker}" in cells
    text = [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r")) or (c.startswith("-") and not _is_number(c))]
    assert text == []


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.fixture()
def umask() -> Iterator[None]:
    """Restore the process umask after a test changes it."""
    old = os.umask(0o022)
    os.umask(old)
    yield
    os.umask(old)


@pytest.mark.parametrize(("mask", "folder_mode", "file_mode"), [(0o022, 0o755, 0o644), (0o077, 0o700, 0o600),
                                                                 (0o002, 0o775, 0o664)], ids=["022", "077", "002"])
def test_folder_and_files_follow_the_umask(tmp_path: Path, umask: None, mask: int, folder_mode: int,
                                           file_mode: int) -> None:
    os.umask(mask)
    for _ in range(2):  # a new report, then one replacing it
        paths = write_report(tmp_path / "report", {"t.csv": pd.DataFrame({"a": [1]})}, {"k": 1}, "<p>x</p>")
        assert stat.S_IMODE((tmp_path / "report").stat().st_mode) == folder_mode
        assert {stat.S_IMODE(p.stat().st_mode) for p in paths} == {file_mode}

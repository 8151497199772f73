"""The `python -m analysis import` frame, shared by every source: it never writes what the analysis refuses
(the staged output is read back with the study's own reader), it refuses an input given twice or copied, it
caps rows and documents, and its `next:` hint can be pasted into a shell."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from analysis.__main__ import main
from analysis.importers import pairwise_csv, rows
from analysis.importers.source import Imported

STUDY = "model_a,model_b,winner,question\nx,y,x,Q?\nx,y,y,Q?\n"
MODEL_CHAT = Path(__file__).resolve().parents[1] / "fixtures" / "parlai" / "model_chat"


def _refused(capsys: pytest.CaptureFixture[str], out: Path, *argv: str) -> str:
    """Run the import, which must exit 2 and write nothing; the error line."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["import", *argv, "--out", str(out)])
    assert exit_info.value.code == 2
    assert not out.exists() and not list(out.parent.glob(f".{out.name}*"))  # no staged file left either
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    return err


def test_a_record_the_analysis_would_refuse_is_never_written(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """An importer slip (here: a winner the ACUTE reader does not know) stops the import, located on the record
    and the input line it came from, instead of a file `python -m analysis acute` refuses later."""
    study = tmp_path / "t.csv"
    study.write_text(STUDY, encoding="utf-8")
    convert = pairwise_csv.convert

    def slipping(paths: list[Path], args: object) -> Imported:
        imported = convert(paths, args)
        imported.records[1]["winner"] = "nobody"
        return imported

    monkeypatch.setattr(pairwise_csv, "convert", slipping)
    err = _refused(capsys, tmp_path / "out.jsonl", "pairwise-csv", str(study))
    assert f"imported record 2 (from {study}:3) would be refused by `python -m analysis acute`" in err
    assert "field 'winner'" in err and ".tmp" not in err  # the staged file's name means nothing to the user


def test_a_record_too_long_for_the_analysis_is_refused_naming_its_field(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """A bot turn of 5 MB: the analysis reads lines of at most 4 MiB, so the import refuses it up front."""
    live = json.loads((MODEL_CHAT / "2020_12_29" / "20201229_173200_2_live.json").read_text(encoding="utf-8"))
    live["dialog"][1]["text"] = "é" * (2_600_000)
    path = tmp_path / "huge_live.json"
    path.write_text(json.dumps(live), encoding="utf-8")
    err = _refused(capsys, tmp_path / "out.jsonl", "parlai-model-chat", str(path))
    assert f"imported record 1 (from {path})" in err
    assert "over the 4 MiB the analysis reads; its longest field is 'text'" in err


def test_the_same_file_twice_or_a_copy_is_refused_naming_both(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "dup"
    folder.mkdir()
    (folder / "battles.csv").write_text(STUDY, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    err = _refused(capsys, out, "pairwise-csv", str(folder / "battles.csv"), str(folder / "battles.csv"))
    assert f"{folder / 'battles.csv'}: is the same file as {folder / 'battles.csv'}" in err
    assert "is the same file" in _refused(capsys, out, "pairwise-csv", str(folder), str(folder / "battles.csv"))
    (folder / "battles_backup.csv").write_text(STUDY, encoding="utf-8")
    err = _refused(capsys, out, "pairwise-csv", str(folder))
    assert f"{folder / 'battles_backup.csv'}: has the same content as {folder / 'battles.csv'}" in err
    (folder / "battles_backup.csv").write_text(STUDY.replace("x,y,y", "y,x,y"), encoding="utf-8")
    assert main(["import", "pairwise-csv", str(folder), "--out", str(out)]) == 0  # different content: two files
    assert len(out.read_text(encoding="utf-8").splitlines()) == 4


def test_a_csv_row_is_capped_as_a_whole(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each cell under the cell cap and each line under the line cap, but the row over 4 MiB in all."""
    cells = 60
    header = "model_a,model_b,winner,question," + ",".join(f"c{i}" for i in range(cells))
    cell = '"' + "\n".join(["y" * 1000] * 100) + '"'  # 100 kB over 100 lines
    path = tmp_path / "wide.csv"
    path.write_text(header + "\nx,y,x,Q?," + ",".join([cell] * cells) + "\n", encoding="utf-8")
    err = _refused(capsys, tmp_path / "out.jsonl", "pairwise-csv", str(path))
    assert f"{path}:2: row longer than 4 MiB in all" in err


def test_a_parlai_document_over_the_cap_is_refused_before_it_is_read(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert rows.MAX_DOCUMENT_BYTES == 64 * 1024 * 1024  # as docs/files.md says
    monkeypatch.setattr(rows, "MAX_DOCUMENT_BYTES", 1024)
    err = _refused(capsys, tmp_path / "out.jsonl", "parlai-model-chat", str(MODEL_CHAT))
    assert "_live.json: larger than 1,024 bytes" in err


def test_the_next_hint_is_shell_quoted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    study = tmp_path / "t.csv"
    study.write_text(STUDY, encoding="utf-8")
    out = tmp_path / "my study $(touch x).jsonl"
    assert main(["import", "pairwise-csv", str(study), "--out", str(out)]) == 0
    [hint] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("next: ")]
    assert shlex.split(hint.removeprefix("next: ")) == ["python", "-m", "analysis", "acute", "--judgements", str(out),
                                                        "--out", "report/"]

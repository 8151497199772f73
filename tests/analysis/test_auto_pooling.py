"""`analysis auto` refuses what would pool replies wrongly (the same file twice; a controlled and an
uncontrolled run under one model name) and prints no factor from shares of 100% on both sides."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cli_in_process import run_analysis


def world_log(path: Path, model: str, replies: list[str], control: str | None = None) -> Path:
    lines = []
    for i, text in enumerate(replies):
        act = {"id": model, "text": text, "episode_done": True, **({"control": control} if control else {})}
        lines.append(json.dumps({"dialog": [[{"id": "teacher", "text": f"hi {i}"}, act]]}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_same_file_twice_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = world_log(tmp_path / "a.jsonl", "a", ["he is here"] * 10)
    done = run_analysis(capsys, "auto", log, tmp_path / "." / "a.jsonl", "--out", tmp_path / "r")
    assert done.returncode == 2 and "given twice" in done.stderr and not (tmp_path / "r").exists()


def test_controlled_and_uncontrolled_replies_under_one_name_are_refused(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    plain = world_log(tmp_path / "plain.jsonl", "TransformerGenerator", ["he is here"] * 10)
    steered = world_log(tmp_path / "f0m0.jsonl", "TransformerGenerator", ["it is here"] * 10, control=" f0m0")
    done = run_analysis(capsys, "auto", plain, steered, "--out", tmp_path / "r")
    assert done.returncode == 2 and "'TransformerGenerator'" in done.stderr and "different control" in done.stderr
    assert not (tmp_path / "r").exists()
    renamed = world_log(tmp_path / "f0m0.jsonl", "gen_f0m0", ["it is here"] * 10, control=" f0m0")
    assert run_analysis(capsys, "auto", plain, renamed, "--out", tmp_path / "r").returncode == 0


def test_shares_of_100_percent_on_both_sides_give_no_factor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = world_log(tmp_path / "a.jsonl", "a", ["he said so"] * 40)
    b = world_log(tmp_path / "b.jsonl", "b", ["his idea"] * 40)
    done = run_analysis(capsys, "auto", a, b, "--baseline", "a", "--out", tmp_path / "r")
    assert done.returncode == 0, done.stderr
    red = pd.read_csv(tmp_path / "r" / "reductions.csv", keep_default_na=False)
    male = red[red["measure"].str.contains("male") & ~red["measure"].str.contains("female")]
    assert len(male) == 1 and male["factor"].iloc[0] == "" and "all 40 and 40 have it" in male["not_enough_data"].iloc[0]
    assert "[1.00, 1.00]" not in done.stdout

"""humaneval.visible_text: what a terminal or a one-line error would act on is shown, never acted on."""

from __future__ import annotations

import pytest

from humaneval.input_errors import InputError, exit_on_input_error
from humaneval.visible_text import visible


@pytest.mark.parametrize(("raw", "shown"), [
    ("\x1b[2J\x1b]0;pwned\x07", "\\x1b[2J\\x1b]0;pwned\\x07"),  # clear screen, retitle, bell
    ("two\nlines\r", "two\\x0alines\\x0d"),
    ("\u202eLTR", "\\u202eLTR"),  # right-to-left override: would read "RTL"
    ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
    ("soft\xadhyphen", "soft\\xadhyphen"),
])
def test_control_and_format_characters_become_escapes(raw: str, shown: str) -> None:
    assert visible(raw) == shown


@pytest.mark.parametrize("text", ["plain", "café naïve", "שלום עולם", "中文 名字", "emoji 🙂"])
def test_ordinary_text_in_any_script_is_unchanged(text: str) -> None:
    assert visible(text) == text


def test_an_input_error_stays_one_line_and_inert(capsys: pytest.CaptureFixture[str]) -> None:
    @exit_on_input_error
    def main() -> int:
        raise InputError("model \x1b[31mred\x1b[0m refused", path="evil\nname.csv", line=2, field="model\ra")

    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err and "\r" not in err
    assert "evil\\x0aname.csv:2: field 'model\\x0da'" in err


def test_a_report_neither_runs_nor_spoofs_a_hostile_model_name(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    """`analysis acute` prints model names and writes them into the page: an ESC sequence must not reach the
    terminal, and a right-to-left override must not make "\u202eLTR" pass for "RTL" on the page."""
    import json

    from analysis.__main__ import main
    from analysis.synthetic.acute import StudyDesign, simulate

    design = StudyDesign(strengths={"a": 0.0, "b": 0.5}, n_judgements=40, n_workers=8, n_pairs=20, judgements_per_unit=2)
    names = {"a": "\x1b]0;pwned\x07evil", "b": "\u202eLTR"}
    records = []
    for r in simulate(design).records():
        records.append({**r, **{k: names.get(r[k], r[k]) for k in ("model_a", "model_b", "left", "winner")}})
    judgements = tmp_path / "j.jsonl"
    judgements.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    assert main(["acute", "--judgements", str(judgements), "--out", str(tmp_path / "report"),
                 "--bootstrap-rounds", "20"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b]0;pwned\\x07evil" in out and "\\u202eLTR" in out
    page = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert "\u202e" not in page and "\x1b" not in page and "\\u202eLTR" in page

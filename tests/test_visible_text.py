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

"""The shared `python -m PACKAGE VERB` dispatcher used by humaneval.acute, .models and .crowd."""

from __future__ import annotations

import sys
import types

import pytest

from humaneval.verb_dispatch import dispatch

VERBS = {"echo": ("fake_verb_module", "print the arguments back"), "other-verb": ("nowhere", "never imported")}


def test_help_lists_every_verb_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert dispatch("python -m pkg", VERBS, ["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m pkg VERB")
    assert "  echo         print the arguments back" in out and "  other-verb   never imported" in out


@pytest.mark.parametrize("argv", [[], ["unknown"]])
def test_missing_or_unknown_verb_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert dispatch("python -m pkg", VERBS, argv) == 2
    assert "echo" in capsys.readouterr().out


def test_verb_module_is_imported_lazily_and_gets_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    module = types.ModuleType("fake_verb_module")
    module.main = lambda argv: seen.append(argv) or 3  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_verb_module", module)
    assert dispatch("python -m pkg", VERBS, ["echo", "--x", "1"]) == 3
    assert seen == [["--x", "1"]]
    assert "nowhere" not in sys.modules

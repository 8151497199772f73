"""`review --help` tells the truth on every provider: each verb that acts on Prolific says what it does there,
and the MTurk-only verb says it is MTurk only (the help once described MTurk alone)."""

from __future__ import annotations

import re

import pytest

from humaneval.crowd.cli_review import main as review_main

VERBS = ("list", "approve", "reject", "soft-block", "block", "bonus", "serve", "balance")


def help_of(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        review_main([*argv, "--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def flat(text: str) -> str:
    return " ".join(text.split())


def verb_lines(capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """Each verb's entry in `review --help`: argparse starts it on its own line, indented by four."""
    text = help_of([], capsys)
    listed = text[text.index("positional arguments:"):text.index("\noptions:")]
    starts = list(re.finditer(r"^    (\S+)", listed, re.M))
    entries = {m.group(1): flat(listed[m.end():(starts[i + 1].start() if i + 1 < len(starts) else len(listed))])
               for i, m in enumerate(starts)}
    assert tuple(entries) == VERBS, entries
    return entries


def test_every_verb_that_acts_on_prolific_says_what_it_does_there(capsys: pytest.CaptureFixture[str]) -> None:
    lines = verb_lines(capsys)
    for verb in ("approve", "reject", "soft-block", "block", "bonus"):  # serve: the same actions on a page
        assert "Prolific" in lines[verb], lines[verb]
    assert "pay" in lines["approve"] and "not paid" in lines["reject"] and "block group" in lines["block"]
    assert "MTurk only" in lines["balance"] and "Prolific" not in lines["balance"]


def test_the_block_reason_says_where_it_is_kept_on_each_provider(capsys: pytest.CaptureFixture[str]) -> None:
    text = flat(help_of(["block"], capsys))
    reason = text[text.index("--reason REASON", text.index("options:")):]
    assert "MTurk records it" in reason and "Prolific" in reason and "only in our output and log" in reason
    assert "block group" in text  # the verb's own description is shown with its options

"""The verdict box and the "not enough data" cell (analysis/report/html_parts.py): every sentence and need
is escaped, links go only to anchors on the page, and a replaced statistic shows as is inside `table`."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from analysis.report import Html, VerdictSentence, not_enough_data, verdict_box
from analysis.report.html_parts import fmt, table

EVIL = "<script>alert(1)</script> & \"quoted\" 'single' <img src=x onerror=alert(2)>"


def test_verdict_box_is_titled_and_lists_each_sentence_in_order() -> None:
    html = verdict_box([VerdictSentence("Model A beats model B.", "pairwise"), VerdictSentence("Too few workers.")])
    assert html.startswith("<section class='verdict'")
    assert ">Verdict</h2>" in html
    items = re.findall(r"<li>(.*?)</li>", html)
    assert len(items) == 2
    assert items[0].startswith("Model A beats model B.")
    assert items[1] == "Too few workers."


def test_verdict_sentence_links_to_its_table_and_only_when_it_has_one() -> None:
    html = verdict_box([VerdictSentence("rests on a table", "workers-table"), VerdictSentence("rests on none", None)])
    assert re.findall(r"href='([^']*)'", html) == ["#workers-table"]
    assert html.count("<a ") == 1


def test_verdict_box_escapes_every_sentence() -> None:
    html = verdict_box([VerdictSentence(EVIL, "t1"), EVIL])
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&amp;" in html and "&quot;quoted&quot;" in html and "&#x27;single&#x27;" in html


@pytest.mark.parametrize("anchor", ["", "x' onmouseover='alert(1)", "javascript:alert(1)", "a b", "#t", "../x", "1abc", "é"])
def test_verdict_anchor_that_is_not_a_plain_id_is_refused(anchor: str) -> None:
    with pytest.raises(ValueError, match="anchor"):
        verdict_box([VerdictSentence("s", anchor)])


def test_verdict_box_without_sentences_is_left_out() -> None:
    assert verdict_box([]) == ""


def test_not_enough_data_is_muted_and_escaped() -> None:
    html = not_enough_data(EVIL)
    assert isinstance(html, Html)
    assert html.startswith("<span class='thin'>not enough data: needs ")
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html


def test_not_enough_data_shows_as_is_in_a_table_but_plain_text_stays_escaped() -> None:
    cell = not_enough_data("at least 30 judgements per pair")
    assert fmt(cell) == cell
    html = table(pd.DataFrame({"pair": [EVIL, "a vs b"], "p": [cell, 0.25]}), {"pair"})
    assert html.count("<span class='thin'>not enough data: needs at least 30 judgements per pair</span>") == 1
    assert "<script" not in html and "&lt;script&gt;" in html

"""Onboarding pairs: comparisons with a known right answer that a worker must get right first.

The bundled default puts a good conversation beside a bot that only ever says "I don't know"; any
careful worker picks the good one, so failing it means not reading. Users can bring their own file
in the same format (docs/formats.md, "ACUTE pairings" with `is_onboarding: true` and `correct_answer`), as JSONL — or
as ParlAI's `onboarding.json`, a single (pretty-printed) pair or a list of pairs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from humaneval.acute.bundled_data import DEFAULT_ONBOARDING_PATH
from humaneval.acute.pairings_validation import assign_pair_ids, iter_pairings_with_lines, validate_pair, with_page_images
from humaneval.input_errors import InputError
from humaneval.jsonl import read_json_document
from humaneval.page_images import PageImages
from humaneval.practice_feedback import PracticeVerdict

__all__ = ["DEFAULT_ONBOARDING_PATH", "load_onboarding", "practice_verdict"]


def load_onboarding(path: str | Path = DEFAULT_ONBOARDING_PATH, images: PageImages | None = None) -> list[dict[str, Any]]:
    """Validated onboarding pairs, each with `pair_id` (and `page_images` with `images`, see `load_pairings`);
    at least one, all with `is_onboarding: true`."""
    path = Path(path)
    source = _iter_json_pairs(path) if path.suffix == ".json" else iter_pairings_with_lines(path)
    pairs: list[dict[str, Any]] = []
    for line, pair in source:
        if not pair["is_onboarding"]:
            raise InputError(
                "not an onboarding pair ('is_onboarding' must be true in an onboarding file)",
                path=path,
                line=line,
                field="is_onboarding",
            )
        pairs.append(pair if images is None else with_page_images(pair, images, path, line))
    if not pairs:
        raise InputError("no onboarding pairs in the file", path=path)
    return pairs


def _iter_json_pairs(path: Path) -> Iterator[tuple[int | None, dict[str, Any]]]:
    """ParlAI's `onboarding.json`: one JSON document holding a pair or a list of pairs (no line numbers)."""
    value = read_json_document(path)
    items = value if isinstance(value, list) else [value]
    yield from assign_pair_ids(((None, validate_pair(item, path=path)) for item in items), path=path)


def practice_verdict(pair: dict[str, Any], left_index: int, answer: str) -> PracticeVerdict:
    """Right or wrong for `answer` ("left", "right", or an extra choice) to onboarding `pair` shown with
    side `left_index` on the left, in the page's words ("Speaker 1" is on the left, "Speaker 2" on the
    right), followed by the pair's `feedback` when it has one."""
    better_side = "left" if pair["speakers_to_eval"][left_index] == pair["correct_answer"] else "right"
    better = "Speaker 1" if better_side == "left" else "Speaker 2"
    return PracticeVerdict.of(answer == better_side, f"{better} is the better one here", pair.get("feedback"))

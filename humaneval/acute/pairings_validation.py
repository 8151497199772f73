"""Check any ACUTE pairings file (ours, ParlAI's, hand-made) before a single worker sees it.

ParlAI's blueprint trusts the file: a typo in a speaker id shows a conversation with no highlighted
speaker, identical models make a comparison meaningless, an onboarding pair without
`correct_answer` fails every worker, a model named "tie" or "both_bad" could not be told from a tie in
the judgements (their `winner`). Here every line is checked against docs/formats.md, "ACUTE pairings" and the first
problem is an `InputError` naming file, line and field, so the CLI exits 2 and the launcher never
starts on a broken file.

Every validated pair also gets a stable `pair_id` (an extra key ParlAI ignores), which judgements,
the work queue and crash-resume key on:

- a `pair_id` already in the file (a non-empty string) is kept; two pairs with the same one are an error;
- otherwise it is derived from the content: the first 16 hex digits of the SHA-256 of the pair's
  canonical JSON (keys sorted, no whitespace, `pair_id` left out). Reordering or filtering the file
  keeps every id; the same pair written twice gets `~2`, `~3`... appended in file order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from humaneval.acute.task_data import reserved_name_problem
from humaneval.input_errors import InputError
from humaneval.jsonl import iter_jsonl_objects
from humaneval.page_images import ALT_KEY, IMAGE_KEY, PageImages, episode_image, folder_of
from humaneval.practice_feedback import feedback_problem

PAIR_ID_HEX_DIGITS = 16


def content_pair_id(pair: dict[str, Any]) -> str:
    """The content-derived id of a pair (without duplicate suffix); `pair_id` itself is ignored."""
    body = {k: v for k, v in pair.items() if k != "pair_id"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:PAIR_ID_HEX_DIGITS]


def validate_pair(pair: Any, *, path: str | Path | None = None, line: int | None = None) -> dict[str, Any]:
    """Check one pair (docs/formats.md, "ACUTE pairings") and return it unchanged; raise `InputError` on the first problem.

    `pair_id` is not assigned here (that needs the whole file, for duplicates); see `iter_pairings`.
    """

    def fail(problem: str, field: str | None = None) -> InputError:
        return InputError(problem, path=path, line=line, field=field)

    if not isinstance(pair, dict):
        raise fail(f"a pair must be a JSON object, got {type(pair).__name__}")
    for key in ("is_onboarding", "speakers_to_eval", "dialogue_dicts"):
        if key not in pair:
            raise fail(f"missing key '{key}'", key)
    is_onboarding = pair["is_onboarding"]
    if not isinstance(is_onboarding, bool):
        raise fail(f"'is_onboarding' must be true or false, got {is_onboarding!r}", "is_onboarding")

    speakers_to_eval = pair["speakers_to_eval"]
    if not isinstance(speakers_to_eval, list) or len(speakers_to_eval) != 2:
        raise fail("'speakers_to_eval' must be a list of exactly 2 speaker ids", "speakers_to_eval")
    for i, speaker in enumerate(speakers_to_eval):
        if not isinstance(speaker, str) or not speaker:
            raise fail(f"evaluated speaker must be a non-empty string, got {speaker!r}", f"speakers_to_eval[{i}]")
        reserved = reserved_name_problem(speaker)
        if reserved:
            raise fail(reserved, f"speakers_to_eval[{i}]")
    if speakers_to_eval[0] == speakers_to_eval[1]:
        raise fail(
            f"identical evaluated models: both sides are {speakers_to_eval[0]!r}; a pair must compare two different speakers",
            "speakers_to_eval",
        )

    dialogue_dicts = pair["dialogue_dicts"]
    if not isinstance(dialogue_dicts, list) or len(dialogue_dicts) != 2:
        raise fail("'dialogue_dicts' must be a list of exactly 2 dialogues", "dialogue_dicts")
    for i, (dialogue, speaker) in enumerate(zip(dialogue_dicts, speakers_to_eval)):
        _validate_dialogue(dialogue, speaker, f"dialogue_dicts[{i}]", fail)
        other = speakers_to_eval[1 - i]
        if other in dialogue["speakers"]:
            # ParlAI's runner asserts this too: a page could not tell which speaker to judge.
            raise fail(
                f"the other evaluated speaker {other!r} is also a speaker of this dialogue; "
                "each dialogue must contain only its own evaluated speaker",
                f"dialogue_dicts[{i}].speakers",
            )

    if "dialogue_ids" in pair or not is_onboarding:
        if "dialogue_ids" not in pair:
            raise fail("missing key 'dialogue_ids' (required for non-onboarding pairs)", "dialogue_ids")
        ids = pair["dialogue_ids"]
        if not isinstance(ids, list) or len(ids) != 2:
            raise fail("'dialogue_ids' must be a list of exactly 2 ids", "dialogue_ids")
        for i, value in enumerate(ids):
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                raise fail(f"a dialogue id must be an integer or a string, got {value!r}", f"dialogue_ids[{i}]")

    if is_onboarding:
        if "correct_answer" not in pair:
            raise fail("onboarding pair without 'correct_answer' (the speaker a careful worker picks)", "correct_answer")
        answer = pair["correct_answer"]
        if answer not in speakers_to_eval:
            raise fail(
                f"'correct_answer' {answer!r} is not one of the two evaluated speakers {speakers_to_eval}", "correct_answer"
            )
        problem = feedback_problem(pair.get("feedback"))
        if problem:
            raise fail(f"'feedback' {problem}", "feedback")

    if "tags" in pair:
        tags = pair["tags"]
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise fail("'tags' must be a list of strings", "tags")
    if "pair_id" in pair:
        pair_id = pair["pair_id"]
        if not isinstance(pair_id, str) or not pair_id.strip():
            raise fail(f"'pair_id' must be a non-empty string, got {pair_id!r}", "pair_id")
    return pair


def _validate_dialogue(dialogue: Any, speaker: str, where: str, fail: Any) -> None:
    if not isinstance(dialogue, dict):
        raise fail(f"a dialogue must be a JSON object, got {type(dialogue).__name__}", where)
    for key in ("speakers", "dialogue"):
        if key not in dialogue:
            raise fail(f"missing key '{key}'", f"{where}.{key}")
    speakers = dialogue["speakers"]
    if not isinstance(speakers, list) or not all(isinstance(s, str) for s in speakers):
        raise fail("'speakers' must be a list of speaker ids (strings)", f"{where}.speakers")
    if speaker not in speakers:
        raise fail(f"evaluated speaker {speaker!r} is absent from this dialogue's speakers {speakers}", f"{where}.speakers")
    for key in (IMAGE_KEY, ALT_KEY):
        if key in dialogue and not isinstance(dialogue[key], str):
            raise fail(f"'{key}' must be a string", f"{where}.{key}")
    turns = dialogue["dialogue"]
    if not isinstance(turns, list):
        raise fail("'dialogue' must be a list of turns", f"{where}.dialogue")
    spoke = False
    for j, turn in enumerate(turns):
        if not isinstance(turn, dict):
            raise fail(f"a turn must be a JSON object, got {type(turn).__name__}", f"{where}.dialogue[{j}]")
        if not isinstance(turn.get("id"), str):
            raise fail("a turn needs a speaker 'id' (string)", f"{where}.dialogue[{j}].id")
        if not isinstance(turn.get("text"), str):
            raise fail("a turn needs a 'text' (string)", f"{where}.dialogue[{j}].text")
        for key in (IMAGE_KEY, ALT_KEY):
            if key in turn and not isinstance(turn[key], str):
                raise fail(f"'{key}' must be a string", f"{where}.dialogue[{j}].{key}")
        spoke = spoke or turn["id"] == speaker
    if not spoke:
        raise fail(f"evaluated speaker {speaker!r} has no turn in this dialogue", f"{where}.dialogue")
    if "context" in dialogue:
        context = dialogue["context"]
        if not isinstance(context, list):
            raise fail("'context' must be a list of context acts", f"{where}.context")
        for j, act in enumerate(context):
            if not isinstance(act, dict) or not isinstance(act.get("text"), str):
                raise fail("a context act must be an object with a 'text' (string)", f"{where}.context[{j}]")


def assign_pair_ids(
    pairs: Iterable[tuple[int | None, dict[str, Any]]], *, path: str | Path | None = None
) -> Iterator[tuple[int | None, dict[str, Any]]]:
    """Give every pair its stable `pair_id` (see module docstring), passing the line through.

    Takes `(line, pair)` so that a duplicate explicit id can be reported at its second line.
    """
    seen: dict[str, int | None] = {}
    derived_count: dict[str, int] = {}
    for line, pair in pairs:
        if "pair_id" in pair:
            pair_id = pair["pair_id"]
            if pair_id in seen:
                where = f" (first on line {seen[pair_id]})" if seen[pair_id] is not None else ""
                raise InputError(f"duplicate pair_id {pair_id!r}{where}", path=path, line=line, field="pair_id")
        else:
            base = content_pair_id(pair)
            n = derived_count.get(base, 0) + 1
            derived_count[base] = n
            pair_id = base if n == 1 else f"{base}~{n}"
            while pair_id in seen:  # an explicit id elsewhere happens to look like a derived one
                n += 1
                derived_count[base] = n
                pair_id = f"{base}~{n}"
            pair = {"pair_id": pair_id, **pair}
        seen[pair_id] = line
        yield line, pair


def iter_pairings_with_lines(path: str | Path) -> Iterator[tuple[int | None, dict[str, Any]]]:
    """Stream `(line, pair)` for every validated pair of a pairings JSONL file, `pair_id` included."""
    checked = ((line, validate_pair(obj, path=path, line=line)) for line, obj in iter_jsonl_objects(path))
    yield from assign_pair_ids(checked, path=path)


def iter_pairings(path: str | Path) -> Iterator[dict[str, Any]]:
    """Stream the validated pairs of a pairings JSONL file, each with its `pair_id`."""
    for _, pair in iter_pairings_with_lines(path):
        yield pair


def load_pairings(path: str | Path, *, allow_empty: bool = False, images: PageImages | None = None) -> list[dict[str, Any]]:
    """All validated pairs of a file (onboarding ones included, in file order), each with `pair_id`; with
    `images`, also the `page_images` its two conversations show (`with_page_images`).

    An empty file is an error unless `allow_empty`: a run with nothing to judge is a mistake.
    """
    pairs = [pair if images is None else with_page_images(pair, images, path, line)
             for line, pair in iter_pairings_with_lines(path)]
    if not pairs and not allow_empty:
        raise InputError("no pairs in the file", path=path)
    return pairs


def with_page_images(pair: dict[str, Any], images: PageImages, path: str | Path, line: int | None) -> dict[str, Any]:
    """`pair` with `page_images`: per conversation, the image it is about (`{"url", "alt"}`) or None.

    A conversation's image is its own `image_src` (with `image_alt`), else the first turn's (ParlAI's place),
    a path relative to the pairings file; checked and copied by `images` (`humaneval.page_images`)."""
    base = folder_of(path)
    views = []
    for i, dialogue in enumerate(pair["dialogue_dicts"]):
        holders = [(f"dialogue_dicts[{i}].", dialogue),
                   *((f"dialogue_dicts[{i}].dialogue[{j}].", turn) for j, turn in enumerate(dialogue["dialogue"]))]
        views.append(images.view(episode_image(holders, base, path, line)))
    return {**pair, "page_images": views}


def summarize_pairings(pairs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Counts a user checks before launching: pairs, onboarding pairs, pairs per unordered model pair."""
    total = onboarding = 0
    per_model_pair: dict[tuple[str, str], int] = {}
    for pair in pairs:
        total += 1
        if pair["is_onboarding"]:
            onboarding += 1
            continue
        a, b = sorted(pair["speakers_to_eval"])
        per_model_pair[(a, b)] = per_model_pair.get((a, b), 0) + 1
    return {"pairs": total, "onboarding": onboarding, "per_model_pair": dict(sorted(per_model_pair.items()))}

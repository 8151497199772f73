"""Validating user pairings files, stable pair ids, onboarding files and question presets."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from humaneval.acute.onboarding import DEFAULT_ONBOARDING_PATH, load_onboarding
from humaneval.acute.pairings_validation import content_pair_id, load_pairings, summarize_pairings
from humaneval.acute.questions import PRESETS, resolve_question
from humaneval.input_errors import InputError

GOOD_PAIR = {
    "is_onboarding": False,
    "speakers_to_eval": ["modelb", "modela"],
    "dialogue_ids": [0, 1],
    "tags": ["example1"],
    "dialogue_dicts": [
        {"speakers": ["modelb", "human_evaluator"], "id": "AGHIJK",
         "dialogue": [{"id": "human_evaluator", "text": "Hi, I love food, what about you?"}, {"id": "modelb", "text": "I love food too"}]},
        {"speakers": ["modela", "human_evaluator"], "id": "XYZ",
         "dialogue": [{"id": "modela", "text": "hello"}, {"id": "human_evaluator", "text": "hi"}],
         "context": [{"id": "context", "text": "your persona: i cook."}]},
    ],
}


def variant(change) -> dict:
    pair = copy.deepcopy(GOOD_PAIR)
    change(pair)
    return pair


def onboarding(pair: dict) -> None:
    pair["is_onboarding"] = True
    pair["correct_answer"] = "modela"


BAD = {
    "missing speakers_to_eval": (lambda p: p.pop("speakers_to_eval"), "speakers_to_eval", "missing key"),
    "missing dialogue_ids": (lambda p: p.pop("dialogue_ids"), "dialogue_ids", "missing key"),
    "missing dialogue": (lambda p: p["dialogue_dicts"][1].pop("dialogue"), "dialogue_dicts[1].dialogue", "missing key"),
    "is_onboarding not bool": (lambda p: p.update(is_onboarding="no"), "is_onboarding", "true or false"),
    "three speakers": (lambda p: p["speakers_to_eval"].append("c"), "speakers_to_eval", "exactly 2"),
    "speaker not str": (lambda p: p["speakers_to_eval"].__setitem__(0, 5), "speakers_to_eval[0]", "non-empty string"),
    "identical models": (lambda p: p.update(speakers_to_eval=["modela", "modela"]), "speakers_to_eval", "identical evaluated models"),
    "one dialogue": (lambda p: p["dialogue_dicts"].pop(), "dialogue_dicts", "exactly 2"),
    "speaker absent from speakers": (lambda p: p["dialogue_dicts"][0].update(speakers=["human_evaluator"]),
                                     "dialogue_dicts[0].speakers", "absent"),
    "speaker absent from turns": (lambda p: p["dialogue_dicts"][1].update(dialogue=[{"id": "human_evaluator", "text": "hi"}]),
                                  "dialogue_dicts[1].dialogue", "no turn"),
    "other model in dialogue": (lambda p: p["dialogue_dicts"][1]["speakers"].append("modelb"), "dialogue_dicts[1].speakers",
                                "also a speaker of this dialogue"),
    "turn text not str": (lambda p: p["dialogue_dicts"][0]["dialogue"][1].update(text=None), "dialogue_dicts[0].dialogue[1].text", "text"),
    "context not list": (lambda p: p["dialogue_dicts"][1].update(context="persona"), "dialogue_dicts[1].context", "list"),
    "dialogue id bool": (lambda p: p.update(dialogue_ids=[True, 1]), "dialogue_ids[0]", "integer or a string"),
    "tags not list": (lambda p: p.update(tags="x"), "tags", "list of strings"),
    "onboarding without answer": (lambda p: p.update(is_onboarding=True), "correct_answer", "without 'correct_answer'"),
    "onboarding wrong answer": (lambda p: (onboarding(p), p.update(correct_answer="human_evaluator")), "correct_answer", "not one of"),
    "empty pair_id": (lambda p: p.update(pair_id=""), "pair_id", "non-empty"),
    "feedback not text": (lambda p: (onboarding(p), p.update(feedback=["why"])), "feedback", "non-empty string"),
    "feedback blank": (lambda p: (onboarding(p), p.update(feedback="  ")), "feedback", "non-empty string"),
    "feedback an essay": (lambda p: (onboarding(p), p.update(feedback="x" * 501)), "feedback", "at most 500"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_each_problem_names_file_line_and_field(tmp_path: Path, name: str) -> None:
    change, field, problem = BAD[name]
    path = tmp_path / "pairings.jsonl"
    path.write_text(json.dumps(GOOD_PAIR) + "\n" + json.dumps(variant(change)) + "\n")
    with pytest.raises(InputError) as err:
        load_pairings(path)
    assert (err.value.path, err.value.line, err.value.field) == (str(path), 2, field)
    assert problem in err.value.problem


def test_invalid_json_and_non_object_lines(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps(GOOD_PAIR) + "\n" + '{"is_onboarding": fal\n')
    with pytest.raises(InputError, match="invalid JSON") as err:
        load_pairings(path)
    assert err.value.line == 2
    path.write_text('["a", "b"]\n')
    with pytest.raises(InputError, match="JSON object") as err:
        load_pairings(path)
    assert err.value.line == 1


def test_empty_file_is_an_error_unless_allowed(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n")
    with pytest.raises(InputError, match="no pairs"):
        load_pairings(path)
    assert load_pairings(path, allow_empty=True) == []


def test_pair_ids_are_stable_under_reordering_and_unique(tmp_path: Path) -> None:
    other = variant(lambda p: p.update(dialogue_ids=[5, 6]))
    explicit = variant(lambda p: p.update(pair_id="mine", dialogue_ids=[7, 8]))
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in (GOOD_PAIR, other, GOOD_PAIR, explicit)))
    ids = [p["pair_id"] for p in load_pairings(path)]
    base = content_pair_id(GOOD_PAIR)
    assert ids == [base, content_pair_id(other), f"{base}~2", "mine"]
    path.write_text("".join(json.dumps(p) + "\n" for p in (explicit, other, GOOD_PAIR)))
    assert [p["pair_id"] for p in load_pairings(path)] == ["mine", content_pair_id(other), base]
    assert base != content_pair_id(other)


def test_duplicate_explicit_pair_id_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    a = variant(lambda p: p.update(pair_id="x"))
    b = variant(lambda p: p.update(pair_id="x", dialogue_ids=[3, 4]))
    path.write_text(json.dumps(a) + "\n" + json.dumps(b) + "\n")
    with pytest.raises(InputError, match="duplicate pair_id 'x' \\(first on line 1\\)") as err:
        load_pairings(path)
    assert err.value.line == 2


def test_parlai_style_file_with_onboarding_first_loads(tmp_path: Path) -> None:
    onboard = variant(onboarding)
    onboard.pop("dialogue_ids")  # optional for onboarding pairs, as in ParlAI's onboarding.json
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps(onboard) + "\n" + json.dumps(GOOD_PAIR) + "\n")
    pairs = load_pairings(path)
    summary = summarize_pairings(pairs)
    assert summary == {"pairs": 2, "onboarding": 1, "per_model_pair": {("modela", "modelb"): 1}}


def test_bundled_onboarding_is_good_vs_i_dont_know() -> None:
    pairs = load_onboarding()
    assert len(pairs) >= 4
    sides = set()
    for pair in pairs:
        answer = pair["correct_answer"]
        sides.add(pair["speakers_to_eval"].index(answer))
        for speaker, dialogue in zip(pair["speakers_to_eval"], pair["dialogue_dicts"]):
            texts = {t["text"] for t in dialogue["dialogue"] if t["id"] == speaker}
            assert (texts == {"I don't know."}) == (speaker != answer)
    assert sides == {0, 1}  # the right answer is not always on the same side of the file
    assert DEFAULT_ONBOARDING_PATH.is_file()


def test_onboarding_loader_accepts_parlai_json_and_rejects_normal_pairs(tmp_path: Path) -> None:
    parlai = tmp_path / "onboarding.json"
    parlai.write_text(json.dumps(variant(onboarding), indent=4))
    [pair] = load_onboarding(parlai)
    assert pair["correct_answer"] == "modela" and pair["pair_id"]
    mixed = tmp_path / "onboarding.jsonl"
    mixed.write_text(json.dumps(variant(onboarding)) + "\n" + json.dumps(GOOD_PAIR) + "\n")
    with pytest.raises(InputError, match="not an onboarding pair") as err:
        load_onboarding(mixed)
    assert err.value.line == 2
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "is_onboarding": true,\n  oops\n}')
    with pytest.raises(InputError, match="invalid JSON") as err:
        load_onboarding(broken)
    assert err.value.line == 3


# --- questions ------------------------------------------------------------------------------------

PARLAI_WORDING = {  # issue 3, copied from ParlAI's ACUTE_EVAL_TYPES / paper
    "engaging": ("Who would you prefer to talk to for a long conversation?", "I would prefer to talk to <Speaker 1>", "I would prefer to talk to <Speaker 2>"),
    "human": ("Which speaker sounds more human?", "<Speaker 1> sounds more human", "<Speaker 2> sounds more human"),
    "interesting": ("If you had to say one of these speakers is interesting and one is boring, who would you say is more interesting?",
                    "<Speaker 1> is more interesting", "<Speaker 2> is more interesting"),
    "knowledgeable": ("If you had to say that one speaker is more knowledgeable and one is more ignorant, who is more knowledgeable?",
                      "<Speaker 1> is more knowledgeable", "<Speaker 2> is more knowledgeable"),
}


@pytest.mark.parametrize("name", list(PARLAI_WORDING))
def test_presets_use_parlai_wording(name: str) -> None:
    question = resolve_question(name.upper())
    assert (question.text, question.s1_choice, question.s2_choice) == PARLAI_WORDING[name]
    assert question.name == name


def test_presets_are_exactly_the_four() -> None:
    assert set(PRESETS) == set(PARLAI_WORDING)


def test_custom_question_and_errors() -> None:
    q = resolve_question(text="Who is more polite? ", choice="<Speaker 1> is more polite", name="polite")
    assert (q.name, q.text, q.choice(2)) == ("polite", "Who is more polite?", "<Speaker 2> is more polite")
    with pytest.raises(InputError, match="unknown question preset 'fun'.*engaging, human, interesting, knowledgeable"):
        resolve_question("fun")
    with pytest.raises(InputError, match="placeholder <Speaker 1>"):
        resolve_question(text="Who?", choice="the first one")
    with pytest.raises(InputError, match="needs its text"):
        resolve_question(choice="<Speaker 1> wins")
    with pytest.raises(ValueError):
        q.choice(3)

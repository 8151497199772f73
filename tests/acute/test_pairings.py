"""Building ACUTE pairings: coverage, counts, determinism, context, the evaluated speaker, reuse."""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from humaneval.acute.bundled_data import EXAMPLE_CONVERSATIONS, EXAMPLE_PAIRINGS_PATH
from humaneval.acute.pairings import ModelLogs, build_pairings, pick_least_used, write_pairings
from humaneval.acute.pairings_validation import load_pairings, validate_pair
from humaneval.conversations import Conversation, Metadata, write_conversations
from humaneval.input_errors import InputError



def human_bot_logs(path: Path, model: str, n: int, *, bot_id: str | None = None, human_id: str = "human",
                   bot_first: bool = False, metadata: Metadata | None = None) -> Path:
    """n human–bot chats; texts say who spoke and in which conversation, so tests can check the mapping."""
    bot_id = bot_id or f"{model}_speaker"
    convs = []
    for i in range(n):
        pairs = []
        for k in range(3):
            human = {"id": human_id, "text": f"HUMAN {model} c{i} t{k}"}
            bot = {"id": bot_id, "text": f"BOT {model} c{i} t{k}", "beam_texts": [["x", -1.0]]}
            pairs.append((bot, human) if bot_first else (human, bot))
        convs.append(Conversation.from_pairs(pairs, context=[f"your persona: {model} persona {i}."]))
    write_conversations(path, convs, metadata=metadata)
    return path


def self_chat_logs(path: Path, model: str, n: int, ids: tuple[str, str] = ("Gen_1", "Gen_2")) -> Path:
    convs = []
    for i in range(n):
        pairs = [({"id": ids[0], "text": f"OPENER {model} c{i} t{k}"}, {"id": ids[1], "text": f"REPLIER {model} c{i} t{k}"})
                 for k in range(3)]
        convs.append(Conversation.from_pairs(pairs, context=[f"your persona: A{i}.", f"your persona: B{i}."]))
    write_conversations(path, convs, metadata=Metadata.new(self_chat=True, speakers=list(ids)))
    return path


def four_models(tmp_path: Path, n: int = 10) -> list[ModelLogs]:
    meta = lambda m: Metadata.new(speakers=["human", f"{m}_speaker"])  # noqa: E731
    return [ModelLogs(m, human_bot_logs(tmp_path / f"{m}.jsonl", m, n, metadata=meta(m))) for m in ("m1", "m2", "m3", "m4")]


def evaluated_texts(dialogue: dict, model: str) -> list[str]:
    return [t["text"] for t in dialogue["dialogue"] if t["id"] == model]


def test_every_model_pair_gets_exactly_n_pairs(tmp_path: Path) -> None:
    pairs, report = build_pairings(four_models(tmp_path), pairs_per_model_pair=6, seed=1)
    counts = Counter(tuple(p["speakers_to_eval"]) for p in pairs)
    assert counts == {pair: 6 for pair in itertools.combinations(["m1", "m2", "m3", "m4"], 2)}
    assert report.per_model_pair == dict(counts)
    assert len({p["pair_id"] for p in pairs}) == len(pairs) == 36
    for line, pair in enumerate(pairs, 1):
        validate_pair(pair, line=line)


def test_same_seed_same_file_other_seed_other_file(tmp_path: Path) -> None:
    logs = four_models(tmp_path)
    out = {}
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        pairs, _ = build_pairings(logs, pairs_per_model_pair=5, seed=seed)
        write_pairings(tmp_path / f"{name}.jsonl", pairs)
        out[name] = (tmp_path / f"{name}.jsonl").read_bytes()
    assert out["a"] == out["b"]
    assert out["a"] != out["c"]


def test_evaluated_speaker_context_and_ids_match_the_source_conversation(tmp_path: Path) -> None:
    logs = four_models(tmp_path)
    pairs, _ = build_pairings(logs, pairs_per_model_pair=4, seed=3)
    seen_ids: dict[int, str] = {}
    for pair in pairs:
        assert pair["is_onboarding"] is False
        for model, dialogue, dialogue_id in zip(pair["speakers_to_eval"], pair["dialogue_dicts"], pair["dialogue_ids"]):
            index = int(dialogue["id"].split(":")[1])
            assert dialogue["source"] == {"line": index + 1, "speaker": f"{model}_speaker"}
            assert evaluated_texts(dialogue, model) == [f"BOT {model} c{index} t{k}" for k in range(3)]
            assert [t["id"] for t in dialogue["dialogue"]] == ["human", model] * 3
            assert dialogue["speakers"] == [model, "human"]
            assert dialogue["context"] == [{"id": "context", "text": f"your persona: {model} persona {index}."}]
            assert seen_ids.setdefault(dialogue_id, dialogue["id"]) == dialogue["id"]  # one id, one conversation


def test_no_reuse_within_a_matchup_when_avoidable_and_balanced_use(tmp_path: Path) -> None:
    pairs, report = build_pairings(four_models(tmp_path, n=10), pairs_per_model_pair=10, seed=5)
    by_matchup: dict[tuple, list] = {}
    for pair in pairs:
        by_matchup.setdefault(tuple(pair["speakers_to_eval"]), []).append(pair["dialogue_ids"])
    for ids in by_matchup.values():
        assert len({a for a, _ in ids}) == 10 and len({b for _, b in ids}) == 10
    assert set(report.reused_within_matchup.values()) == {0}
    uses = Counter(i for p in pairs for i in p["dialogue_ids"])
    assert set(uses.values()) == {3}  # 3 matchups per model, 10 of 10 conversations each time


def test_too_few_conversations_are_reused_evenly(tmp_path: Path) -> None:
    logs = [ModelLogs("a", human_bot_logs(tmp_path / "a.jsonl", "a", 3, bot_id="a")),
            ModelLogs("b", human_bot_logs(tmp_path / "b.jsonl", "b", 20, bot_id="b"))]
    pairs, report = build_pairings(logs, pairs_per_model_pair=8, seed=0)
    uses_a = Counter(p["dialogue_ids"][0] for p in pairs)
    assert sorted(uses_a.values()) == [2, 3, 3]
    assert len({p["dialogue_ids"][1] for p in pairs}) == 8
    assert report.reused_within_matchup == {("a", "b"): 5}


def test_self_chat_evaluates_the_opening_side_and_keeps_both_personas(tmp_path: Path) -> None:
    logs = [ModelLogs("x", self_chat_logs(tmp_path / "x.jsonl", "x", 4)),
            ModelLogs("y", self_chat_logs(tmp_path / "y.jsonl", "y", 4, ids=("Same", "Same")))]
    pairs, report = build_pairings(logs, pairs_per_model_pair=4, seed=2)
    assert report.speakers["x"].position == 0 and report.speakers["y"].position == 0
    for pair in pairs:
        for model, dialogue in zip(pair["speakers_to_eval"], pair["dialogue_dicts"]):
            index = int(dialogue["id"].split(":")[1])
            assert evaluated_texts(dialogue, model) == [f"OPENER {model} c{index} t{k}" for k in range(3)]
            assert [c["text"] for c in dialogue["context"]] == [f"your persona: A{index}.", f"your persona: B{index}."]
            other = {t["id"] for t in dialogue["dialogue"]} - {model}
            assert other == ({"Gen_2"} if model == "x" else {"Same"})


def test_explicit_speaker_or_position_overrides_the_rule(tmp_path: Path) -> None:
    x = self_chat_logs(tmp_path / "x.jsonl", "x", 2)
    y = human_bot_logs(tmp_path / "y.jsonl", "y", 2, bot_first=True)
    pairs, report = build_pairings(
        [ModelLogs("x", x, speaker="Gen_2"), ModelLogs("y", y, speaker_position=0)], pairs_per_model_pair=2
    )
    assert report.speakers["x"].speaker == "Gen_2" and report.speakers["y"].position == 0
    for pair in pairs:
        x_dialogue, y_dialogue = pair["dialogue_dicts"]
        assert all(t.startswith("REPLIER") for t in evaluated_texts(x_dialogue, "x"))
        assert all(t.startswith("BOT") for t in evaluated_texts(y_dialogue, "y"))


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        # the model's name is a speaker id (and wins over metadata order)
        (lambda p: human_bot_logs(p, "m", 2, bot_id="m", bot_first=True, metadata=Metadata.new(speakers=["m", "human"])), ("m", None)),
        # metadata lists [teacher, model]
        (lambda p: human_bot_logs(p, "m", 2, bot_id="Transformer", human_id="bst", metadata=Metadata.new(speakers=["bst", "Transformer"])), ("Transformer", None)),
        # no metadata, every pair [human, bot]: second act
        (lambda p: human_bot_logs(p, "m", 2, bot_id="Transformer", human_id="bst"), (None, 1)),
    ],
)
def test_inference_rules(tmp_path: Path, make, expected) -> None:
    logs = [ModelLogs("m", make(tmp_path / "m.jsonl")), ModelLogs("other", human_bot_logs(tmp_path / "o.jsonl", "other", 2, bot_id="other"))]
    pairs, report = build_pairings(logs, pairs_per_model_pair=2)
    choice = report.speakers["m"]
    assert (choice.speaker, choice.position) == expected
    for pair in pairs:
        assert all(t.startswith("BOT") for t in evaluated_texts(pair["dialogue_dicts"][0], "m"))


def test_unanswered_last_act_keeps_the_second_act_rule(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    write_conversations(path, [Conversation.from_pairs([({"id": "h", "text": "1"}, {"id": "bot", "text": "BOT 2"}), ({"id": "h", "text": "3"},)]),
                               Conversation.from_pairs([({"id": "h2", "text": "4"}, {"id": "bot", "text": "BOT 5"})])])
    logs = [ModelLogs("m", path), ModelLogs("n", human_bot_logs(tmp_path / "n.jsonl", "n", 2, bot_id="n"))]
    pairs, report = build_pairings(logs, pairs_per_model_pair=2)
    assert (report.speakers["m"].speaker, report.speakers["m"].position) == (None, 1)
    assert sorted(t for p in pairs for t in evaluated_texts(p["dialogue_dicts"][0], "m")) == ["BOT 2", "BOT 5"]


def test_ambiguous_speaker_asks_for_an_option(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    write_conversations(path, [Conversation.from_pairs([({"id": "a", "text": "1"},), ({"id": "b", "text": "2"}, {"id": "a", "text": "3"})])])
    logs = [ModelLogs("m", path), ModelLogs("n", human_bot_logs(tmp_path / "n.jsonl", "n", 1, bot_id="n"))]
    with pytest.raises(InputError, match="--speaker m=ID") as err:
        build_pairings(logs, pairs_per_model_pair=1)
    assert err.value.path == str(path)


def test_absent_explicit_speaker_names_the_line(tmp_path: Path) -> None:
    path = human_bot_logs(tmp_path / "a.jsonl", "a", 3, bot_id="a")
    with path.open("a") as handle:  # a 4th conversation where the bot never speaks
        handle.write(json.dumps({"dialog": [[{"id": "human", "text": "anyone?"}]]}) + "\n")
    logs = [ModelLogs("a", path, speaker="a"), ModelLogs("b", human_bot_logs(tmp_path / "b.jsonl", "b", 3, bot_id="b"))]
    with pytest.raises(InputError, match="has no turn") as err:
        build_pairings(logs, pairs_per_model_pair=1)
    assert (err.value.path, err.value.line) == (str(path), 4)


def test_partner_named_like_a_model_is_renamed(tmp_path: Path) -> None:
    a = human_bot_logs(tmp_path / "a.jsonl", "a", 2, bot_id="bot", human_id="b", metadata=Metadata.new(speakers=["b", "bot"]))
    b = human_bot_logs(tmp_path / "b.jsonl", "b", 2, bot_id="b")
    pairs, _ = build_pairings([ModelLogs("a", a), ModelLogs("b", b)], pairs_per_model_pair=2)
    for pair in pairs:
        a_dialogue = pair["dialogue_dicts"][0]
        assert a_dialogue["speakers"] == ["a", "other_speaker"]
        assert {t["id"] for t in a_dialogue["dialogue"]} == {"a", "other_speaker"}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model_pairs": [("m1", "m1")]}, "identical models"),
        ({"model_pairs": [("m1", "zz")]}, "'zz'"),
        ({"pairs_per_model_pair": 0}, "at least 1"),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        build_pairings(four_models(tmp_path, n=2), **kwargs)


def test_model_pairs_restricts_the_matchups(tmp_path: Path) -> None:
    pairs, _ = build_pairings(four_models(tmp_path, n=3), pairs_per_model_pair=2, model_pairs=[("m2", "m1"), ("m3", "m4")])
    assert Counter(tuple(p["speakers_to_eval"]) for p in pairs) == {("m1", "m2"): 2, ("m3", "m4"): 2}


def test_bundled_example_pairings_are_what_the_tool_builds(tmp_path: Path) -> None:
    logs = [ModelLogs(model, path) for model, path in EXAMPLE_CONVERSATIONS.items()]
    pairs, _ = build_pairings(logs, pairs_per_model_pair=8, seed=42)
    write_pairings(tmp_path / "p.jsonl", pairs)
    assert (tmp_path / "p.jsonl").read_bytes() == EXAMPLE_PAIRINGS_PATH.read_bytes()
    assert all(d["context"] for p in load_pairings(EXAMPLE_PAIRINGS_PATH) for d in p["dialogue_dicts"])


@given(st.lists(st.integers(1, 7), min_size=1, max_size=8), st.integers(1, 20), st.integers(0, 2**32))
def test_pick_least_used_repeats_only_when_forced(counts_seed: list[int], n: int, seed: int) -> None:
    import random

    size = len(counts_seed)
    use = [0] * size
    rng = random.Random(seed)
    picks = pick_least_used(use, n, rng)
    assert len(picks) == n
    assert max(Counter(picks).values()) == math.ceil(n / size)
    assert max(use) - min(use) <= 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=4), n=st.integers(1, 8), seed=st.integers(0, 1000))
def test_any_build_covers_every_pair_and_validates(tmp_path: Path, sizes: list[int], n: int, seed: int) -> None:
    models = [f"model{i}" for i in range(len(sizes))]
    logs = [ModelLogs(m, human_bot_logs(tmp_path / f"{m}.jsonl", m, k, bot_id=m)) for m, k in zip(models, sizes)]
    pairs, _ = build_pairings(logs, pairs_per_model_pair=n, seed=seed)
    assert Counter(tuple(p["speakers_to_eval"]) for p in pairs) == {pair: n for pair in itertools.combinations(models, 2)}
    size_of = dict(zip(models, sizes))
    for (a, b), group in itertools.groupby(sorted(pairs, key=lambda p: p["speakers_to_eval"]), key=lambda p: tuple(p["speakers_to_eval"])):
        group = list(group)
        for side, model in enumerate((a, b)):
            uses = Counter(p["dialogue_ids"][side] for p in group)
            assert max(uses.values()) == math.ceil(n / size_of[model])
    write_pairings(tmp_path / "out.jsonl", pairs)
    assert [p["pair_id"] for p in load_pairings(tmp_path / "out.jsonl")] == [p["pair_id"] for p in pairs]

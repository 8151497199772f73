"""The ACUTE work queue without Mephisto: distinct workers per pair, nothing seen twice, balanced
left/right, released work served to others, and a rebuilt queue that continues where it stopped.

`study_pairings` is also used by the blueprint, integration, browser and crash tests."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from humaneval.acute.pairings import ModelLogs, build_pairings
from humaneval.crowd.work_queue import QueueItem, WorkQueue
from humaneval.conversations import Conversation, write_conversations

MODELS = ("m1", "m2", "m3", "m4")


def study_pairings(
    tmp_path: Path, *, pairs_per_model_pair: int = 6, conversations_per_model: int = 12, seed: int = 3
) -> list[dict[str, Any]]:
    """Pairings of 4 models built with the real pairings builder from small synthetic chats (each
    conversation is used in ~1.5 pairs, so the "never the same conversation twice" rule binds)."""
    logs = []
    for model in MODELS:
        convs = []
        for i in range(conversations_per_model):
            pairs = [({"id": "human", "text": f"hello {model} {i} {k}"}, {"id": model, "text": f"{model} says {i}/{k}"})
                     for k in range(2)]
            convs.append(Conversation.from_pairs(pairs, context=[f"your persona: {model} number {i}."]))
        path = tmp_path / f"{model}.jsonl"
        write_conversations(path, convs)
        logs.append(ModelLogs(model, path))
    pairs, _ = build_pairings(logs, pairs_per_model_pair=pairs_per_model_pair, seed=seed)
    return pairs


def queued(pair: dict[str, Any]) -> QueueItem:
    return QueueItem(pair["pair_id"], (str(pair["dialogue_ids"][0]), str(pair["dialogue_ids"][1])))


def simulate(queue: WorkQueue, pairs: dict[str, dict[str, Any]], rng: random.Random, *, per_unit: int = 5,
             drop_rate: float = 0.2, max_workers: int = 500) -> list[tuple[str, str, int]]:
    """Workers arrive one at a time, take a unit, and submit it or walk away. Returns the judgements
    (worker, pair_id, left_index) that counted, checking the per-unit rules as it goes."""
    judgements: list[tuple[str, str, int]] = []
    seen: dict[str, set[str]] = {}
    for w in range(max_workers):
        if queue.is_done():
            break
        worker = f"w{w % 40}"  # workers come back for more units
        holder = f"agent{w}"
        items = queue.reserve(holder, worker, per_unit)
        if not items:
            assert queue.available_for(worker) == 0
            continue
        convs = [str(c) for r in items for c in pairs[r.item_id]["dialogue_ids"]]
        assert len(convs) == len(set(convs)), "a unit shows a conversation twice"
        for c in convs:
            assert c not in seen.setdefault(worker, set()), "a worker saw a conversation twice"
            seen[worker].add(c)
        if rng.random() < drop_rate:
            assert queue.release(holder) == len(items)
            continue
        judged = [r.item_id for r in items if rng.random() > 0.05]  # sometimes one is left out
        queue.complete(holder, judged)
        judgements += [(worker, r.item_id, r.left_index) for r in items if r.item_id in judged]
    return judgements


def test_every_pair_gets_its_judgements_from_different_workers(tmp_path: Path) -> None:
    pairs = {p["pair_id"]: p for p in study_pairings(tmp_path)}
    assert len(pairs) == 36
    queue = WorkQueue([queued(p) for p in pairs.values()], answers_per_item=2, seed=1)
    assert queue.units_needed(5) == 15  # ceil(36 * 2 / 5): annotations_per_pair counts
    judgements = simulate(queue, pairs, random.Random(0))
    assert queue.is_done() and queue.missing() == 0 and not queue.held()
    per_pair = Counter(pid for _, pid, _ in judgements)
    assert set(per_pair) == set(pairs) and set(per_pair.values()) == {2}
    for pid, workers in queue.answers_by_item().items():
        assert len(set(workers)) == 2, pid
    assert len({(w, pid) for w, pid, _ in judgements}) == len(judgements)


def test_each_model_is_shown_left_40_to_60_percent_over_200_annotations(tmp_path: Path) -> None:
    pairs = {p["pair_id"]: p for p in study_pairings(tmp_path, pairs_per_model_pair=12, conversations_per_model=30)}
    queue = WorkQueue([queued(p) for p in pairs.values()], answers_per_item=3, seed=7)
    judgements = simulate(queue, pairs, random.Random(1), max_workers=2000)
    assert len(judgements) == 72 * 3 >= 200
    shown, left = Counter(), Counter()
    for _, pid, left_index in judgements:
        models = pairs[pid]["speakers_to_eval"]
        shown.update(models)
        left[models[left_index]] += 1
    for model in MODELS:
        assert 0.4 <= left[model] / shown[model] <= 0.6, (model, left[model], shown[model])
    # Per annotation, not per pair: pairs are shown both ways round.
    sides = {}
    for _, pid, left_index in judgements:
        sides.setdefault(pid, set()).add(left_index)
    assert all(s == {0, 1} for s in sides.values())


def test_left_side_is_seeded() -> None:
    def lefts(seed: int) -> list[int]:
        queue = WorkQueue([QueueItem(f"p{i}", (f"a{i}", f"b{i}")) for i in range(30)], answers_per_item=1, seed=seed)
        return [r.left_index for r in sorted(queue.reserve("h", "w", 30), key=lambda r: r.item_id)]

    assert lefts(5) == lefts(5)
    assert lefts(5) != lefts(6)


def test_released_work_goes_to_others_but_not_back_to_the_same_worker() -> None:
    queue = WorkQueue([QueueItem("p1", ("a", "b")), QueueItem("p2", ("c", "d"))], answers_per_item=1)
    taken = queue.reserve("agent1", "alice", 5)
    assert {r.item_id for r in taken} == {"p1", "p2"} and queue.unreserved() == 0
    assert queue.reserve("agent2", "bob", 5) == []  # all held
    assert queue.release("agent1") == 2 and queue.unreserved() == 2
    assert queue.available_for("alice", 5) == 0  # she has seen them
    assert {r.item_id for r in queue.reserve("agent3", "bob", 5)} == {"p1", "p2"}
    assert queue.complete("agent3", ["p1"]) == 1  # p2 was left out: back to the queue
    assert queue.missing() == 1 and queue.unreserved() == 1


def test_a_worker_never_gets_a_conversation_twice_even_across_pairs() -> None:
    queue = WorkQueue([QueueItem("p1", ("a", "b")), QueueItem("p2", ("a", "c")), QueueItem("p3", ("d", "e"))],
                      answers_per_item=1)
    first = queue.reserve("h1", "w", 5)
    assert len(first) == 2 and {"p1", "p2"} - {r.item_id for r in first}  # p1 and p2 share conversation a
    queue.complete("h1", [r.item_id for r in first])
    assert queue.reserve("h2", "w", 5) == []
    assert len(queue.reserve("h3", "other", 5)) == 1


def test_restored_queue_continues_without_duplicates() -> None:
    pairs = [QueueItem(f"p{i}", (f"a{i}", f"b{i}")) for i in range(4)]
    queue = WorkQueue(pairs, answers_per_item=2)
    assert queue.restore_completed("w1", "p0", 0)
    assert not queue.restore_completed("w1", "p0", 1)  # same worker twice never counts
    assert queue.restore_completed("w2", "p0", 1)
    assert not queue.restore_completed("w3", "p0", 0)  # one too many
    assert not queue.restore_completed("w3", "unknown", 0)
    queue.restore_seen("w4", "p1")
    assert queue.missing() == 6
    assert "p1" not in {r.item_id for r in queue.reserve("h", "w4", 10)}
    assert "p0" not in {r.item_id for r in queue.reserve("h2", "w5", 10)}


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        WorkQueue([], answers_per_item=0)
    with pytest.raises(ValueError):
        WorkQueue([QueueItem("p", ("a", "b"))] * 2, answers_per_item=1)

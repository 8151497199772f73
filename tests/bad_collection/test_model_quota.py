"""Model targets: assignment by what remains, fresh models first, caps, slots given back, restore."""

from __future__ import annotations

from collections import Counter

from humaneval.bad_collection.model_quota import ModelQuota


def test_models_are_assigned_by_what_remains_until_every_target_is_met() -> None:
    quota = ModelQuota({"a": 2, "b": 1})
    taken = [quota.take(f"h{i}", f"w{i}") for i in range(3)]
    assert Counter(taken) == {"a": 2, "b": 1}
    assert quota.take("h9", "w9") is None and not quota.available_for("w9")
    assert quota.unreserved() == 0 and not quota.is_done()
    for i in range(3):
        quota.complete(f"h{i}")
    assert quota.is_done() and quota.completed() == {"a": 2, "b": 1}


def test_returned_units_give_their_slot_back() -> None:
    quota = ModelQuota({"a": 1, "b": 1})
    assert quota.take("h1", "w1") == "a"
    assert quota.release("h1") == "a"
    assert quota.unreserved("a") == 1
    assert quota.take("h2", "w2") == "a"


def test_a_worker_gets_a_model_twice_only_when_nothing_else_is_left() -> None:
    quota = ModelQuota({"a": 3, "b": 1})
    assert quota.take("h1", "w1") == "a"
    quota.complete("h1")
    assert quota.take("h2", "w1") == "b"  # a misses more, but w1 has not met b
    quota.complete("h2")
    assert quota.take("h3", "w1") == "a"  # only a is left: needed, so allowed


def test_cap_per_worker_counts_completed_and_in_progress() -> None:
    quota = ModelQuota({"a": 5, "b": 5}, max_per_worker=2)
    quota.take("h1", "w1")
    quota.take("h2", "w1")
    assert not quota.available_for("w1") and quota.take("h3", "w1") is None
    quota.release("h2")
    assert quota.available_for("w1")


def test_restore_counts_earlier_runs_and_force_goes_past_targets() -> None:
    quota = ModelQuota({"a": 1, "b": 1})
    quota.restore_completed("w1", "a")
    quota.restore_completed("w1", "gone")  # a model no longer in the study
    assert quota.completed() == {"a": 1, "b": 0} and quota.unreserved() == 1
    assert quota.take("h1", "w2") == "b"
    assert quota.take("h2", "w3") is None
    assert quota.take("h2", "w3", force=True) in ("a", "b")  # the unit was already given: pick the least over

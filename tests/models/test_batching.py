"""Dynamic batching: concurrent requests are generated together (and give the same replies as alone), the
batch size is capped, the queue is bounded, timeouts drop queued work, model failures reach the caller."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from test_server_support import GatedModel, ScriptedModel, TinyBlender

from humaneval.models.batching import (
    BatcherStopped,
    BatchingOptions,
    DynamicBatcher,
    QueueFull,
    RequestTimedOut,
)
from humaneval.models.reply_model import DialogueContext


def ctx(text: str) -> DialogueContext:
    return DialogueContext(turns=(text,))


@pytest.fixture(scope="module")
def tiny() -> TinyBlender:
    return TinyBlender("tiny")


def test_concurrent_requests_share_batches_and_match_unbatched_replies(tiny: TinyBlender) -> None:
    texts = [f"hello how are you {i} " * (i + 1) for i in range(6)]
    gated = GatedModel(tiny)
    # A long window and a batch limit of exactly 6: the worker starts as soon as all six have arrived.
    with DynamicBatcher(gated, BatchingOptions(max_batch_size=6, batch_window_s=30)) as batcher:
        futures = [batcher.submit(ctx(t)) for t in texts]
        gated.gate.set()
        batched = [f.result(60) for f in futures]
    assert [o.batch_size for o in batched] == [6] * 6
    tiny.calls.clear()
    alone = [tiny.generate_batch([ctx(t)])[0] for t in texts]
    assert [o.text for o in batched] == alone  # padding and batching do not change a reply
    assert len(set(alone)) > 1  # the replies depend on the input, so the comparison means something


def test_batches_are_capped_and_later_requests_form_the_next_batch() -> None:
    model = ScriptedModel(max_batch_size=8)
    gated = GatedModel(model)
    with DynamicBatcher(gated, BatchingOptions(max_batch_size=3, batch_window_s=0.0)) as batcher:
        first = batcher.submit(ctx("first"))
        assert gated.entered.wait(10)  # the worker holds a batch of one at the gate
        rest = [batcher.submit(ctx(f"m{i}")) for i in range(7)]
        gated.gate.set()
        results = [f.result(10) for f in [first, *rest]]
    assert [len(b) for b in model.batches] == [1, 3, 3, 1]
    assert [r.text for r in results] == ["you said: first", *[f"you said: m{i}" for i in range(7)]]


def test_the_model_limit_caps_the_batch_too() -> None:
    batcher = DynamicBatcher(ScriptedModel(max_batch_size=2), BatchingOptions(max_batch_size=16))
    assert batcher.max_batch_size == 2


def test_one_at_a_time_when_batching_is_off() -> None:
    model = ScriptedModel()
    with DynamicBatcher(model, BatchingOptions(max_batch_size=1)) as batcher, ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda i: batcher.generate(ctx(str(i)), timeout_s=10), range(8)))
    assert all(size == 1 for _, size in replies)
    assert [len(b) for b in model.batches] == [1] * 8


def test_full_queue_refuses_with_a_retry_estimate() -> None:
    gated = GatedModel(ScriptedModel())
    with DynamicBatcher(gated, BatchingOptions(max_batch_size=1, max_queue=2, batch_window_s=0.0)) as batcher:
        running = batcher.submit(ctx("a"))
        assert gated.entered.wait(10)
        queued = [batcher.submit(ctx("b")), batcher.submit(ctx("c"))]
        with pytest.raises(QueueFull) as err:
            batcher.submit(ctx("d"))
        assert err.value.retry_after_s >= 1 and "busy" in str(err.value)
        gated.gate.set()
        assert [f.result(10).text for f in [running, *queued]] == ["you said: a", "you said: b", "you said: c"]


def test_timed_out_request_is_dropped_before_generation() -> None:
    model = ScriptedModel()
    gated = GatedModel(model)
    with DynamicBatcher(gated, BatchingOptions(max_batch_size=1, batch_window_s=0.0)) as batcher:
        running = batcher.submit(ctx("slow"))
        assert gated.entered.wait(10)
        with pytest.raises(RequestTimedOut):
            batcher.generate(ctx("impatient"), timeout_s=0.05)
        gated.gate.set()
        running.result(10)
        assert batcher.generate(ctx("next"), timeout_s=10) == ("you said: next", 1)
    generated = [c.turns[0] for batch in model.batches for c in batch]
    assert generated == ["slow", "next"]


def test_model_failure_reaches_every_caller_and_the_worker_survives() -> None:
    def reply_for(context: DialogueContext) -> str:
        if context.turns[-1] == "boom":
            raise ValueError("model exploded")
        return "ok"

    with DynamicBatcher(ScriptedModel(reply_for=reply_for), BatchingOptions(max_batch_size=1)) as batcher:
        with pytest.raises(ValueError, match="exploded"):
            batcher.generate(ctx("boom"), timeout_s=10)
        assert batcher.generate(ctx("fine"), timeout_s=10) == ("ok", 1)


def test_stop_fails_queued_requests_and_refuses_new_ones() -> None:
    gated = GatedModel(ScriptedModel())
    batcher = DynamicBatcher(gated, BatchingOptions(max_batch_size=1, batch_window_s=0.0)).start()
    running = batcher.submit(ctx("a"))
    assert gated.entered.wait(10)
    queued = batcher.submit(ctx("b"))
    stopper = threading.Thread(target=batcher.stop)
    stopper.start()
    with pytest.raises(BatcherStopped):
        queued.result(10)
    gated.gate.set()
    stopper.join(10)
    assert running.result(10).text == "you said: a"  # the running batch finishes
    with pytest.raises(BatcherStopped):
        batcher.submit(ctx("c"))


# -- batch forming under closed-loop load: the requests a batch released come back as one batch ------------
def texts_of(batch: list[DialogueContext]) -> list[str]:
    return [c.turns[0] for c in batch]


def test_requests_queued_during_a_batch_wait_for_the_ones_it_released() -> None:
    """Chats are closed loops: 4 answered + 4 queued means 8 next time, not the 4 queued (which split 8
    chats into two alternating batches of 4 for good)."""
    model = ScriptedModel(max_batch_size=8)
    gated = GatedModel(model)
    with DynamicBatcher(gated, BatchingOptions(max_batch_size=8, batch_window_s=0.5)) as batcher:
        first = [batcher.submit(ctx(f"a{i}")) for i in range(4)]
        assert gated.entered.wait(10)  # the window ran out with 4: they run, held at the gate
        queued = [batcher.submit(ctx(f"b{i}")) for i in range(4)]
        time.sleep(0.6)  # the queued requests' own window is over by the time the model is free
        gated.gate.set()
        for future in first:
            future.result(10)
        returned = [batcher.submit(ctx(f"a{i}'")) for i in range(4)]  # the answered chats' next turns
        merged = [f.result(10) for f in [*queued, *returned]]
    assert [texts_of(b) for b in model.batches] == [
        ["a0", "a1", "a2", "a3"], ["b0", "b1", "b2", "b3", "a0'", "a1'", "a2'", "a3'"]]  # oldest first
    assert {r.batch_size for r in merged} == {8}


def test_requests_that_keep_arriving_keep_the_batch_open() -> None:
    """Chats starting together arrive spread out: each arrival within the window of the previous one joins,
    although the last comes more than a window after the first."""
    model = ScriptedModel(max_batch_size=8)
    with DynamicBatcher(model, BatchingOptions(max_batch_size=8, batch_window_s=1.0)) as batcher:
        futures = []
        for i in range(5):
            futures.append(batcher.submit(ctx(f"a{i}")))
            time.sleep(0.3)
        assert {f.result(10).batch_size for f in futures} == {5}


def test_a_batch_starts_once_the_requests_it_expects_are_in() -> None:
    """Three chats answered, three back: the batch starts then, instead of waiting out the window for
    a full batch, so a request arriving soon after goes in the next batch."""
    model = ScriptedModel(max_batch_size=8)
    with DynamicBatcher(model, BatchingOptions(max_batch_size=8, batch_window_s=1.0)) as batcher:
        for future in [batcher.submit(ctx(f"a{i}")) for i in range(3)]:
            future.result(10)  # the first batch waited out the window: nothing was expected yet
        returned = [batcher.submit(ctx(f"a{i}'")) for i in range(3)]
        time.sleep(0.2)
        late = batcher.submit(ctx("late"))
        for future in [*returned, late]:
            future.result(10)
    assert [texts_of(b) for b in model.batches] == [["a0", "a1", "a2"], ["a0'", "a1'", "a2'"], ["late"]]


def test_a_lone_request_to_an_idle_model_waits_only_the_window() -> None:
    """Eight chats were answered but only one comes back, long after: it is a new arrival at an idle
    model, so it waits the window (not for the seven), and a request a while later is a batch of its own."""
    model = ScriptedModel(max_batch_size=8)
    with DynamicBatcher(model, BatchingOptions(max_batch_size=8, batch_window_s=0.05)) as batcher:
        for future in [batcher.submit(ctx(f"a{i}")) for i in range(8)]:
            future.result(10)  # a full batch starts at once
        time.sleep(0.5)  # the model has been idle for longer than it waits for returns
        lone = batcher.submit(ctx("lone"))
        time.sleep(2.0)  # 40 windows
        later = batcher.submit(ctx("later"))
        assert lone.result(10).batch_size == 1 and later.result(10).batch_size == 1
    assert [texts_of(b) for b in model.batches][1:] == [["lone"], ["later"]]

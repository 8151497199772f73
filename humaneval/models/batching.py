"""Dynamic batching: requests for one model that arrive close together are generated as one batch.

With the Blender recipe (beam 10) one batch of 8 replies costs ~3.6× a single reply on 2 CPU cores, so
answering concurrent chats together raises throughput and cuts tail latency — ParlAI served one request at
a time. Each model gets one worker thread that owns the model (no concurrent `generate` calls): it takes the
oldest waiting request, waits for more, and generates up to `max_batch_size` replies at once. The queue is
bounded, so an overloaded server says "busy, retry after N s" at once instead of letting latency grow
without limit, and each request has a timeout.

How long to wait is the point. Chats are closed loops: a batch's replies come back as that many new
requests a few tens of milliseconds later (HTTP, safety screening), spread out. Waiting only
`batch_window_s` from the oldest request's arrival split 8 chats into two batches of 4 that then
alternated for good — each half arrived while the other half ran, so the next batch started at once with
half the chats (2.04× batch-1 throughput instead of the 3.00× of one batch of 8). So the worker expects as
many requests as it just answered plus those still queued (`demand`) and starts as soon as that many are
in. Until then it waits while requests keep arriving (`batch_window_s` after the latest one) and, for the
requests the last batch released, for its patience after the model became free: twice the time that many
recently took to come back, at least the window, at most a quarter of a recent batch's time. A request
reaching a model idle for longer than the patience, with no other arrival, waits at most the window.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from humaneval.models.reply_model import DialogueContext, ReplyModel

logger = logging.getLogger(__name__)

# A free model waits for the requests it released RETURN_MARGIN times as long as that many recently took to
# come back, and at most PATIENCE_SHARE of a recent batch's time: at worst (the chats it expects have
# ended) it idles that long once, and merging two half batches saves far more (on 2 CPU cores two batches
# of 4 cost ~1.5x one batch of 8). Returns share the GIL and the cores, so their time grows with their
# number and with the machine's load (3 back in 70 ms, 8 in 160 ms, 16 in 330+ ms on 2 busy cores): it is
# learnt per returning request.
RETURN_MARGIN = 2.0
PATIENCE_SHARE = 0.25


class QueueFull(RuntimeError):
    """The model's queue is full; `retry_after_s` estimates when a slot frees up."""

    def __init__(self, model: str, depth: int, retry_after_s: int) -> None:
        super().__init__(f"model {model!r} is busy ({depth} requests waiting); retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s


class RequestTimedOut(TimeoutError):
    """The reply was not ready within the request's timeout (it is dropped if it had not started)."""


class BatcherStopped(RuntimeError):
    """The batcher was shut down before this request was generated."""


@dataclass(frozen=True)
class BatchingOptions:
    """Per-model batching settings (server config `models[].batching`)."""

    max_batch_size: int = 8
    batch_window_s: float = 0.01  # 0: never wait, a batch takes whatever is queued
    max_queue: int = 64

    def __post_init__(self) -> None:
        if self.max_batch_size < 1 or self.max_queue < 1 or self.batch_window_s < 0:
            raise ValueError(f"invalid batching options {self}")


@dataclass
class _Pending:
    context: DialogueContext
    future: "Future[BatchedReply]"
    arrived: float


@dataclass(frozen=True)
class BatchedReply:
    """A reply and the size of the batch it was generated in (reported to clients; useful when tuning)."""

    text: str
    batch_size: int


class DynamicBatcher:
    """Queue + worker thread around one `ReplyModel`. Use as a context manager or call start()/stop()."""

    def __init__(self, model: ReplyModel, options: BatchingOptions = BatchingOptions()) -> None:
        self.model = model
        self.max_batch_size = max(1, min(options.max_batch_size, int(model.max_batch_size)))
        self.batch_window_s = options.batch_window_s
        self.max_queue = options.max_queue
        self._queue: deque[_Pending] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._batch_seconds_ema: float | None = None
        self._demand = self.max_batch_size  # requests expected for the next batch (see the module's doc)
        self._free_since = 0.0  # when the last batch ended
        self._released = 0  # the last batch's size: the requests that may come back
        self._return_seconds_ema: float | None = None  # from a batch's end to a return, per returning request
        self.batches = 0
        self.replies = 0

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> "DynamicBatcher":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"batcher-{self.model.name}", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout_s: float = 30.0) -> None:
        """Finish the running batch, fail everything still queued with `BatcherStopped`."""
        with self._cond:
            self._stopping = True
            waiting = list(self._queue)
            self._queue.clear()
            self._cond.notify_all()
        for pending in waiting:
            if pending.future.set_running_or_notify_cancel():
                pending.future.set_exception(BatcherStopped(f"model {self.model.name!r} is shutting down"))
        if self._thread is not None:
            self._thread.join(timeout_s)

    def __enter__(self) -> "DynamicBatcher":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- requests ------------------------------------------------------------------------------------------
    @property
    def queue_depth(self) -> int:
        with self._cond:
            return len(self._queue)

    def submit(self, context: DialogueContext) -> "Future[BatchedReply]":
        """Queue one context; raises `QueueFull` (with a Retry-After estimate) when the queue is full."""
        future: Future[BatchedReply] = Future()
        with self._cond:
            if self._stopping:
                raise BatcherStopped(f"model {self.model.name!r} is shutting down")
            if len(self._queue) >= self.max_queue:
                raise QueueFull(self.model.name, len(self._queue), self._retry_after_locked())
            self._queue.append(_Pending(context, future, time.monotonic()))
            self._cond.notify_all()
        return future

    def generate(self, context: DialogueContext, timeout_s: float | None = None) -> tuple[str, int]:
        """Submit and wait: (reply, size of the batch it was generated in)."""
        future = self.submit(context)
        try:
            outcome = future.result(timeout=timeout_s)
        except FutureTimeout:
            future.cancel()  # only succeeds while still queued: the worker then skips it
            raise RequestTimedOut(f"no reply from {self.model.name!r} within {timeout_s:g} s") from None
        return outcome.text, outcome.batch_size

    def _retry_after_locked(self) -> int:
        per_batch = self._batch_seconds_ema if self._batch_seconds_ema is not None else 1.0
        batches_ahead = math.ceil(len(self._queue) / self.max_batch_size) + 1
        return max(1, math.ceil(per_batch * batches_ahead))

    # -- worker --------------------------------------------------------------------------------------------
    def _take_batch(self) -> list[_Pending] | None:
        """Block until a batch is ready (None when stopping): first request, then wait for the expected
        requests (`_fill_deadline_locked`), then drain."""
        with self._cond:
            while not self._queue and not self._stopping:
                self._cond.wait()
            if self._stopping:
                return None
            target = min(self.max_batch_size, self._demand)
            while len(self._queue) < target and not self._stopping:
                remaining = self._fill_deadline_locked() - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            self._note_returns_locked()
            batch: list[_Pending] = []
            while self._queue and len(batch) < self.max_batch_size:
                pending = self._queue.popleft()
                if pending.future.set_running_or_notify_cancel():  # False: timed out while queued
                    batch.append(pending)
            return batch

    def _fill_deadline_locked(self) -> float:
        """When to stop waiting for a fuller batch: the window after the latest arrival (requests still
        coming in keep the batch open, at most `max_batch_size` windows), or, for the requests the last batch
        released (closed-loop chats come back), the patience after the model became free — whichever is
        later."""
        window_end = self._queue[-1].arrived + self.batch_window_s
        patience = self._patience_locked()
        return window_end if patience is None else max(window_end, self._free_since + patience)

    def _patience_locked(self) -> float | None:
        """How long after the model became free to wait for the requests it released; None before any batch
        (nothing was released) and with a zero window (waiting is off)."""
        if self.batch_window_s == 0 or self._batch_seconds_ema is None:
            return None
        cap = PATIENCE_SHARE * self._batch_seconds_ema
        if self._return_seconds_ema is None:
            return max(self.batch_window_s, cap)
        expected = RETURN_MARGIN * self._return_seconds_ema * self._released
        return max(self.batch_window_s, min(cap, expected))

    def _note_returns_locked(self) -> None:
        """Learn how long released requests take to come back: the time from the model becoming free to the
        latest arrival this batch waited for, per request that arrived meanwhile. Arrivals later than the
        patience are new requests to an idle model, not returns; returns cut off by the patience still
        count, so a slower machine raises the patience batch by batch."""
        patience = self._patience_locked()
        returned = [p.arrived - self._free_since for p in self._queue if p.arrived >= self._free_since]
        if patience is None or not returned or max(returned) > patience:
            return
        per_return = max(returned) / len(returned)
        self._return_seconds_ema = per_return if self._return_seconds_ema is None else (
            0.7 * self._return_seconds_ema + 0.3 * per_return)

    def _finish_locked(self, batch_size: int) -> None:
        """The model is free: expect the batch's requests back, plus those that queued while it ran."""
        self._demand = batch_size + len(self._queue)
        self._released = batch_size
        self._free_since = time.monotonic()

    def _run(self) -> None:
        while True:
            batch = self._take_batch()
            if batch is None:
                return
            if not batch:
                continue
            started = time.monotonic()
            try:
                replies = self.model.generate_batch([p.context for p in batch])
                if len(replies) != len(batch):
                    raise RuntimeError(f"{self.model.name!r} returned {len(replies)} replies for {len(batch)} contexts")
            except BaseException as err:  # the worker must survive any model failure
                logger.exception("generation failed for a batch of %d on %r", len(batch), self.model.name)
                with self._cond:
                    self._finish_locked(len(batch))
                for pending in batch:
                    pending.future.set_exception(err)
                continue
            elapsed = time.monotonic() - started
            with self._cond:
                self._batch_seconds_ema = elapsed if self._batch_seconds_ema is None else (
                    0.7 * self._batch_seconds_ema + 0.3 * elapsed)
                self.batches += 1
                self.replies += len(batch)
                self._finish_locked(len(batch))
            logger.debug("%r: batch of %d in %.2f s", self.model.name, len(batch), elapsed)
            for pending, reply in zip(batch, replies):
                pending.future.set_result(BatchedReply(str(reply), len(batch)))

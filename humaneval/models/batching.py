"""Dynamic batching: requests for one model that arrive close together are generated as one batch.

With the Blender recipe (beam 10) one batch of 8 replies costs ~3.6× a single reply on 2 CPU cores, so
answering concurrent chats together raises throughput and cuts tail latency — ParlAI served one request at
a time. Each model gets one worker thread that owns the model (no concurrent `generate` calls): it takes the
oldest waiting request, waits at most `batch_window_s` (counted from that request's arrival) for more, and
generates up to `max_batch_size` replies at once. Requests that pile up while a batch runs form the next
batch without waiting. The queue is bounded, so an overloaded server says "busy, retry after N s" at once
instead of letting latency grow without limit, and each request has a timeout.
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
    batch_window_s: float = 0.01
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
        """Block until a batch is ready (None when stopping): first request, then the window, then drain."""
        with self._cond:
            while not self._queue and not self._stopping:
                self._cond.wait()
            if self._stopping:
                return None
            deadline = self._queue[0].arrived + self.batch_window_s
            while len(self._queue) < self.max_batch_size and not self._stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            batch: list[_Pending] = []
            while self._queue and len(batch) < self.max_batch_size:
                pending = self._queue.popleft()
                if pending.future.set_running_or_notify_cancel():  # False: timed out while queued
                    batch.append(pending)
            return batch

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
                for pending in batch:
                    pending.future.set_exception(err)
                continue
            elapsed = time.monotonic() - started
            with self._cond:
                self._batch_seconds_ema = elapsed if self._batch_seconds_ema is None else (
                    0.7 * self._batch_seconds_ema + 0.3 * elapsed)
                self.batches += 1
                self.replies += len(batch)
            logger.debug("%r: batch of %d in %.2f s", self.model.name, len(batch), elapsed)
            for pending, reply in zip(batch, replies):
                pending.future.set_result(BatchedReply(str(reply), len(batch)))

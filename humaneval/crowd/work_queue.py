"""Which items a worker gets next: the work queue of every queue-fed study, independent of Mephisto.

An item is whatever one answer is about: an ACUTE pair (two conversations, shown left and right) or
one utterance to label (one conversation, `QueueItem(item_id, (conversation_key,))`). ParlAI's ACUTE
blueprint fixes every unit's pairs when the run starts, ignores `annotations_per_pair` when counting
units, fixes left/right per pair, and loses the pairs of units that come back unfinished. Here a
unit's items are chosen only when a worker takes the unit, from what is still missing and what that
worker has not seen:

* every item gets `answers_per_item` answers, each from a different worker;
* a worker never sees the same item, nor the same conversation, twice (also not inside one unit);
* for two-sided items, which side is shown left is decided per answer, balanced within each item
  (the side shown left less often so far; ties broken by a RNG seeded with `seed` and the item), so
  every model is shown left about half the time whatever the pairing order;
* a reservation that comes back unfinished (returned, expired, disconnected) is released whole, and
  its items are served to other workers;
* a worker found unreliable after the fact (e.g. failing hidden gold items) can be revoked: every
  answer of theirs stops counting, and those items are collected again from other workers.

The queue is rebuilt from what Mephisto stored (`restore_completed`, `restore_seen`) every time a
run starts, so a relaunch after a crash continues where the last one stopped. All methods are
thread-safe: Mephisto calls them from its executor, unit and assignment-generator threads. It is one
`WorkPool` (`work_pool`), as BAD's model quota is.
"""

from __future__ import annotations

import logging
import math
import random
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueueItem:
    """What the queue needs to know about an item: its id and the conversations it shows (two for
    an ACUTE pair, one for an utterance to label)."""

    item_id: str
    conversation_keys: tuple[str, ...]


@dataclass(frozen=True)
class Reservation:
    """One item handed to one worker: the item, and which of its sides is shown left (always 0 for
    a one-conversation item)."""

    item_id: str
    left_index: int  # which of the item's sides is shown left (ACUTE: index into `speakers_to_eval`)


@dataclass
class _ItemState:
    item: QueueItem
    done_by: list[str] = field(default_factory=list)  # workers whose answer counted
    done_left: dict[str, int] = field(default_factory=dict)  # worker -> side shown left in that answer
    reserved_by: dict[str, str] = field(default_factory=dict)  # holder -> worker
    left_counts: list[int] = field(default_factory=list)  # done + reserved, per side

    def __post_init__(self) -> None:
        self.left_counts = [0] * len(self.item.conversation_keys)

    def count_done(self, worker: str, left_index: int) -> None:
        self.done_by.append(worker)
        self.done_left[worker] = left_index


class WorkQueue:
    """The answers still missing, who holds which, and who has seen what."""

    def __init__(self, items: Sequence[QueueItem], answers_per_item: int, seed: int = 0) -> None:
        if answers_per_item < 1:
            raise ValueError(f"answers_per_item must be at least 1, got {answers_per_item}")
        self.answers_per_item = answers_per_item
        self.seed = seed
        self._lock = threading.RLock()
        self._items: dict[str, _ItemState] = {}
        for item in items:
            if item.item_id in self._items:
                raise ValueError(f"item {item.item_id!r} is queued twice")
            if not item.conversation_keys:
                raise ValueError(f"item {item.item_id!r} shows no conversation")
            self._items[item.item_id] = _ItemState(item)
        self._order = list(self._items)
        random.Random(seed).shuffle(self._order)  # a fixed, seeded serving order
        self._holdings: dict[str, list[Reservation]] = {}  # holder (agent id) -> its reservations
        self._holder_worker: dict[str, str] = {}
        self._seen_items: dict[str, set[str]] = {}
        self._seen_conversations: dict[str, set[str]] = {}

    # --- rebuilding from stored work -------------------------------------------------------------

    def knows(self, item_id: str) -> bool:
        return item_id in self._items

    def restore_seen(self, worker: str, item_id: str) -> None:
        """The worker was shown this item in an earlier unit (finished or not)."""
        with self._lock:
            state = self._items.get(item_id)
            if state is None:
                return
            self._mark_seen(worker, state.item)

    def restore_completed(self, worker: str, item_id: str, left_index: int) -> bool:
        """An answer stored by an earlier unit. False (and ignored) if it would be one too many or
        the worker's second on this item: those never count."""
        with self._lock:
            state = self._items.get(item_id)
            if state is None:
                logger.warning("stored answer on item %s, which is not in the study's data: ignored", item_id)
                return False
            self._mark_seen(worker, state.item)
            if worker in state.done_by or len(state.done_by) >= self.answers_per_item:
                logger.warning("stored answer on item %s by %s is a duplicate or one too many: ignored", item_id, worker)
                return False
            state.count_done(worker, left_index)
            state.left_counts[left_index] += 1
            return True

    # --- serving ---------------------------------------------------------------------------------

    def reserve(self, holder: str, worker: str, max_items: int) -> list[Reservation]:
        """Up to `max_items` items for `worker`, held by `holder` (e.g. a Mephisto agent id)
        until `complete` or `release`. Items with the fewest answers so far come first."""
        with self._lock:
            if holder in self._holdings:
                return list(self._holdings[holder])
            chosen: list[Reservation] = []
            taken_conversations: set[str] = set()
            for state in self._candidates(worker):
                if len(chosen) >= max_items:
                    break
                keys = set(state.item.conversation_keys)
                if keys & taken_conversations:
                    continue
                taken_conversations |= keys
                left_index = self._draw_left(state)
                state.left_counts[left_index] += 1
                state.reserved_by[holder] = worker
                self._mark_seen(worker, state.item)
                chosen.append(Reservation(state.item.item_id, left_index))
            self._holdings[holder] = chosen
            self._holder_worker[holder] = worker
            return list(chosen)

    def complete(self, holder: str, judged_item_ids: Iterable[str]) -> int:
        """The holder submitted: its answered items count, anything it left out goes back to the queue.
        Returns how many answers counted."""
        judged = set(judged_item_ids)
        with self._lock:
            held = self._holdings.pop(holder, [])
            worker = self._holder_worker.pop(holder, None)
            counted = 0
            for reservation in held:
                state = self._items[reservation.item_id]
                state.reserved_by.pop(holder, None)
                if reservation.item_id in judged and worker is not None and worker not in state.done_by:
                    state.count_done(worker, reservation.left_index)
                    counted += 1
                else:
                    state.left_counts[reservation.left_index] -= 1
            return counted

    def release(self, holder: str) -> int:
        """The holder will never submit (returned, expired, disconnected): its items go back to the
        queue. The worker keeps having seen them. Returns how many items were released."""
        with self._lock:
            held = self._holdings.pop(holder, [])
            self._holder_worker.pop(holder, None)
            for reservation in held:
                state = self._items[reservation.item_id]
                state.reserved_by.pop(holder, None)
                state.left_counts[reservation.left_index] -= 1
            if held:
                logger.info("released %d item(s) held by %s back to the queue", len(held), holder)
            return len(held)

    def revoke_worker(self, worker: str) -> int:
        """Stop counting every answer of `worker` (and release whatever they hold): their items
        are collected again from other workers. The worker keeps having seen them, so they are never
        served back to the same worker. Returns how many answers stopped counting."""
        with self._lock:
            for holder in [h for h, w in self._holder_worker.items() if w == worker]:
                self.release(holder)
            revoked = 0
            for state in self._items.values():
                if worker in state.done_by:
                    state.done_by.remove(worker)
                    state.left_counts[state.done_left.pop(worker)] -= 1
                    revoked += 1
            if revoked:
                logger.info("revoked %d answer(s) of worker %s: collected again from others", revoked, worker)
            return revoked

    # --- questions the blueprint asks ------------------------------------------------------------

    def available_for(self, worker: str, limit: int = 1) -> int:
        """How many items (at most `limit`) `worker` could be given right now."""
        with self._lock:
            count = 0
            taken: set[str] = set()
            for state in self._candidates(worker):
                keys = set(state.item.conversation_keys)
                if keys & taken:
                    continue
                taken |= keys
                count += 1
                if count >= limit:
                    break
            return count

    def missing(self) -> int:
        """Answers still needed, held ones included."""
        with self._lock:
            return sum(self.answers_per_item - len(s.done_by) for s in self._items.values())

    def unreserved(self) -> int:
        """Answers still needed that nobody holds."""
        with self._lock:
            return sum(self._need(s) for s in self._items.values())

    def units_needed(self, per_unit: int) -> int:
        """Units still to offer so that every unreserved answer has a place."""
        return math.ceil(self.unreserved() / per_unit)

    def is_done(self) -> bool:
        return self.missing() == 0

    def answers_by_item(self) -> dict[str, list[str]]:
        """item id -> the workers whose answer counted (a copy)."""
        with self._lock:
            return {pid: list(s.done_by) for pid, s in self._items.items()}

    def held(self) -> dict[str, list[Reservation]]:
        with self._lock:
            return {holder: list(items) for holder, items in self._holdings.items()}

    # --- internals -------------------------------------------------------------------------------

    def _need(self, state: _ItemState) -> int:
        return self.answers_per_item - len(state.done_by) - len(state.reserved_by)

    def _candidates(self, worker: str) -> list[_ItemState]:
        seen_items = self._seen_items.get(worker, set())
        seen_conversations = self._seen_conversations.get(worker, set())
        eligible = [
            s
            for s in (self._items[pid] for pid in self._order)
            if self._need(s) > 0
            and s.item.item_id not in seen_items
            and not (set(s.item.conversation_keys) & seen_conversations)
        ]
        # Fewest answers (done + held) first, serving order otherwise: coverage grows evenly.
        eligible.sort(key=lambda s: len(s.done_by) + len(s.reserved_by))
        return eligible

    def _draw_left(self, state: _ItemState) -> int:
        if len(state.left_counts) == 1:
            return 0
        first, second = state.left_counts
        if first != second:
            return 0 if first < second else 1
        draw = random.Random(f"{self.seed}:{state.item.item_id}:{first + second}")
        return draw.randrange(2)

    def _mark_seen(self, worker: str, item: QueueItem) -> None:
        self._seen_items.setdefault(worker, set()).add(item.item_id)
        self._seen_conversations.setdefault(worker, set()).update(item.conversation_keys)

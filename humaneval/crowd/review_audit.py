"""The review audit log: one JSON line per review action, from the CLI and the review page alike.

`<data dir>/review_audit.jsonl` answers "who approved, rejected, bonused or blocked whom, when, and what did
the provider say" long after a study, which Mephisto's database cannot: it keeps only the latest status.
Each line:

    {"at": "2026-12-02T10:15:03Z", "who": "alice", "via": "page", "request": "3f2c…", "task_name": "acute-pilot",
     "action": "reject", "target": "unit 17 (worker w3, mock)", "ok": true, "skipped": false,
     "detail": "unit now rejected; reason: 'always chose left'"}

`request` ties together the lines of one request (one click on the page, one CLI command). It is also what
makes the page's actions idempotent: `once(request, act)` runs `act` only when no line of that request is in
the log, under an exclusive lock held across the check, the action and the write, so a double click, a
browser retry or a second server on the same data dir finds the first request's lines and repeats nothing.
The log is append-only; a line is written whole (one `write` of a line under the lock).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from humaneval.crowd.review import ReviewAction

logger = logging.getLogger(__name__)

AUDIT_FILE = "review_audit.jsonl"
_LOCK_SUFFIX = ".lock"


@dataclass(frozen=True)
class AuditLine:
    """One action as the log keeps it."""

    at: str  # UTC, ISO 8601 to the second
    who: str  # the reviewer (`--reviewer`, default the login name)
    via: str  # "cli" or "page"
    request: str
    task_name: str
    action: str  # approve / reject / soft-block / block / bonus
    target: str
    ok: bool
    skipped: bool
    detail: str  # what the provider answered, or why nothing was done

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


class ReviewAudit:
    """The audit log of one Mephisto data directory."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def in_data_dir(cls, data_dir: str | Path) -> "ReviewAudit":
        return cls(Path(data_dir) / AUDIT_FILE)

    def lines(self, request: str | None = None) -> list[AuditLine]:
        """Every line (of one `request`), oldest first; a line that is not ours is skipped with a warning."""
        if not self.path.exists():
            return []
        found = []
        with self.path.open(encoding="utf-8", errors="replace") as handle:  # a damaged byte spoils one line only
            for number, text in enumerate(handle, 1):
                try:
                    line = AuditLine(**json.loads(text))
                except (ValueError, TypeError):
                    logger.warning("%s:%d: not an audit line; skipped", self.path, number)
                    continue
                if request is None or line.request == request:
                    found.append(line)
        return found

    def record(self, outcomes: Sequence[ReviewAction], *, who: str, via: str, request: str, task_name: str) -> list[AuditLine]:
        """Append one line per action's outcome (under the lock, so lines of concurrent writers never interleave)."""
        with self._locked():
            return self._append(outcomes, who=who, via=via, request=request, task_name=task_name)

    def once(self, request: str, act: Callable[[], Sequence[ReviewAction]], *, who: str, via: str,
             task_name: str) -> tuple[list[AuditLine], bool]:
        """Run `act` and log its outcomes, unless `request` is already in the log: then return its lines.

        The second value says whether `act` ran. The lock is held across check, act and write, so two
        deliveries of one request, from any process, act once."""
        if not request.strip():
            raise ValueError("a request id is needed to make an action idempotent")
        with self._locked():
            done = self.lines(request)
            if done:
                return done, False
            return self._append(act(), who=who, via=via, request=request, task_name=task_name), True

    def _append(self, outcomes: Sequence[ReviewAction], *, who: str, via: str, request: str,
                task_name: str) -> list[AuditLine]:
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        lines = [AuditLine(at, who, via, request, task_name, o.action, o.target, o.ok, o.skipped, o.detail)
                 for o in outcomes]
        if lines:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                handle.write("".join(line.to_json() + "\n" for line in lines))
                handle.flush()
                os.fsync(handle.fileno())
        return lines

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(str(self.path) + _LOCK_SUFFIX, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

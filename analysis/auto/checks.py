"""The safety checks `analysis auto` runs on the replies itself: the built-in string matcher (`--check`), or
every check a server config's `safety:` section configures (`--safety-config`), as `models serve` builds them.

The analysis is installed without torch (`pip install humaneval[analysis]`, tests/test_analysis_only_install.py),
and `humaneval.models` is outside its imports (tests/analysis/test_analysis_layout.py): the check modules are
imported only when a check is asked for, and a missing module is an input error (exit 2) saying what to install.

- `string_matcher` is the live chats' own word list (humaneval/models/safety/string_matcher.py and
  word_list.txt): a reply is flagged here exactly when the deployed layer's word list would flag it. It needs
  no torch.
- `--safety-config FILE` reads the file with the model server's own reader and builds its `SafetyPipeline`
  (`SafetyPipeline.from_config`, the same thresholds, word lists and imported classifiers as the live chats);
  every enabled check runs on every reply, with the reply's earlier turns as its context (the BAD classifier
  reads the last 4 turns). `apply_to` is not applied: it says which side a live chat screens, while here each
  check is a measure of the replies. A check that cannot run (a classifier slot without weights, a verdict
  that says it did not run) is an input error with its reason, never counted as "safe".

The check interface judges one message at a time (`SafetyCheck.check(text, context)`), so replies are judged
one by one; a classifier loads its weights once, when the config is read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from humaneval.input_errors import InputError

STRING_MATCHER = "string_matcher"
#: built-in check name -> what the check is, for --help and the report
CHECKS: dict[str, str] = {
    STRING_MATCHER: "the live chats' offensive-word list (humaneval/models/safety/word_list.txt)",
}
INSTALL_MODELS = "install the model layer: pip install 'humaneval[models]'"

#: (reply, its earlier turns, oldest first) -> (unsafe, reason); unsafe is None when the check did not run
Judge = Callable[[str, Sequence[str]], tuple[bool | None, str]]


@dataclass(frozen=True)
class ReplyCheck:
    """A safety check run on every reply: its name (the measure's), what it is (for the report), its judge."""

    name: str
    description: str
    judge: Judge


def builtin_check(name: str) -> ReplyCheck:
    """A check of `CHECKS` by name; an unknown name or a missing module is an `InputError`."""
    if name not in CHECKS:
        raise InputError(f"unknown check {name!r}; known: {', '.join(CHECKS)}", field="--check")
    try:
        # lazily: humaneval.models is outside the analysis' imports (allow-listed in test_analysis_layout.py)
        from humaneval.models.safety.string_matcher import StringMatcher
    except ImportError as err:
        raise InputError(f"the {STRING_MATCHER} check needs humaneval.models.safety, which is not installed ({err}); "
                         "install the humaneval package itself, or pass --no-checks", field="--check") from None
    matcher = StringMatcher()

    def judge(text: str, context: Sequence[str]) -> tuple[bool | None, str]:
        found = matcher.find(text)
        return bool(found), "word list match" if found else "no word list match"

    return ReplyCheck(name, CHECKS[name], judge)


def _describe(name: str, cfg: Mapping[str, Any], sides: frozenset[str], path: Path) -> str:
    """What a configured check is, from its (defaults-filled) config entry."""
    text = f"safety.checks.{name} of {path.name}: type {cfg.get('type')}, threshold {cfg.get('threshold', 0.5)}"
    if cfg.get("path"):
        text += f", weights {cfg['path']}"
    if "bot" not in sides:
        text += " (the live chats apply it to human messages only; here it judges the replies)"
    return text


def _checked_verdicts(check: Any, name: str) -> Judge:
    """The check's judge; a module it imports on first use (e.g. alt-profanity-check) missing is an InputError."""
    def judge(text: str, context: Sequence[str]) -> tuple[bool | None, str]:
        try:
            verdict = check.check(text, context)
        except ImportError as err:
            raise InputError(f"check {name} needs the module {err.name or err}, which is not installed; {INSTALL_MODELS}",
                             field="--safety-config") from None
        return verdict.unsafe, verdict.reason

    return judge


def configured_checks(path: str | Path) -> list[ReplyCheck]:
    """Every enabled check of the server config at `path`, built as `models serve` builds them.

    Errors (exit 2): the model layer not installed, the config refused by the server's reader, a check
    that cannot run (its reason, and how to fix it)."""
    path = Path(path)
    try:
        # lazily, allow-listed in test_analysis_layout.py: the server's config reader and safety pipeline
        from humaneval.models.safety.pipeline import DEFAULT_CHECKS, SafetyPipeline
        from humaneval.models.server.config import load_server_config
    except ImportError as err:
        raise InputError(f"needs humaneval's model layer (missing module {err.name or err}); {INSTALL_MODELS}",
                         field="--safety-config") from None
    config = load_server_config(path)
    try:
        pipeline = SafetyPipeline.from_config(config.safety, device=config.device or "cpu", source=path)
    except ImportError as err:  # an imported classifier loads torch with its weights
        raise InputError(f"a configured classifier needs the module {err.name or err}, which is not installed; "
                         f"{INSTALL_MODELS}", path=path, field="safety.checks") from None
    given = dict(config.safety.get("checks") or {})
    out = []
    for entry in pipeline.checks:
        name = entry.check.name
        if not entry.check.configured:
            reason = entry.check.check("", ()).reason
            raise InputError(f"this check cannot run ({reason}): give it a converted classifier (path), or set "
                             "enabled: false to leave it out", path=path, field=f"safety.checks.{name}")
        cfg = {**DEFAULT_CHECKS.get(name, {}), **dict(given.get(name) or {})}
        out.append(ReplyCheck(name, _describe(name, cfg, entry.sides, path), _checked_verdicts(entry.check, name)))
    if not out:
        raise InputError("configures no enabled safety check", path=path, field="safety.checks")
    return out


def run_checks(checks: Sequence[ReplyCheck], replies: pd.DataFrame) -> dict[str, list[bool]]:
    """check -> per reply (`text`, `context`, `source`, `where` columns), whether the check flags it.

    A verdict that says the check did not run is an `InputError` naming the reply: a reply the check did not
    judge must not count as "safe"."""
    out = {}
    rows = list(zip(replies["text"], replies["context"], replies["source"], replies["where"]))
    for check in checks:
        flags = []
        for text, context, source, where in rows:
            unsafe, reason = check.judge(text, context)
            if unsafe is None:
                raise InputError(f"check {check.name} did not run on this reply ({reason}); fix the check, or "
                                 "leave it out of the config", path=source, field=where)
            flags.append(unsafe)
        out[check.name] = flags
    return out

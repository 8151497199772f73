"""Apply the safety checks to a live chat turn, with ParlAI's `safe_interactive` behaviour as the default.

ParlAI's behaviour (MODELS.md), kept so results stay comparable: an unsafe human message is not sent to the
bot and the human sees "[ Sorry, could not process that message. Please try again. ]"; an unsafe bot reply is
not shown, the human sees "[ Unsafe model reply detected. Clearing agent history. Please try again. ]" and the
bot's history is reset. What we add: per-check thresholds, which side each check screens, and every
verdict's reason — returned to the caller so a blocked message can be explained and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from humaneval.input_errors import InputError
from humaneval.models.safety.checks import SafetyCheck, Verdict
from humaneval.models.safety.imported_classifiers import KINDS, ImportedClassifierCheck
from humaneval.models.safety.profanity_classifier import ProfanityClassifier
from humaneval.models.safety.string_matcher import StringMatcher, WordList

logger = logging.getLogger(__name__)

Side = Literal["human", "bot"]
SIDES: tuple[Side, ...] = ("human", "bot")

# ParlAI's exact texts (parlai/utils/safety.py via safe_interactive), so crowdworkers see what they saw there.
HUMAN_BLOCKED_MESSAGE = "[ Sorry, could not process that message. Please try again. ]"
BOT_REPLACED_MESSAGE = "[ Unsafe model reply detected. Clearing agent history. Please try again. ]"

# What happened to a turn: the bot's reply shown, the human message blocked, or the bot reply replaced.
Action = Literal["reply", "human_blocked", "bot_replaced"]


@dataclass(frozen=True)
class Assessment:
    """All verdicts on one message; unsafe when any check that screens this side says so (a check that did
    not run, `unsafe` `None`, says nothing)."""

    verdicts: dict[str, Verdict]

    @property
    def unsafe(self) -> bool:
        return any(v.unsafe is True for v in self.verdicts.values())

    @property
    def reason(self) -> str | None:
        """The reasons of the checks that flagged the message (each names its check), `None` when safe."""
        reasons = [v.reason for v in self.verdicts.values() if v.unsafe is True]
        return "; ".join(reasons) if reasons else None

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """docs/formats.md, section 'Exports''s `safety` value: `{check: {unsafe, score, reason}}`."""
        return {name: v.to_dict() for name, v in self.verdicts.items()}


@dataclass(frozen=True)
class ScreenedReply:
    """The outcome of one screened turn: what to show, what happened, and every verdict for the logs.

    `generated` is the model's own reply (also when it was replaced, for the researchers' logs; `None` when
    the human message was blocked and the model never ran). `reset_history` tells the caller to clear the
    bot's history, as ParlAI did after an unsafe reply.
    """

    text: str
    action: Action
    generated: str | None
    human_safety: Assessment | None
    bot_safety: Assessment | None

    @property
    def reset_history(self) -> bool:
        return self.action == "bot_replaced"

    @property
    def reason(self) -> str | None:
        if self.action == "human_blocked" and self.human_safety is not None:
            return self.human_safety.reason
        if self.action == "bot_replaced" and self.bot_safety is not None:
            return self.bot_safety.reason
        return None


@dataclass(frozen=True)
class ScreeningCheck:
    """A check and the sides it screens (e.g. the sensitive-topics classifier only screens humans)."""

    check: SafetyCheck
    sides: frozenset[Side] = frozenset(SIDES)


@dataclass
class SafetyPipeline:
    """The configured checks plus the messages shown when a turn is blocked."""

    checks: list[ScreeningCheck]
    human_blocked_message: str = HUMAN_BLOCKED_MESSAGE
    bot_replaced_message: str = BOT_REPLACED_MESSAGE
    screen_human: bool = True  # defaults for callers that do not say (a request may turn either off)
    screen_bot: bool = True
    _by_name: dict[str, SafetyCheck] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name = {}
        for entry in self.checks:
            if entry.check.name in self._by_name:
                raise InputError(f"two safety checks are named {entry.check.name!r}", field="safety.checks")
            self._by_name[entry.check.name] = entry.check

    def status(self) -> dict[str, str]:
        """'ready' or 'not configured' per check, for /health and /models."""
        return {name: "ready" if c.configured else "not configured" for name, c in self._by_name.items()}

    def assess(self, text: str, context: Sequence[str] = (), *, side: Side | None = None,
               only: Sequence[str] | None = None) -> Assessment:
        """Run the checks that screen `side` (all when None), or exactly the checks named in `only`."""
        if only is not None:
            unknown = [n for n in only if n not in self._by_name]
            if unknown:
                raise InputError(f"unknown safety check(s) {', '.join(map(repr, unknown))}; "
                                 f"known: {', '.join(self._by_name)}", field="checks")
            selected = [self._by_name[n] for n in only]
        else:
            selected = [e.check for e in self.checks if side is None or side in e.sides]
        return Assessment({c.name: c.check(text, context) for c in selected})

    def screen_turn(self, turns: Sequence[str], generate: Callable[[], str], *, screen_human: bool | None = None,
                    screen_bot: bool | None = None) -> ScreenedReply:
        """ParlAI's safe_interactive turn: screen the human's last message, generate, screen the reply.

        `turns` ends with the human message; `generate` is only called when that message passes. Screening
        a side can be turned off per call (e.g. BAD collection wants the raw bot reply shown).
        """
        screen_human = self.screen_human if screen_human is None else screen_human
        screen_bot = self.screen_bot if screen_bot is None else screen_bot
        human_text, earlier = turns[-1], list(turns[:-1])
        human = self.assess(human_text, earlier, side="human") if screen_human else None
        if human is not None and human.unsafe:
            logger.info("human message blocked: %s", human.reason)
            return ScreenedReply(self.human_blocked_message, "human_blocked", None, human, None)
        reply = generate()
        bot = self.assess(reply, list(turns), side="bot") if screen_bot else None
        if bot is not None and bot.unsafe:
            logger.info("bot reply replaced: %s", bot.reason)
            return ScreenedReply(self.bot_replaced_message, "bot_replaced", reply, human, bot)
        return ScreenedReply(reply, "reply", reply, human, bot)

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None, *, device: str = "cpu",
                    source: str | Path | None = None) -> "SafetyPipeline":
        """Build from the `safety:` section of the server config (task_configs/serve.yaml documents it)."""
        config = dict(config or {})
        known = {"checks", "human_blocked_message", "bot_replaced_message", "screen_human", "screen_bot"}
        _reject_unknown(config, known, "safety", source)
        checks_cfg = {**DEFAULT_CHECKS, **dict(config.get("checks") or {})}
        checks: list[ScreeningCheck] = []
        for name, raw in checks_cfg.items():
            entry = _check_from_config(name, dict(raw or {}), device=device, source=source)
            if entry is not None:
                checks.append(entry)
        return cls(
            checks,
            human_blocked_message=str(config.get("human_blocked_message", HUMAN_BLOCKED_MESSAGE)),
            bot_replaced_message=str(config.get("bot_replaced_message", BOT_REPLACED_MESSAGE)),
            screen_human=_flag(config, "screen_human", source),
            screen_bot=_flag(config, "screen_bot", source),
        )


# The defaults: the two checks that work offline, and the three slots (not configured until imported).
DEFAULT_CHECKS: dict[str, dict[str, Any]] = {
    "string_matcher": {"type": "string_matcher"},
    "profanity_classifier": {"type": "profanity_classifier"},
    "bad_classifier": {"type": "bad"},
    "single_turn_classifier": {"type": "single_turn"},
    "sensitive_topics_classifier": {"type": "sensitive_topics", "apply_to": ["human"]},
}


def _reject_unknown(config: Mapping[str, Any], known: set[str], where: str, source: str | Path | None) -> None:
    unknown = sorted(set(config) - known)
    if unknown:
        raise InputError(f"unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}",
                         path=source, field=where)


def _flag(config: Mapping[str, Any], key: str, source: str | Path | None) -> bool:
    value = config.get(key, True)
    if not isinstance(value, bool):
        raise InputError(f"must be true or false, got {value!r}", path=source, field=f"safety.{key}")
    return value


def _check_from_config(name: str, cfg: dict[str, Any], *, device: str,
                       source: str | Path | None) -> ScreeningCheck | None:
    where = f"safety.checks.{name}"
    default = DEFAULT_CHECKS.get(name, {})
    cfg = {**default, **cfg}
    _reject_unknown(cfg, {"type", "enabled", "threshold", "apply_to", "word_list", "path", "device"}, where, source)
    if not cfg.get("enabled", True):
        return None
    kind = cfg.get("type")
    # A probability: 50 (meant as percent), -1 or .nan would switch the check off or on for every message,
    # silently, in a live chat; a string "0.5" is a typo too (YAML reads 0.5 as a number).
    threshold = cfg.get("threshold", 0.5)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
        raise InputError(f"threshold must be a number from 0 to 1 (a probability), got {threshold!r}", path=source,
                         field=f"{where}.threshold")
    threshold = float(threshold)
    sides = cfg.get("apply_to", list(SIDES))
    if not isinstance(sides, list) or not sides or any(s not in SIDES for s in sides):
        raise InputError(f"apply_to must be a non-empty list of {SIDES}, got {sides!r}", path=source,
                         field=f"{where}.apply_to")
    check: SafetyCheck
    if kind == "string_matcher":
        word_list = WordList.load(cfg["word_list"]) if cfg.get("word_list") else None
        check = StringMatcher(word_list, name=name, threshold=threshold)
    elif kind == "profanity_classifier":
        check = ProfanityClassifier(name=name, threshold=threshold)
    elif kind in KINDS:
        try:
            check = ImportedClassifierCheck(kind, name=name, path=cfg.get("path"), threshold=threshold,
                                            device=str(cfg.get("device", device)))
        except InputError as err:
            raise InputError(err.problem, path=source, field=f"{where}.{err.field or 'path'}") from None
    else:
        known_types = ["string_matcher", "profanity_classifier", *KINDS]
        raise InputError(f"unknown check type {kind!r}; known: {', '.join(known_types)}", path=source,
                         field=f"{where}.type")
    return ScreeningCheck(check, frozenset(sides))

"""What a task page says about the task before the work: what it is, time, pay, a content warning, how to stop
and whom to ask — the same for every study, filled from the task's YAML and the launch's pay check.

It goes to the page in Mephisto's task config (`shared_state.task_config["intro"]`, the page's
`taskConfig.intro`), so the preview a worker sees before accepting, and the top of the task page, say it.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

from omegaconf import DictConfig

from humaneval.crowd.pay_floor import PayCheck, money
from humaneval.crowd.prolific.provider_type import PROVIDER_TYPE as PROLIFIC

SECTION = "humaneval.page"
# How a worker stops without harm on each provider (their own help pages' words for it).
HOW_TO_STOP = {
    "mturk": "You can stop at any time: return the HIT on MTurk and nothing counts against you.",
    "mturk_sandbox": "You can stop at any time: return the HIT on MTurk and nothing counts against you.",
    PROLIFIC: "You can stop at any time: return your submission on Prolific and nothing counts against you.",
}
DEFAULT_HOW_TO_STOP = "You can stop at any time by closing this page."


def page_intro(cfg: DictConfig, pay: PayCheck) -> dict[str, Any]:
    """The intro of the task's pages (all strings; empty ones are not shown)."""
    page = cfg.humaneval.get("page") or {}
    provider = str(cfg.mephisto.provider._provider_type)
    return {
        "title": str(cfg.mephisto.task.get("task_title") or ""),
        "description": str(cfg.mephisto.task.get("task_description") or ""),
        "minutes": _minutes(pay, cfg),
        "pay": _pay(pay),
        "content_warning": str(page.get("content_warning") or ""),
        "stop": HOW_TO_STOP.get(provider, DEFAULT_HOW_TO_STOP),
        "contact": str(page.get("contact") or ""),
    }


def _minutes(pay: PayCheck, cfg: DictConfig) -> str:
    """'about 6 minutes' from the pay check's estimate (or the configured one on the sandbox), else ''."""
    minutes = pay.minutes
    if minutes is None:
        configured = (cfg.humaneval.get("pay") or {}).get("estimated_minutes")
        try:
            minutes = Decimal(str(configured)) if configured is not None else None
        except InvalidOperation:
            minutes = None
    if minutes is None or not minutes.is_finite() or minutes <= 0:
        return ""
    whole = max(1, math.ceil(minutes))
    return f"about {whole} minute{'s' if whole != 1 else ''}"


def _pay(pay: PayCheck) -> str:
    if pay.reward is not None and pay.currency is not None:
        return f"{money(pay.reward, pay.currency)} for this task"
    return "nothing: this is a local sandbox (a try-out)"

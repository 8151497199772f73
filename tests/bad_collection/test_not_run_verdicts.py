"""A safety check that did not run (a classifier slot without weights) is recorded and exported as not run
(`unsafe: null`), never as a verdict of "safe" (issue 14; docs/formats.md, section 'BAD turn labels')."""

from __future__ import annotations

from humaneval.bad_collection.export import safety_record
from humaneval.models.client import ReplyResult
from humaneval.models.safety import SafetyPipeline


def test_the_live_layer_records_unconfigured_slots_as_not_run() -> None:
    verdicts = SafetyPipeline.from_config(None).assess("hello there", side="bot").to_dict()
    assert verdicts["bad_classifier"]["unsafe"] is None and verdicts["single_turn_classifier"]["unsafe"] is None
    assert verdicts["string_matcher"]["unsafe"] is False  # a check that ran says safe
    # what a BAD chat stores for the turn, after the trip through the model client
    result = ReplyResult.from_dict({"model": "demo_bot", "text": "hi", "action": "reply", "reset_history": False,
                                    "generated": "hi", "reason": None, "safety": {"bot": verdicts}})
    stored = result.bot_safety_record()
    assert stored is not None and stored["bad_classifier"]["unsafe"] is None
    assert stored["string_matcher"]["unsafe"] is False


def test_export_writes_old_not_run_verdicts_as_not_run() -> None:
    saved = {"string_matcher": {"unsafe": False, "score": 0.0, "reason": "no word list match"},
             "bad_classifier": {"unsafe": False, "score": None, "reason": "BAD classifier: not configured"},
             "profanity_classifier": {"unsafe": True, "score": 0.9, "reason": "profanity"},
             "single_turn_classifier": {"unsafe": None, "score": None, "reason": "not configured"}}
    out = safety_record(saved)
    assert out["bad_classifier"] == {"unsafe": None, "score": None, "reason": "BAD classifier: not configured"}
    assert out["single_turn_classifier"]["unsafe"] is None
    assert out["string_matcher"] == saved["string_matcher"] and out["profanity_classifier"] == saved["profanity_classifier"]
    assert saved["bad_classifier"]["unsafe"] is False  # the stored chat is not changed
    assert safety_record(None) == {}

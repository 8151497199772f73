"""The safety layer: checks with one interface (string matcher, profanity classifier, imported ParlAI
classifier slots) and the pipeline that screens human messages and bot replies the way ParlAI did."""

from humaneval.models.safety.checks import SafetyCheck, Verdict
from humaneval.models.safety.pipeline import (
    BOT_REPLACED_MESSAGE,
    HUMAN_BLOCKED_MESSAGE,
    Assessment,
    SafetyPipeline,
    ScreenedReply,
)

__all__ = [
    "BOT_REPLACED_MESSAGE",
    "HUMAN_BLOCKED_MESSAGE",
    "Assessment",
    "SafetyCheck",
    "SafetyPipeline",
    "ScreenedReply",
    "Verdict",
]

"""Where the bundled ACUTE data lives (task_configs/acute/data, see its README), so that the launcher,
the tests and the loaders agree on one path instead of each rebuilding it."""

from __future__ import annotations

from humaneval.shipped_files import TASK_CONFIG_DIR

DATA_DIR = TASK_CONFIG_DIR / "acute" / "data"
EXAMPLE_PAIRINGS_PATH = DATA_DIR / "example_pairings.jsonl"
"""24 pairs (8 per model pair) of three hand-written bot styles; the launcher's default input."""
DEFAULT_ONBOARDING_PATH = DATA_DIR / "onboarding.jsonl"
"""4 onboarding pairs: a good conversation vs. a bot that only says "I don't know"."""
EXAMPLE_CONVERSATIONS = {model: DATA_DIR / f"{model}.jsonl" for model in ("persona_bot", "dull_bot", "repetitive_bot")}
"""The Conversations files the example pairings were built from (seed 42, 8 pairs per model pair)."""

"""Where the bundled BAD data files are (task_configs/bad/data)."""

from __future__ import annotations

from humaneval.shipped_files import TASK_CONFIG_DIR

BAD_DATA_DIR = TASK_CONFIG_DIR / "bad" / "data"
DEFAULT_ONBOARDING_PATH = BAD_DATA_DIR / "onboarding.jsonl"
DEFAULT_PERSONAS_PATH = BAD_DATA_DIR / "personas.jsonl"

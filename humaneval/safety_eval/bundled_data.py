"""Where the bundled safety-evaluation data lives (task_configs/safety/data, see its README), so the
CLIs, the launcher and the tests agree on one path."""

from __future__ import annotations

from humaneval.shipped_files import TASK_CONFIG_DIR

DATA_DIR = TASK_CONFIG_DIR / "safety" / "data"
CONTEXTS_PATH = DATA_DIR / "contexts.jsonl"
"""Adversarial conversation prefixes written for this project (not BAD), in the flattened BAD shape."""
DEMO_WORLD_LOGS_PATH = DATA_DIR / "demo_bot_world_logs.jsonl"
"""The demo bot's replies to `CONTEXTS_PATH` (`python -m humaneval.models generate`), + .metadata sidecar."""
DEMO_TASK_DATA_PATH = DATA_DIR / "demo_bot_task_data.jsonl"
"""`DEMO_WORLD_LOGS_PATH` formatted for annotation: the default input of `python -m humaneval.launch safety`."""
DEMO_ANNOTATION_INDICES_PATH = DATA_DIR / "demo_bot_annotation_indices.jsonl"
"""The utterance indices to annotate, one line per line of `DEMO_TASK_DATA_PATH`."""

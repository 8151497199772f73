"""Shared helpers for the generator-side model tests: ParlAI reference fixtures and tiny registries.

The fixtures in fixtures/parlai are real ParlAI 1.7.2 outputs (random weights, see their README); importing
them gives tiny models (~250k parameters) that load and generate in well under a second, so every test
except the demo-bot one runs on them.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "parlai"
GENERATOR_FIXTURES = {"xlm": FIXTURES / "generator_xlm_tiny", "prelayernorm": FIXTURES / "generator_prelayernorm_tiny"}

_cache_root = Path(tempfile.mkdtemp(prefix="humaneval-model-tests."))
atexit.register(shutil.rmtree, _cache_root, True)
_imported: dict[str, Path] = {}

# Short, deterministic decoding so tests on random weights stay fast.
FAST_RECIPE: dict[str, Any] = {"inference": "greedy", "min_length": 2, "max_length": 6}


def imported_generator(layout: str) -> Path:
    """The runtime directory of an imported fixture generator (converted once per test session)."""
    if layout not in _imported:
        from humaneval.models.parlai_import import import_parlai

        out = _cache_root / f"imported_{layout}"
        import_parlai(GENERATOR_FIXTURES[layout], out)
        _imported[layout] = out
    return _imported[layout]


def write_registry(path: Path, models: dict[str, dict[str, Any]], default: str | None = None) -> Path:
    payload: dict[str, Any] = {"models": models}
    payload["default"] = default or next(iter(models))
    path.write_text(yaml.safe_dump(payload), encoding="utf-8")
    return path


def tiny_registry(tmp_path: Path, recipe: dict[str, Any] | None = None, max_batch_size: int = 4) -> Path:
    """A registry whose default model is the imported xlm fixture with a fast recipe."""
    entry = {
        "path": str(imported_generator("xlm")),
        "dtype": "float32",
        "device": "cpu",
        "max_batch_size": max_batch_size,
        "recipe": dict(FAST_RECIPE if recipe is None else recipe),
    }
    return write_registry(tmp_path / "models.yaml", {"tiny": entry})


def read_jsonl(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

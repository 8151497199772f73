"""Make Mephisto 1.1.1 importable and safe on Python 3.11 without editing site-packages.

Mephisto 1.1.1 (its last release) declares dataclass fields whose defaults are other dataclass
instances (`task: TaskRunArgs = TaskRunArgs()` in `mephisto.operations.hydra_config`). Python 3.11
rejects such defaults when the default's class is unhashable, which every `eq=True` dataclass is, so
`import mephisto` raises `ValueError: mutable default`. While Mephisto's modules are first imported we
give every dataclass *Mephisto* creates an identity hash when it has none; that is exactly what the
check looks at, and hydra/omegaconf treat those defaults as the immutable templates they were meant to
be. We then restore `dataclasses.dataclass` so nothing else in the process is affected.

Mephisto's Operator also starts a Prometheus metrics endpoint on 0.0.0.0:3031 and probes for a local
Prometheus install; we switch both off so that nothing binds off loopback and two runs on one machine
do not fight over that port.

Every module that imports Mephisto must import this first (importing `humaneval.crowd` does).
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import sys
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

SUPPORTED_MEPHISTO_VERSION = "1.1.1"

_loaded = False


class MephistoVersionError(RuntimeError):
    """The installed Mephisto is not the version this layer was written and tested for."""


def _hash_mephisto_dataclasses(original: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap `dataclasses.dataclass` so Mephisto's dataclasses get an identity hash when they have none."""

    def give_hash(cls: type) -> type:
        if cls.__module__.startswith("mephisto") and cls.__dict__.get("__hash__", object.__hash__) is None:
            cls.__hash__ = object.__hash__  # type: ignore[method-assign]
        return cls

    def dataclass(cls: type | None = None, /, **kwargs: Any) -> Any:
        if cls is None:
            return lambda inner: give_hash(original(inner, **kwargs))
        return give_hash(original(cls, **kwargs))

    return dataclass


def _disable_metrics() -> None:
    from mephisto.operations import operator

    operator.launch_prometheus_server = lambda *args, **kwargs: False
    operator.start_metrics_server = lambda *args, **kwargs: None
    operator.shutdown_prometheus_server = lambda *args, **kwargs: None


def check_version(version: str) -> None:
    """Refuse any Mephisto but the one whose defects this layer knows."""
    if version != SUPPORTED_MEPHISTO_VERSION:
        raise MephistoVersionError(
            f"humaneval supports Mephisto {SUPPORTED_MEPHISTO_VERSION} exactly, but {version} is installed; "
            f"run scripts/setup.sh (it installs mephisto=={SUPPORTED_MEPHISTO_VERSION} with --no-deps)"
        )


def load_mephisto() -> None:
    """Import Mephisto under the compat fixes (idempotent). Raises `MephistoVersionError` on a wrong version."""
    global _loaded
    if _loaded:
        return
    if "mephisto.operations.hydra_config" in sys.modules:
        raise RuntimeError(
            "Mephisto was imported before humaneval.crowd.mephisto_compat; import humaneval.crowd first"
        )
    original = dataclasses.dataclass
    dataclasses.dataclass = _hash_mephisto_dataclasses(original)  # type: ignore[assignment]
    try:
        importlib.import_module("mephisto.operations.hydra_config")
    finally:
        dataclasses.dataclass = original  # type: ignore[assignment]
    check_version(getattr(importlib.import_module("mephisto"), "__version__", "unknown"))
    _disable_metrics()
    _loaded = True
    logger.debug("Mephisto %s loaded through the compat layer", SUPPORTED_MEPHISTO_VERSION)

"""Building the models a server config names: through a factory ("module:callable") or from the registry.

Apart from the config because it is the slow, heavy step (weights are loaded here) and the only one that
imports model code; reading and checking a config stays cheap.
"""

from __future__ import annotations

import importlib

from humaneval.input_errors import InputError
from humaneval.models.reply_model import ReplyModel
from humaneval.models.server.config import ModelConfig, ServerConfig


def load_model(spec: ModelConfig, config: ServerConfig) -> ReplyModel:
    """Build one served model: through its factory, or by name from the model registry.

    Device precedence: the model's `device`, then the server's (`device:` / `serve --device`), then the
    registry entry's own (a factory defaults to cpu).
    """
    device = spec.device or config.device
    if spec.factory:
        module_name, _, attr = spec.factory.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError, ValueError) as err:
            raise InputError(f"cannot import factory {spec.factory!r} ({err})", path=config.source,
                             field=f"models.{spec.name}.factory") from None
        model = factory(name=spec.name, device=device or "cpu", **spec.options)
    else:
        model = _load_from_registry(spec, device, config)
    if not isinstance(model, ReplyModel):
        raise InputError(f"{spec.name!r} did not build a ReplyModel (got {type(model).__name__})",
                         path=config.source, field=f"models.{spec.name}")
    return model


def _load_from_registry(spec: ModelConfig, device: str | None, config: ServerConfig) -> ReplyModel:
    from humaneval.models.registry import load_generator, load_registry, with_device

    unknown = sorted(set(spec.options) - {"dtype"})
    if unknown:
        raise InputError(f"registry models accept only the option 'dtype', got {', '.join(unknown)}",
                         path=config.source, field=f"models.{spec.name}.options")
    entry = load_registry(config.registry).get(spec.name)
    return load_generator(with_device(entry, device=device, dtype=spec.options.get("dtype")))


def model_device(spec: ModelConfig, config: ServerConfig, model: ReplyModel) -> str:
    """The device a loaded model runs on, for /models (what the model says, else what was asked)."""
    device = getattr(model, "device", None)
    return str(device) if device is not None else (spec.device or config.device or "cpu")

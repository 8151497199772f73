"""The registry keys of an `openai_compatible` model and their checks (task_configs/models.yaml documents them).

Apart from the client (`openai_compatible.py`) so that reading the registry checks an entry completely —
every mistake an `InputError` with the registry file and the field — without importing the HTTP code.
The entry names the environment variable that holds the API key, never the key: a value that looks like
a key is refused, and no message here ever quotes the rejected value, since it may be a secret.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from humaneval.input_errors import InputError

KIND = "openai_compatible"
# kind, description, max_batch_size and control are common to every kind: the registry checks them.
KEYS = {"kind", "description", "base_url", "model", "api_key_env", "system_prompt", "sampling", "max_tokens",
        "timeout_s", "retries", "concurrency", "max_batch_size", "control"}
DEFAULT_SYSTEM_PROMPT = "{persona}"
# Chat-completions request fields that shape sampling (the protocol's names); anything else is refused.
SAMPLING_KEYS = {"temperature", "top_p", "seed", "stop", "frequency_penalty", "presence_penalty"}
MAX_STOP_SEQUENCES = 4  # the protocol's limit
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
# Prefixes of real API keys and tokens (OpenAI, Hugging Face, GitHub, Groq, xAI, AWS, Anthropic, Google).
_KEY_PREFIXES = ("sk-", "sk_", "hf_", "ghp_", "gho_", "gsk_", "xai-", "AKIA", "AIza")
_HIGH_ENTROPY_RUN = re.compile(r"[A-Za-z0-9]{20,}")


@dataclass(frozen=True)
class OpenAICompatibleSettings:
    """A checked `openai_compatible` registry entry (what the client needs, the key's variable name only)."""

    base_url: str
    model: str
    api_key_env: str | None = None
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    sampling: dict[str, Any] = field(default_factory=dict)
    max_tokens: int = 128
    timeout_s: float = 60.0
    retries: int = 3
    concurrency: int = 4

    def provenance(self) -> dict[str, Any]:
        """What output metadata records about the model (no key, not even its variable's name)."""
        return {"base_url": self.base_url, "served_model": self.model, "system_prompt": self.system_prompt,
                "sampling": dict(self.sampling), "max_tokens": self.max_tokens}


def looks_like_a_key(value: str) -> bool:
    """A secret pasted where a variable name belongs: a known key prefix or a long random-looking run."""
    if value.startswith(_KEY_PREFIXES):
        return True
    return any(re.search(r"\d", run) and re.search(r"[A-Za-z]", run) for run in _HIGH_ENTROPY_RUN.findall(value))


def parse_settings(entry: dict[str, Any], path: Path, where: str) -> OpenAICompatibleSettings:
    """Check every key of one entry (already known to have kind openai_compatible)."""

    def fail(problem: str, key: str) -> InputError:
        return InputError(problem, path=path, field=f"{where}.{key}")

    unknown = sorted(set(entry) - KEYS)
    if unknown:
        raise fail(f"unknown keys {', '.join(unknown)} for kind {KIND} (known: {', '.join(sorted(KEYS))})",
                   unknown[0])
    api_key_env = _api_key_env(entry.get("api_key_env"), fail)
    base_url = _base_url(entry.get("base_url"), fail, with_key=api_key_env is not None)
    model = entry.get("model")
    if not isinstance(model, str) or not model.strip():
        raise fail("missing 'model' (the model name the server answers to)", "model")
    return OpenAICompatibleSettings(
        base_url=base_url,
        model=model,
        api_key_env=api_key_env,
        system_prompt=_system_prompt(entry.get("system_prompt", DEFAULT_SYSTEM_PROMPT), fail),
        sampling=_sampling(entry.get("sampling") or {}, fail),
        max_tokens=_integer(entry.get("max_tokens", 128), 1, "max_tokens", fail),
        timeout_s=_number(entry.get("timeout_s", 60.0), "timeout_s", fail),
        retries=_integer(entry.get("retries", 3), 0, "retries", fail),
        concurrency=_integer(entry.get("concurrency", 4), 1, "concurrency", fail),
    )


def _api_key_env(value: Any, fail: Any) -> str | None:
    if value is None:
        return None
    hint = "put the key in an environment variable and its name here, e.g. OPENAI_API_KEY"
    if not isinstance(value, str):
        raise fail(f"must be the NAME of an environment variable; {hint}", "api_key_env")
    if looks_like_a_key(value):  # never quote it: it is probably the secret itself
        raise fail(f"looks like an API key, not the name of an environment variable; {hint}", "api_key_env")
    if not _ENV_NAME.fullmatch(value):
        raise fail(f"must be the NAME of an environment variable (letters, digits, _); {hint}", "api_key_env")
    return value


def _base_url(value: Any, fail: Any, *, with_key: bool) -> str:
    if not isinstance(value, str) or not value.strip():
        raise fail("missing 'base_url' (the server's OpenAI API root, e.g. http://127.0.0.1:8000/v1)", "base_url")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise fail("must be an http:// or https:// URL with a host, e.g. http://127.0.0.1:8000/v1", "base_url")
    if parts.username or parts.password or parts.query or parts.fragment:  # not quoted: may carry a secret
        raise fail("must not hold credentials, a query or a fragment (the key goes in api_key_env)", "base_url")
    try:
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        raise fail("has an invalid port", "base_url") from None
    loopback = parts.hostname in ("localhost", "::1") or parts.hostname.startswith("127.")
    if with_key and parts.scheme == "http" and not loopback:
        raise fail("the API key would cross the network unencrypted: use https:// (or a 127.0.0.1 server)",
                   "base_url")
    return value.strip().rstrip("/")


def _system_prompt(value: Any, fail: Any) -> str:
    if not isinstance(value, str):
        raise fail("must be a string template; {persona} becomes the persona/context lines", "system_prompt")
    try:
        value.format(persona="")
    except (KeyError, IndexError, ValueError) as err:
        raise fail(f"only the placeholder {{persona}} is allowed (write {{{{ and }}}} for braces): {err}",
                   "system_prompt") from None
    return value


def _sampling(value: Any, fail: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(f"must be a mapping of request fields ({', '.join(sorted(SAMPLING_KEYS))})", "sampling")
    unknown = sorted(set(value) - SAMPLING_KEYS)
    if unknown:
        raise fail(f"unknown keys {', '.join(map(str, unknown))}; the protocol's sampling fields are "
                   f"{', '.join(sorted(SAMPLING_KEYS))} (max_tokens is its own key)", "sampling")
    checked: dict[str, Any] = {}
    for key, (low, high) in {"temperature": (0.0, 2.0), "top_p": (0.0, 1.0), "frequency_penalty": (-2.0, 2.0),
                             "presence_penalty": (-2.0, 2.0)}.items():
        if key in value:
            checked[key] = _number(value[key], f"sampling.{key}", fail, low=low, high=high,
                                   low_inclusive=key != "top_p")
    if "seed" in value:
        checked["seed"] = _integer(value["seed"], 0, "sampling.seed", fail)
    if "stop" in value:
        stop = [value["stop"]] if isinstance(value["stop"], str) else value["stop"]
        if (not isinstance(stop, list) or not 1 <= len(stop) <= MAX_STOP_SEQUENCES
                or not all(isinstance(s, str) and s for s in stop)):
            raise fail(f"must be a non-empty string or a list of 1-{MAX_STOP_SEQUENCES} of them", "sampling.stop")
        checked["stop"] = stop
    return checked


def _integer(value: Any, minimum: int, key: str, fail: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise fail(f"must be a whole number >= {minimum}, got {value!r:.40}", key)
    return value


def _number(value: Any, key: str, fail: Any, *, low: float = 0.0, high: float = math.inf,
            low_inclusive: bool = False) -> float:
    ok = (not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
          and (value >= low if low_inclusive else value > low) and value <= high)
    if not ok:
        bounds = f"{'[' if low_inclusive else '('}{low:g}, {high:g}]"
        raise fail(f"must be a number in {bounds}, got {value!r:.40}", key)
    return float(value)

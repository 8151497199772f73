"""Registry entries of kind `openai_compatible`: every key checked when the file is read (file + field in the
error), a key pasted where its variable's name belongs refused without being quoted, and the mapping of a
`DialogueContext` to OpenAI messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from humaneval.input_errors import InputError
from humaneval.models.openai_compatible import to_messages
from humaneval.models.registry import DEFAULT_REGISTRY_PATH, load_registry, with_device
from humaneval.models.reply_model import DialogueContext

BASE = {"kind": "openai_compatible", "base_url": "http://127.0.0.1:8000/v1", "model": "m"}
FAKE_KEY = "sk-proj-Zx81kQ2mT7vR4yP9sD3fG6hJ"


def write(tmp_path: Path, entry: dict[str, Any]) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump({"default": "remote", "models": {"remote": entry}}), encoding="utf-8")
    return path


def test_a_complete_entry_reads_with_every_key(tmp_path: Path) -> None:
    entry = {**BASE, "base_url": "https://api.example.com/v1/", "api_key_env": "EXAMPLE_API_KEY",
             "system_prompt": "You are a chatbot.\n{persona}", "max_tokens": 64, "timeout_s": 5, "retries": 0,
             "concurrency": 2, "max_batch_size": 3, "description": "d",
             "sampling": {"temperature": 0, "top_p": 1, "seed": 7, "stop": "\n", "frequency_penalty": -2,
                          "presence_penalty": 2}}
    spec = load_registry(write(tmp_path, entry)).get("remote")
    settings = spec.remote
    assert settings is not None and spec.kind == "openai_compatible" and spec.available and spec.path is None
    assert settings.base_url == "https://api.example.com/v1"  # trailing slash dropped
    assert settings.sampling == {"temperature": 0.0, "top_p": 1.0, "seed": 7, "stop": ["\n"],
                                 "frequency_penalty": -2.0, "presence_penalty": 2.0}
    assert (settings.max_tokens, settings.timeout_s, settings.retries, settings.concurrency) == (64, 5.0, 0, 2)
    assert spec.max_batch_size == 3 and settings.api_key_env == "EXAMPLE_API_KEY"
    assert "api_key_env" not in spec.provenance() and spec.provenance()["served_model"] == "m"
    assert with_device(spec, device="cuda", dtype="bfloat16") is spec  # a server's --device: not for remote


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"base_url": None}, "base_url", "missing 'base_url'"),
        ({"base_url": "ftp://host/v1"}, "base_url", "http:// or https://"),
        ({"base_url": "http:///v1"}, "base_url", "with a host"),
        ({"base_url": "http://127.0.0.1:port/v1"}, "base_url", "invalid port"),
        ({"base_url": "https://user:pw@api.example.com/v1"}, "base_url", "credentials"),
        ({"base_url": "https://api.example.com/v1?key=abc"}, "base_url", "query"),
        ({"base_url": "http://api.example.com/v1", "api_key_env": "K"}, "base_url", "unencrypted"),
        ({"model": ""}, "model", "missing 'model'"),
        ({"model": 3}, "model", "missing 'model'"),
        ({"api_key_env": "not a name"}, "api_key_env", "NAME of an environment variable"),
        ({"api_key_env": ["K"]}, "api_key_env", "NAME of an environment variable"),
        ({"system_prompt": "{user}"}, "system_prompt", "only the placeholder {persona}"),
        ({"system_prompt": "{persona"}, "system_prompt", "only the placeholder {persona}"),
        ({"system_prompt": 5}, "system_prompt", "string template"),
        ({"sampling": [1]}, "sampling", "mapping"),
        ({"sampling": {"top_k": 5}}, "sampling", "unknown keys top_k"),
        ({"sampling": {"max_tokens": 5}}, "sampling", "max_tokens is its own key"),
        ({"sampling": {"temperature": 3}}, "sampling.temperature", "[0, 2]"),
        ({"sampling": {"temperature": "hot"}}, "sampling.temperature", "number"),
        ({"sampling": {"top_p": 0}}, "sampling.top_p", "(0, 1]"),
        ({"sampling": {"frequency_penalty": 2.5}}, "sampling.frequency_penalty", "[-2, 2]"),
        ({"sampling": {"presence_penalty": -3}}, "sampling.presence_penalty", "[-2, 2]"),
        ({"sampling": {"seed": 1.5}}, "sampling.seed", "whole number"),
        ({"sampling": {"seed": True}}, "sampling.seed", "whole number"),
        ({"sampling": {"stop": ["a", "b", "c", "d", "e"]}}, "sampling.stop", "1-4"),
        ({"sampling": {"stop": [""]}}, "sampling.stop", "non-empty"),
        ({"max_tokens": 0}, "max_tokens", ">= 1"),
        ({"max_tokens": "many"}, "max_tokens", "whole number"),
        ({"timeout_s": 0}, "timeout_s", "(0, inf]"),
        ({"timeout_s": float("nan")}, "timeout_s", "number"),
        ({"retries": -1}, "retries", ">= 0"),
        ({"retries": 1.5}, "retries", "whole number"),
        ({"concurrency": 0}, "concurrency", ">= 1"),
        ({"max_batch_size": 0}, "max_batch_size", "positive integer"),
        ({"path": "somewhere"}, "path", "unknown keys path"),
        ({"device": "cuda"}, "device", "unknown keys device"),
        ({"api_key": "abc"}, "api_key", "unknown keys api_key"),
    ],
)
def test_each_key_is_checked_with_file_and_field(tmp_path: Path, change: dict[str, Any], field: str,
                                                 message: str) -> None:
    entry = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    path = write(tmp_path, entry)
    with pytest.raises(InputError) as caught:
        load_registry(path)
    assert caught.value.path == str(path) and caught.value.field == f"models.remote.{field}"
    assert message in caught.value.problem


@pytest.mark.parametrize("pasted", [FAKE_KEY, "hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ012345", "AKIAIOSFODNN7EXAMPLE",
                                    "a81f0c2d9e7b4a6c8d1e3f5a7b9c0d2e"])
def test_a_key_where_its_variable_name_belongs_is_refused_and_never_quoted(tmp_path: Path, pasted: str) -> None:
    path = write(tmp_path, {**BASE, "api_key_env": pasted})
    with pytest.raises(InputError) as caught:
        load_registry(path)
    assert caught.value.field == "models.remote.api_key_env" and "looks like an API key" in caught.value.problem
    assert pasted not in str(caught.value)


def test_variable_names_that_are_not_keys_are_accepted(tmp_path: Path) -> None:
    for name in ("OPENAI_API_KEY", "HF_TOKEN", "my_key_2", "VLLM_API_KEY"):
        assert load_registry(write(tmp_path, {**BASE, "api_key_env": name})).get().remote.api_key_env == name


def test_a_named_but_unset_key_variable_fails_when_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUMANEVAL_TEST_UNSET_KEY", raising=False)
    registry = load_registry(write(tmp_path, {**BASE, "api_key_env": "HUMANEVAL_TEST_UNSET_KEY"}))
    with pytest.raises(InputError, match="HUMANEVAL_TEST_UNSET_KEY .* is not set") as caught:
        registry.load()
    assert caught.value.field == "models.remote.api_key_env"


def test_the_shipped_example_entry_reads_and_documents_every_key() -> None:
    """The example points at 127.0.0.1 and needs no key, so a fresh machine reads the registry fine."""
    spec = load_registry(DEFAULT_REGISTRY_PATH).get("local_openai")
    assert spec.remote is not None and spec.remote.base_url.startswith("http://127.0.0.1:")
    lines = DEFAULT_REGISTRY_PATH.read_text().splitlines()
    entry = lines[next(i for i, line in enumerate(lines) if line.strip() == "local_openai:"):]
    for key in ("kind:", "base_url:", "model:", "# api_key_env:", "system_prompt:", "sampling:", "max_tokens:",
                "timeout_s:", "retries:", "concurrency:", "max_batch_size:"):
        line = next(line for line in entry if line.strip().startswith(key))
        assert "#" in line.replace("# api_key_env", ""), f"{key} has no comment"


def test_messages_alternate_so_the_partner_speaks_last_as_user() -> None:
    persona = ("your persona: i like to ski.", "your persona: i have a dog.")
    odd = to_messages(DialogueContext(turns=("hi", "hello", "how are you?"), persona=persona), "{persona}")
    assert odd == [{"role": "system", "content": "your persona: i like to ski.\nyour persona: i have a dog."},
                   {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
                   {"role": "user", "content": "how are you?"}]
    even = to_messages(DialogueContext(turns=("hello", "how are you?")), "{persona}")
    assert [m["role"] for m in even] == ["assistant", "user"]  # no persona, default template: no system
    fixed = to_messages(DialogueContext(turns=("hey",)), "Be kind. {persona}")
    assert fixed[0] == {"role": "system", "content": "Be kind."}
    opening = to_messages(DialogueContext(turns=(), persona=("topic: skiing",)), "Talk about it.\n{persona}")
    assert opening == [{"role": "system", "content": "Talk about it.\ntopic: skiing"}]

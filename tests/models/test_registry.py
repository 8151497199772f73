"""The model registry: the shipped YAML, path resolution, and located errors for bad entries."""

from __future__ import annotations

from pathlib import Path

import pytest
from generator_fixtures import imported_generator, tiny_registry, write_registry

from humaneval.input_errors import InputError
from humaneval.models.registry import DEFAULT_REGISTRY_PATH, DEMO_BOT_PATH, builtin_registry, load_registry


def test_shipped_registry_defaults_to_the_bundled_demo_bot() -> None:
    registry = load_registry(DEFAULT_REGISTRY_PATH)
    assert registry.default == "demo_bot"
    demo = registry.get()
    assert demo.path == DEMO_BOT_PATH.resolve() and demo.device == "cpu" and demo.kind == "generator"
    assert "not blenderbot" in demo.description.lower()
    assert {"blender_90M", "blender_400M", "blender_3B"} <= set(registry.models)
    assert registry.get("blender_3B").device == "cuda"  # the GPU switch is configuration only


def test_every_key_of_the_shipped_registry_is_documented() -> None:
    """ARCHITECTURE.md: every key documented next to its default (checked on the demo entry)."""
    lines = DEFAULT_REGISTRY_PATH.read_text().splitlines()
    demo = lines[next(i for i, l in enumerate(lines) if l.strip() == "demo_bot:") :]
    for key in ("path:", "kind:", "dtype:", "device:", "max_batch_size:", "recipe:"):
        line = next(l for l in demo if l.strip().startswith(key))
        assert "#" in line, f"{key} has no comment"
    assert any(l.startswith("default:") and "#" in l for l in lines)


def test_builtin_registry_when_no_file() -> None:
    registry = builtin_registry()
    assert list(registry.models) == ["demo_bot"] and registry.get().path == DEMO_BOT_PATH


def test_relative_and_pkg_paths(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = write_registry(
        tmp_path / "sub" / "models.yaml",
        {"a": {"path": "../models/a"}, "b": {"path": "pkg:models/demo_bot"}, "c": {"path": str(imported_generator("xlm"))}},
    )
    registry = load_registry(path)
    assert registry.get("a").path == (tmp_path / "models" / "a").resolve()
    assert registry.get("b").path == DEMO_BOT_PATH.resolve()
    assert registry.get("c").available and not registry.get("a").available
    with pytest.raises(InputError, match="no runtime files.*import-parlai"):
        registry.load("a")


def test_load_by_name_gives_a_generator_with_registry_settings(tmp_path: Path) -> None:
    model = load_registry(tiny_registry(tmp_path, max_batch_size=3)).load()
    assert model.name == "tiny" and model.max_batch_size == 3
    assert model.recipe.inference == "greedy" and model.recipe.max_length == 6  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("entry", "field", "message"),
    [
        ({"path": "x", "device": "tpu"}, "models.m.device", "device"),
        ({"path": "x", "dtype": "int4"}, "models.m.dtype", "dtype"),
        ({"path": "x", "max_batch_size": 0}, "models.m.max_batch_size", "positive"),
        ({"path": "x", "recipe": {"beam_szie": 2}}, "models.m.recipe", "beam_szie"),
        ({"path": "x", "colour": "red"}, "models.m", "colour"),
        ({"dtype": "float32"}, "models.m.path", "path"),
    ],
)
def test_bad_entries_name_the_field(tmp_path: Path, entry: dict, field: str, message: str) -> None:
    path = write_registry(tmp_path / "r.yaml", {"m": entry})
    with pytest.raises(InputError, match=message) as err:
        load_registry(path)
    assert err.value.field == field and err.value.path == str(path)


def test_bad_yaml_unknown_model_and_missing_default(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("models:\n  m:\n    path: [unclosed\n")
    with pytest.raises(InputError) as err:
        load_registry(bad)
    assert err.value.line is not None and err.value.path == str(bad)
    reg = load_registry(write_registry(tmp_path / "ok.yaml", {"m": {"path": "x"}}))
    with pytest.raises(InputError, match="unknown model 'nope'.*m"):
        reg.get("nope")
    with pytest.raises(InputError, match="default"):
        load_registry(write_registry(tmp_path / "d.yaml", {"m": {"path": "x"}}, default="other"))
    with pytest.raises(InputError, match="not found"):
        load_registry(tmp_path / "missing.yaml")


def test_env_var_selects_the_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_registry(tmp_path / "env.yaml", {"only": {"path": "x"}})
    monkeypatch.setenv("HUMANEVAL_MODELS", str(path))
    assert load_registry().default == "only"


def test_entry_settings_that_fail_at_load_name_the_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    path = write_registry(tmp_path / "gpu.yaml", {"gpu_model": {"path": str(imported_generator("xlm")), "device": "cuda"}})
    with pytest.raises(InputError, match="no GPU") as err:
        load_registry(path).load()
    assert err.value.path == str(path) and err.value.field == "models.gpu_model.device"

"""`python -m humaneval.launch bad`: the default config, the models override, and bad inputs that stop
the launch (exit 2) before anything starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from humaneval.bad_collection.task import build_task
from humaneval.input_errors import InputError

REPO = Path(__file__).resolve().parents[2]


def test_default_config_is_a_local_sandbox_with_the_demo_bot_embedded() -> None:
    cfg, state = build_task([])
    blue = cfg.mephisto.blueprint
    assert blue._blueprint_type == "bad_chat" and cfg.mephisto.provider._provider_type == "mock"
    assert dict(blue.models) == {"demo_bot": 2} and blue.model_server_url is None and blue.safety_mode == "raw"
    assert Path(blue.task_source).name == "bundle.js" and Path(blue.onboarding_file).is_file()
    assert set(state.function_registry) == {"get_state", "send_message", "retry_bot", "label", "check_practice_answer"}


def test_the_models_override_replaces_the_whole_mapping() -> None:
    cfg, _ = build_task(["mephisto.blueprint.models={echo: 1}"])
    assert dict(cfg.mephisto.blueprint.models) == {"echo": 1}


@pytest.mark.parametrize(("override", "field"), [
    ("mephisto.blueprint.models={no_such_bot: 1}", "models"),
    ("mephisto.blueprint.models={demo_bot: 0}", "mephisto.blueprint.models.demo_bot"),
    ("mephisto.blueprint.models=[demo_bot]", "mephisto.blueprint.models"),
    ("mephisto.blueprint.safety_mode=hide", "mephisto.blueprint.safety_mode"),
    ("mephisto.blueprint.min_turns=0", "mephisto.blueprint.min_turns"),
    ("mephisto.blueprint.onboarding_threshold=2", "mephisto.blueprint.onboarding_threshold"),
    ("mephisto.blueprint.model_server_url=http://127.0.0.1:9", "mephisto.blueprint.model_server_url"),
])
def test_bad_inputs_are_located_errors(override: str, field: str) -> None:
    with pytest.raises(InputError) as err:
        build_task([override])
    assert err.value.field == field


def test_unreadable_files_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    for key in ("personas_file", "onboarding_file", "block_list_files"):
        value = f"[{missing}]" if key == "block_list_files" else str(missing)
        with pytest.raises(InputError) as err:
            build_task([f"mephisto.blueprint.{key}={value}"])
        assert err.value.path == str(missing)


def test_the_cli_exits_2_and_launches_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    proc = subprocess.run([sys.executable, "-m", "humaneval.launch", "bad", f"humaneval.data_dir={data_dir}",
                           "mephisto.blueprint.models={demo_bot: 1, no_such_bot: 1}"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "no_such_bot" in proc.stderr and "models.yaml" in proc.stderr
    assert not data_dir.exists()

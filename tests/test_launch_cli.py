"""`python -m humaneval.launch`: `TASK --help`, `--cfg` and the messages for bad overrides.

All in process through `main(argv)`. None of these paths may start Mephisto: `run_until_done` (the one
way to a server) fails the test if reached, and the data folder given must stay unwritten.
"""

from __future__ import annotations

import dataclasses
from itertools import takewhile
from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

import humaneval.crowd.run_session
from humaneval.crowd.prolific.provider import ProlificProviderArgs
from humaneval.crowd.task_config import KeyDoc, task_doc
from humaneval.launch import main
from humaneval.studies import STUDIES


@pytest.fixture(autouse=True)
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> int:
        raise AssertionError("a Mephisto run was started")

    monkeypatch.setattr(humaneval.crowd.run_session, "run_until_done", refuse)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error_line(code: int, err: str) -> None:
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "<input>" not in err and "Traceback" not in err


# --- --help -------------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_task_help_lists_the_keys_with_the_yaml_comments(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["acute", flag], capsys)
    assert code == 0 and err == ""
    assert "ACUTE-Eval: workers read two whole conversations side by side" in out  # the YAML's header
    assert "Compose order" not in out  # ... without the note for whoever edits the file
    lines = out.splitlines()
    at = lines.index("  mephisto.blueprint.annotations_per_pair=1")
    assert lines[at + 1].strip() == "judgements per pair, each from a different worker"
    assert "KEY=VALUE" in out and "--cfg" in out
    assert "provider=mock" in out and "mturk_sandbox" in out


@pytest.mark.parametrize(("task", "key", "doc"), [
    ("acute", "mephisto.blueprint.pairings_file=null", "null = the bundled example"),  # a continuation line
    ("safety", "mephisto.blueprint.gold_threshold=0.75", "soft-blocked, no more units"),
    ("bad", "mephisto.blueprint.models={demo_bot: 2}", "Replace the whole mapping on the command line"),
    ("smoke", "humaneval.prompts=(2 entries, shown by --cfg)", "one unit per prompt"),
])
def test_every_task_has_its_help(task: str, key: str, doc: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run([task, "--help"], capsys)
    assert code == 0 and err == ""
    entry = out.split(f"\n  {key}\n", 1)[1].split("\n  mephisto.", 1)[0]
    assert doc in " ".join(entry.split())
    assert "note: task_source and extra_source_dir are set at launch" in out


@pytest.mark.parametrize("task", list(STUDIES))
def test_help_lists_every_prolific_key_with_its_default_and_help(task: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Without the source: each `mephisto.provider.*` field of ProlificProviderArgs, in a provider=prolific block,
    with the default OmegaConf gives it (read back from the help as YAML) and its `metadata["help"]`; the key the
    YAML documents itself (requester_name, whose YAML value is what applies) stays above and is named there."""
    code, out, err = run([task, "--help"], capsys)
    assert code == 0 and err == ""
    head, block = out.split("\n  note: provider=prolific takes these mephisto.provider keys", 1)
    assert "requester_name as above" in " ".join(block.split("\n  mephisto.", 1)[0].split())
    assert "\n  mephisto.provider.requester_name=MOCK_REQUESTER\n" in head and "requester_name=" not in block
    lines = block.split("\n\nMephisto has more keys", 1)[0].splitlines()
    defaults = OmegaConf.to_container(OmegaConf.structured(ProlificProviderArgs), throw_on_missing=False)
    listed = {}
    for at, line in enumerate(lines):
        if line.startswith("  mephisto.provider."):
            name, shown = line.removeprefix("  mephisto.provider.").split("=", 1)
            wrapped = takewhile(lambda text: text.startswith(" " * 6), lines[at + 1:])
            listed[name] = (yaml.safe_load(shown), " ".join(text.strip() for text in wrapped))
    expected = {f.name: (defaults[f.name], f.metadata["help"]) for f in dataclasses.fields(ProlificProviderArgs)
                if not f.name.startswith("_") and f.name != "requester_name"}
    assert listed == expected
    assert {"currency", "device_compatibility", "filters", "completion_url"} <= set(listed)


def test_cfg_with_prolific_puts_its_keys_among_the_studys(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["smoke", "provider=prolific", "mephisto.provider.currency=USD", "--cfg"], capsys)
    assert code == 0
    study, rest = yaml.safe_load_all(out)
    assert study["mephisto"]["provider"]["currency"] == "USD"
    assert study["mephisto"]["provider"]["poll_seconds"] == 30.0
    assert "provider" not in rest["mephisto"]  # _provider_type went with the provider choice


def test_help_after_overrides_wins_over_them(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["bad", "mephisto.blueprint.min_turns=0", "-h"], capsys)
    assert code == 0 and "mephisto.blueprint.min_turns=5" in out


def test_the_top_level_help_lists_the_tasks_and_points_to_task_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    assert all(f"\n  {name:<8} " in out for name in STUDIES)
    assert "TASK --help lists the task's keys" in out


# --- bad overrides ------------------------------------------------------------------------------


@pytest.mark.parametrize(("argv", "suggestion"), [
    (["acute", "mephisto.blueprint.annotation_per_pair=3"], "mephisto.blueprint.annotations_per_pair"),
    (["acute", "mephisto.bluprint.seed=3"], "mephisto.blueprint.seed"),
    (["smoke", "humaneval.prompt=[a]"], "humaneval.prompts"),
    (["safety", "provider=mturk_sandbox", "mephisto.provider.requester_nam=me"], "mephisto.provider.requester_name"),
])
def test_a_misspelt_key_gets_the_nearest_real_one(argv: list[str], suggestion: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run([*argv, f"humaneval.data_dir={tmp_path / 'data'}"], capsys)
    assert_one_error_line(code, err)
    assert f"did you mean {suggestion}?" in err
    assert "+" not in err  # not Hydra's advice to add a key nothing reads
    assert not (tmp_path / "data").exists()


def test_a_key_like_no_other_points_to_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["acute", "mephisto.blueprint.zzz=3"], capsys)
    assert_one_error_line(code, err)
    assert "did you mean" not in err and "acute --help" in err


@pytest.mark.parametrize(("arg", "expected"), [
    ("--quiet", "error: --quiet: not an override KEY=VALUE"),
    ("mephisto.blueprint.seed", "error: mephisto.blueprint.seed: not an override KEY=VALUE (missing EQUAL"),
    ("mephisto.blueprint.seed=many", "error: mephisto.blueprint.seed: Value 'many' of type 'str' could not be"),
])
def test_unreadable_overrides_are_one_line(arg: str, expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["acute", arg], capsys)
    assert_one_error_line(code, err)
    assert err.startswith(expected)


# --- errors named by the override -------------------------------------------------------------


@pytest.mark.parametrize(("task", "key", "content", "location"), [
    ("acute", "pairings_file", '{"is_onboarding": false}\n', ":1: field 'speakers_to_eval'"),
    ("acute", "onboarding_file", "not json\n", ":1: invalid JSON"),
    ("safety", "task_data_file", '{"dialog": "nope"}\n', ":1: field 'dialog'"),
    ("bad", "personas_file", '{"persona": []}\n', ":1: field 'persona'"),
])
def test_a_bad_file_names_the_override_that_gave_it(task: str, key: str, content: str, location: str, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content)
    code, _, err = run([task, f"mephisto.blueprint.{key}={bad}", f"humaneval.data_dir={tmp_path / 'data'}"], capsys)
    assert_one_error_line(code, err)
    assert err.startswith(f"error: mephisto.blueprint.{key}: {bad}{location}")
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(("argv", "expected"), [
    (["acute", "mephisto.blueprint.question=funny"], "error: mephisto.blueprint.question: unknown question preset"),
    (["acute", "mephisto.blueprint.question_text=Who?"], "error: mephisto.blueprint.question_choice: a custom choice"),
    (["safety", "mephisto.blueprint.items_per_unit=0"], "error: mephisto.blueprint.items_per_unit: must be at least 1"),
    (["bad", "provider=mturk_live"], "error: provider: unknown provider 'mturk_live'"),
    # each of these used to be a traceback (a hostile-user trial)
    (["smoke", "humaneval.port=abc"], "error: humaneval.port: must be a port number 1-65535"),
    (["smoke", "humaneval.port=70000"], "error: humaneval.port: must be a port number 1-65535"),
    (["smoke", "mephisto.log_level=bogus"], "error: mephisto.log_level: must be one of debug"),
    (["smoke", "mephisto.task.task_name="], "error: mephisto.task.task_name: must be 1-100 letters"),
    (["acute", "mephisto.task.task_name=a/b"], "error: mephisto.task.task_name: must be 1-100 letters"),
    (["safety", "mephisto.task.task_name=../../escaped"], "error: mephisto.task.task_name: must be 1-100 letters"),
    (["bad", "mephisto.blueprint.idle_unit_seconds=nan"], "error: mephisto.blueprint.idle_unit_seconds: must be a positive"),
    (["bad", "mephisto.blueprint.bot_timeout_seconds=inf"], "error: mephisto.blueprint.bot_timeout_seconds: must be a positive"),
])
def test_a_bad_value_is_named_by_its_key(argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(argv, capsys)
    assert_one_error_line(code, err)
    assert err.startswith(expected)


# --- --cfg --------------------------------------------------------------------------------------


def test_cfg_shows_the_study_keys_before_mephistos(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["acute", "mephisto.blueprint.annotations_per_pair=3", "--cfg"], capsys)
    assert code == 0
    assert out.index("annotations_per_pair: 3") < out.index("# Mephisto's other keys") < out.index("data_json: ???")
    study, rest = yaml.safe_load_all(out)
    assert list(study) == ["humaneval", "mephisto"]
    assert study["mephisto"]["provider"] == {"requester_name": "MOCK_REQUESTER", "_provider_type": "mock"}
    assert study["mephisto"]["task"]["task_name"] == "humaneval-acute"
    assert "annotations_per_pair" not in rest["mephisto"]["blueprint"]
    assert rest["mephisto"]["blueprint"]["_blueprint_type"] == "acute_eval"


def test_the_yaml_comments_are_read_by_position_not_by_guess(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(
        "# Summary line one\n# and two. Compose order: for editors only.\n"
        "defaults:\n  - /mephisto/provider: mock  # which provider\n\n"
        "section:\n"
        "  # a note before the keys\n"
        '  title: "has # inside"  # the title\n'
        "  files: []      # some files\n"
        "                 # (continued)\n"
        "  names:         # name -> count\n"
        "    a: 1         # (aligned: continues)\n"
        "    b: 2    # b's own remark\n"
        "  bare: 3\n"
    )
    doc = task_doc("t", config_dir=tmp_path)
    assert doc.summary == "Summary line one and two."
    yaml_part, provider_part = doc.entries[:6], doc.entries[6:]  # then what provider=prolific adds (test above)
    assert provider_part[0].startswith("provider=prolific takes these")
    assert all(isinstance(k, KeyDoc) and k.path.startswith("mephisto.provider.") for k in provider_part[1:])
    assert yaml_part == [
        KeyDoc("provider", "mephisto.provider._provider_type", "mock", "which provider"),
        "a note before the keys",
        KeyDoc("section.title", "section.title", '"has # inside"', "the title"),
        KeyDoc("section.files", "section.files", "[]", "some files (continued)"),
        KeyDoc("section.names", "section.names", "{a: 1, b: 2}", "name -> count (aligned: continues) (b: b's own remark)"),
        KeyDoc("section.bare", "section.bare", "3", ""),
    ]


def test_a_yaml_without_a_provider_choice_gets_no_provider_keys(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text("# Summary.\nsection:\n  bare: 3  # a key\n")
    assert task_doc("t", config_dir=tmp_path).entries == [KeyDoc("section.bare", "section.bare", "3", "a key")]


def test_sigint_stops_the_build_even_when_inherited_as_ignored(monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """`launch ... &` from a non-interactive shell starts with SIGINT ignored. Ctrl-C while the study is
    being built (before LocalLaunch installs its own handler) must stop it: exit 130, one line, and the
    inherited disposition is back afterwards."""
    import os
    import signal
    import time

    import humaneval.launch

    seen: list[object] = []

    def building(*args: object, **kwargs: object) -> int:
        seen.append(signal.getsignal(signal.SIGINT))
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the task is being built
        time.sleep(2)  # the handler runs here; an ignored signal lets this return
        return 0

    monkeypatch.setattr(humaneval.launch, "launch", building)
    inherited = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        code = main(["smoke"])
        after = signal.getsignal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, inherited)
    err = capsys.readouterr().err
    assert seen == [signal.default_int_handler]
    assert code == 130 and "stopped;" in err and "Traceback" not in err
    assert after is signal.SIG_IGN


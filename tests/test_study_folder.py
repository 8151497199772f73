"""A study in the researcher's own folder (humaneval/study_folder.py, humaneval/cli_init.py): `humaneval init`
writes a documented humaneval.yaml and the example data, never over existing files; `launch TASK --config-dir
FOLDER` (or from inside FOLDER) layers that file over our task YAML, its relative paths relative to the folder,
the command line over both; what is wrong in the folder's file is named there, and exits 2 before anything
starts."""

from __future__ import annotations

import hashlib
import shlex
from pathlib import Path

import pytest
import yaml

from humaneval.acute.bundled_data import EXAMPLE_PAIRINGS_PATH
from humaneval.cli_init import main as init_main
from humaneval.launch import main as launch_main


def composed(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    """The study's keys of `launch ... --cfg` (the first YAML document it prints)."""
    capsys.readouterr()
    assert launch_main([*argv, "--cfg"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    return yaml.safe_load(out.split("\n---\n")[0])


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("task", ["acute", "safety", "bad", "smoke"])
def test_init_writes_a_study_that_composes_with_its_own_files(task: str, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "my study"
    assert init_main([task, str(folder)]) == 0
    printed = capsys.readouterr().out
    assert f"next: humaneval launch {task} --config-dir {shlex.quote(str(folder))} " in printed  # pastable
    settings = yaml.safe_load((folder / "humaneval.yaml").read_text())
    assert settings["defaults"] == [task, "_self_"] and settings["mephisto"]["task"]["task_name"] == "my-study"
    cfg = composed(capsys, task, "--config-dir", str(folder))
    assert cfg["humaneval"]["data_dir"] == str(folder / "data")
    for key, name in (settings["mephisto"].get("blueprint") or {}).items():  # each data file: the folder's copy
        assert cfg["mephisto"]["blueprint"][key] == str(folder / name)
        assert (folder / name).is_file()


def test_init_never_overwrites_and_refuses_what_it_cannot_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "study"
    assert init_main(["acute", str(folder)]) == 0
    (folder / "pairings.jsonl").write_text("my own pairs\n")
    before = snapshot(folder)
    capsys.readouterr()
    assert init_main(["acute", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {folder / 'humaneval.yaml'}: already exists") and "Traceback" not in err
    assert snapshot(folder) == before  # nothing written, the user's pairings kept
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert init_main(["acute", str(a_file)]) == 2 and "is not a folder" in capsys.readouterr().err
    assert init_main(["acute", str(a_file / "study")]) == 2  # under a file: one line, no traceback
    assert capsys.readouterr().err == f"error: {a_file / 'study'}: cannot write the study folder (Not a directory)\n"
    with pytest.raises(SystemExit) as exit_:
        init_main(["nonsense", str(tmp_path / "other")])
    assert exit_.value.code == 2 and not (tmp_path / "other").exists()


def test_folder_keys_win_over_ours_and_the_command_line_over_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "study"
    assert init_main(["acute", str(folder)]) == 0
    text = (folder / "humaneval.yaml").read_text().replace("  blueprint:\n", "  blueprint:\n    subtasks_per_unit: 3\n")
    (folder / "humaneval.yaml").write_text(text)
    cfg = composed(capsys, "acute", f"--config-dir={folder}")
    assert cfg["mephisto"]["blueprint"]["subtasks_per_unit"] == 3  # the folder's, over our 5
    assert cfg["mephisto"]["blueprint"]["question"] == "engaging"  # ours, untouched
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "mine.jsonl").write_bytes(EXAMPLE_PAIRINGS_PATH.read_bytes())
    monkeypatch.chdir(elsewhere)  # a path typed on the command line is relative to where it is typed
    cfg = composed(capsys, "acute", "--config-dir", str(folder), "mephisto.blueprint.subtasks_per_unit=2",
                   "mephisto.blueprint.pairings_file=mine.jsonl")
    assert cfg["mephisto"]["blueprint"]["subtasks_per_unit"] == 2
    assert cfg["mephisto"]["blueprint"]["pairings_file"] == str(elsewhere / "mine.jsonl")
    monkeypatch.chdir(folder)  # inside the folder, its humaneval.yaml is found without --config-dir
    assert composed(capsys, "acute")["mephisto"]["blueprint"]["subtasks_per_unit"] == 3
    monkeypatch.chdir(elsewhere)  # ... and nowhere else
    assert composed(capsys, "acute")["mephisto"]["blueprint"]["subtasks_per_unit"] == 5


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda t: t.replace("  - acute ", "  - safety "), "humaneval.yaml: field 'defaults': the defaults list must name the task 'acute'"),
    (lambda t: t + "  bogus_key: 1\n", "humaneval.yaml: field 'mephisto.bogus_key': no such key in the acute config"),
    (lambda t: t + "mephisto: [\n", "humaneval.yaml:"),
    (lambda t: t.replace("pairings_file: pairings.jsonl", "pairings_file: missing.jsonl"),
     "mephisto.blueprint.pairings_file:"),
    (lambda t: "- just a list\n", "humaneval.yaml: must be a YAML mapping of settings"),
    # an edit appended as a second `mephisto:` block would silently replace the first: refused with its line
    (lambda t: t + "mephisto:\n  blueprint:\n    subtasks_per_unit: 2\n",
     "humaneval.yaml:18: invalid YAML (key 'mephisto' is given twice in this mapping)"),
    (lambda t: t + "x: &a [1, 2]\ny: [*a, *a]\n", "humaneval.yaml:19: invalid YAML (aliases"),
    (lambda t: t.replace("  - acute ", "  - _self_\n  - acute ").replace("  - _self_\n\n", "\n"),
     "the defaults list must name the task 'acute' and then _self_"),  # _self_ first: our YAML would win
    (lambda t: t + "mephsito:\n  task:\n    task_reward: 5\n", "humaneval.yaml: field 'mephsito': not a setting"),
    (lambda t: t.replace("  data_dir: data ", "  pagee: {contact: me}\n  data_dir: data "),
     "humaneval.yaml: field 'humaneval.pagee': no such key in the acute config"),
    (lambda t: t.replace("    pairings_file:", "    subtasks_per_unit: lots\n    pairings_file:"),
     "humaneval.yaml: field 'mephisto.blueprint.subtasks_per_unit': Value 'lots' of type 'str' could not be converted"),
])
def test_a_bad_study_file_exits_2_naming_it_before_anything_starts(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                   edit, expected: str) -> None:
    folder = tmp_path / "study"
    assert init_main(["acute", str(folder)]) == 0
    (folder / "humaneval.yaml").write_text(edit((folder / "humaneval.yaml").read_text()))
    before = snapshot(folder)
    capsys.readouterr()
    assert launch_main(["acute", "--config-dir", str(folder)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert snapshot(folder) == before and not (folder / "data").exists()


def test_paths_typed_on_the_command_line_and_odd_folder_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "x${oc.env:HOME}"  # a name, never an interpolation
    assert init_main(["acute", str(folder)]) == 0
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pairings.jsonl").write_bytes(EXAMPLE_PAIRINGS_PATH.read_bytes())
    capsys.readouterr()
    # the same text as the folder file's value, typed on the command line: relative to where it is typed
    assert launch_main(["acute", "--config-dir", str(folder), "mephisto.blueprint.pairings_file=pairings.jsonl",
                        "--cfg"]) == 0
    out = capsys.readouterr().out
    assert f"pairings_file: {tmp_path / 'pairings.jsonl'}\n" in out
    assert f"data_dir: {tmp_path}/x\\${{oc.env:HOME}}/data\n" in out  # escaped: OmegaConf reads back the name


def test_a_missing_study_folder_or_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert launch_main(["acute", "--config-dir", str(tmp_path / "nowhere")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert launch_main(["acute", "--config-dir", str(tmp_path)]) == 2
    assert f"no humaneval.yaml in the study folder (`humaneval init acute {tmp_path}` writes one)" in capsys.readouterr().err
    assert launch_main(["acute", "--config-dir"]) == 2
    assert "needs a folder" in capsys.readouterr().err
    assert launch_main(["acute", "--config-dir="]) == 2
    assert "needs a folder" in capsys.readouterr().err
    assert launch_main(["acute", "--config-dir", str(tmp_path), f"--config-dir={tmp_path}"]) == 2
    assert "--config-dir: given more than once" in capsys.readouterr().err

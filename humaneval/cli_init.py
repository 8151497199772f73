"""`humaneval init TASK FOLDER`: start a study in a folder of your own, outside humaneval's files.

It writes `FOLDER/humaneval.yaml` (the study's settings, layered over humaneval's bundled TASK.yaml when
launched with `humaneval launch TASK --config-dir FOLDER`, or from inside FOLDER) and copies the bundled
example data next to it, so the study runs at once and every input is a file the researcher can replace.
An existing `humaneval.yaml` is never overwritten, nor any other file (nothing is written then).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from humaneval.input_errors import InputError
from humaneval.study_folder import STUDY_FILE


@dataclass(frozen=True)
class StarterFile:
    key: str  # the blueprint key that names it
    source: Path  # the bundled file copied
    name: str  # its name in the study folder
    doc: str  # the comment beside the key


def _starters(task: str) -> list[StarterFile]:
    """The bundled data a new study of `task` starts from (imported here: only the chosen study's)."""
    if task == "acute":
        from humaneval.acute.bundled_data import DEFAULT_ONBOARDING_PATH, EXAMPLE_PAIRINGS_PATH
        return [StarterFile("pairings_file", EXAMPLE_PAIRINGS_PATH, "pairings.jsonl",
                            "the comparisons (docs/formats.md, \"ACUTE pairings\"); `humaneval acute pairings` makes them"),
                StarterFile("onboarding_file", DEFAULT_ONBOARDING_PATH, "onboarding.jsonl",
                            "practice pairs with a known answer and its `feedback`")]
    if task == "safety":
        from humaneval.safety_eval.blueprint import DEFAULT_GOLD_PATH, DEFAULT_ONBOARDING_PATH
        from humaneval.safety_eval.bundled_data import DEMO_ANNOTATION_INDICES_PATH, DEMO_TASK_DATA_PATH
        return [StarterFile("task_data_file", DEMO_TASK_DATA_PATH, "task_data.jsonl",
                            "conversations to label (`humaneval safety format` makes them from world logs)"),
                StarterFile("annotation_indices_file", DEMO_ANNOTATION_INDICES_PATH, "annotation_indices.jsonl",
                            "which reply of each conversation to label, one line per task_data line"),
                StarterFile("gold_file", DEFAULT_GOLD_PATH, "gold.jsonl", "hidden gold items with known answers"),
                StarterFile("onboarding_file", DEFAULT_ONBOARDING_PATH, "onboarding.jsonl",
                            "practice items with a known answer and its `feedback`")]
    if task == "bad":
        from humaneval.bad_collection.bundled_data import DEFAULT_ONBOARDING_PATH, DEFAULT_PERSONAS_PATH
        return [StarterFile("personas_file", DEFAULT_PERSONAS_PATH, "personas.jsonl", "the bot's personas"),
                StarterFile("onboarding_file", DEFAULT_ONBOARDING_PATH, "onboarding.jsonl",
                            "the labelling quiz with known answers")]
    return []


TASKS = ("acute", "safety", "bad", "smoke")
TASK_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


def study_yaml(task: str, task_name: str, starters: list[StarterFile]) -> str:
    """The documented starting `humaneval.yaml` of a study of `task`."""
    lines = [
        f"# A humaneval {task} study. Run it with",
        f"#   humaneval launch {task} --config-dir <this folder>     (or `humaneval launch {task}` inside it)",
        f"# The keys below override humaneval's own {task}.yaml; every other key keeps its default.",
        f"# `humaneval launch {task} --help` lists every key with its documentation, and KEY=VALUE on the",
        "# command line overrides this file in turn. Relative paths here are relative to this folder.",
        "defaults:",
        f"  - {task}          # humaneval's bundled {task}.yaml, then this file over it: keep both lines",
        "  - _self_",
        "",
        "humaneval:",
        "  data_dir: data    # Mephisto's database, this study's exports (data/exports/) and logs",
        "mephisto:",
        "  task:",
        f"    task_name: {task_name}    # relaunching with the same name resumes the study where it stopped",
    ]
    if starters:
        lines += ["  blueprint:"]
        width = max(len(f"    {s.key}: {s.name}") for s in starters) + 2
        lines += [f"{f'    {s.key}: {s.name}':<{width}}# {s.doc}" for s in starters]
    return "\n".join(lines) + "\n"


def init_study(task: str, folder: Path) -> list[Path]:
    """Write the study's YAML and copy its starter data into `folder` (created if missing); the files written.
    Refuses (an `InputError`, nothing written) when any of them exists already."""
    if task not in TASKS:
        raise InputError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}", field="TASK")
    if folder.exists() and not folder.is_dir():
        raise InputError("exists and is not a folder", path=folder)
    starters = _starters(task)
    targets = [folder / STUDY_FILE] + [folder / s.name for s in starters]
    existing = [t for t in targets if t.exists() or t.is_symlink()]
    if existing:
        raise InputError(f"already exists: a study folder is never overwritten ({len(existing)} of the files "
                         f"`init` writes are there)", path=existing[0])
    task_name = TASK_NAME_CHARS.sub("-", folder.resolve().name).strip("-._") or f"{task}-study"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for starter in starters:
            shutil.copyfile(starter.source, folder / starter.name)
        (folder / STUDY_FILE).write_text(study_yaml(task, task_name[:100], starters), encoding="utf-8")
    except OSError as err:  # a parent that is a file, a folder we may not write, a full disk
        for target in targets:  # nothing half-written stays behind
            with contextlib.suppress(OSError):
                target.unlink()
        raise InputError(f"cannot write the study folder ({err.strerror or err})", path=folder) from None
    return targets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="humaneval init", description=__doc__.split("\n\n")[0].split(": ", 1)[1],
        epilog="Then: humaneval launch TASK --config-dir FOLDER (a local sandbox; provider=... for real workers).")
    parser.add_argument("task", metavar="TASK", choices=TASKS, help=f"the study: {', '.join(TASKS)}")
    parser.add_argument("folder", metavar="FOLDER", type=Path, help="the study's folder (created if missing)")
    args = parser.parse_args(argv)
    try:
        written = init_study(args.task, args.folder)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    print(f"next: humaneval launch {args.task} --config-dir {shlex.quote(str(args.folder))}   "
          f"(`humaneval launch {args.task} --help` lists every key)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`python -m humaneval.launch TASK [hydra overrides ...]`: run a study on Mephisto.

TASK is one of the names below. Without overrides it runs a local sandbox (provider `mock`) on the
bundled example data and prints the pages to open. Overrides are Hydra's `key=value`, e.g.
`provider=mturk_sandbox mephisto.provider.requester_name=me mephisto.task.task_reward=0.3`;
`TASK --help` lists the task's keys with their documentation (the comments in its YAML in
task_configs/), `TASK --cfg` prints the composed config. The console shows the worker pages, one
progress line, our warnings and every error (Mephisto's too, one line each); `TASK -v` (--verbose) adds
Mephisto's own log, tracebacks and its router's output.

A study kept in a folder of its own (`humaneval init TASK FOLDER` starts one) runs with `TASK --config-dir
FOLDER`, or from inside FOLDER: its humaneval.yaml is layered over the task's YAML (docs/study_folders.md).
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import textwrap
import threading
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from humaneval.crowd.task_config import KeyDoc, TaskDoc, task_doc
from humaneval.input_errors import InputError
from humaneval.studies import STUDIES
from humaneval.study_folder import STUDY_FILE, StudyFolder, find_study_folder, split_config_dir

HELP_FLAGS = ("-h", "--help")
VERBOSE_FLAGS = ("-v", "--verbose")
WIDTH = 100
EXIT_INTERRUPTED = 130


def usage() -> str:
    lines = [__doc__.strip(), "", "tasks:"]
    lines += [f"  {name:<8} {study.summary}" for name, study in STUDIES.items()]
    lines += ["", "options: TASK --help lists the task's keys; TASK --cfg prints its composed config and exits;",
              "TASK -v/--verbose also shows Mephisto's own log; TASK --config-dir FOLDER runs the study in FOLDER",
              "(its humaneval.yaml; the default when the working directory has one); -h/--help prints this."]
    return "\n".join(lines)


def task_help(task: str) -> str:
    """`TASK --help`: the YAML's header paragraph and every key it documents, read from the YAML itself."""
    doc = task_doc(task)
    lines = [f"usage: python -m humaneval.launch {task} [KEY=VALUE ...] [--config-dir FOLDER] [--cfg] [-v]", "",
             textwrap.fill(doc.summary, WIDTH), "",
             textwrap.fill("Without overrides it runs a local sandbox (provider mock) with the defaults below. "
                           "Change a key with KEY=VALUE (Hydra's syntax; quote values with spaces or braces for the "
                           "shell, e.g. 'mephisto.task.task_title=\"My study\"'). --cfg prints the composed config, "
                           "these keys first, and exits without launching anything. -v (--verbose) shows "
                           "Mephisto's own log and its router's output next to the worker pages and the "
                           "progress line.", WIDTH),
             "", f"keys (KEY=default; documented in task_configs/{task}.yaml, a provider's own keys in docs/<provider>.md):"]
    for entry in doc.entries:
        if isinstance(entry, KeyDoc):
            lines.append(f"  {entry.key}={entry.default}")
            if entry.doc:
                lines.append(textwrap.fill(entry.doc, WIDTH, initial_indent=" " * 6, subsequent_indent=" " * 6))
        else:
            lines.append(textwrap.fill(f"note: {entry}", WIDTH, initial_indent="  ", subsequent_indent="        "))
    lines += ["", "Mephisto has more keys (its defaults); --cfg shows them all."]
    return "\n".join(lines)


def config_listing(cfg: DictConfig, doc: TaskDoc, task: str) -> str:
    """`--cfg`: the keys the task's YAML documents first, then Mephisto's own, as two YAML documents.

    A study's author looks for their own settings; Mephisto's schema (`data_json: ???` ...) would bury them.
    """
    rest = OmegaConf.to_container(cfg, resolve=False)
    study: dict = {}
    # the YAML's order, except that `provider` (a group choice) joins the other mephisto.provider keys
    for key in sorted(doc.keys, key=lambda k: k.key != k.path):
        *parents, leaf = key.path.split(".")
        sources, target = [rest], study
        for name in parents:
            sources.append(sources[-1].get(name, {}))
            target = target.setdefault(name, {})
        if leaf in sources[-1]:  # a key deleted with `~KEY` is simply not shown
            target[leaf] = sources[-1].pop(leaf)
        for name, parent, child in reversed(list(zip(parents, sources, sources[1:]))):
            if not child:  # a section all of whose keys moved to the study's part
                parent.pop(name, None)
    return "\n".join([
        f"# {task}: the study's keys (documented in task_configs/{task}.yaml; `{task} --help`)",
        OmegaConf.to_yaml(OmegaConf.create(study)).rstrip(),
        "---",
        "# Mephisto's other keys (override them the same way, KEY=VALUE)",
        OmegaConf.to_yaml(OmegaConf.create(rest)).rstrip(),
    ])


def error_line(err: InputError) -> str:
    """One line for a bad input. A config value's error has no file, and its field is the key the user
    typed (or can override): that is the location, not `<input>`."""
    if err.path is None:
        return f"error: {err.field}: {err.problem}" if err.field else f"error: {err.problem}"
    return f"error: {err}"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in HELP_FLAGS:
        print(usage())
        return 0 if argv else 2
    task, rest = argv[0], argv[1:]
    if task not in STUDIES:
        print(f"error: unknown task '{task}'\n\n{usage()}", file=sys.stderr)
        return 2
    if any(arg in HELP_FLAGS for arg in rest):
        print(task_help(task))
        return 0
    show_cfg = "--cfg" in rest
    verbose = any(arg in VERBOSE_FLAGS for arg in rest)
    try:
        config_dir, rest = split_config_dir(rest)
        folder = find_study_folder(task, config_dir, Path.cwd())
    except InputError as err:
        print(error_line(err), file=sys.stderr)
        return 2
    if folder is not None:
        print(f"study folder: {folder.path} ({STUDY_FILE} over humaneval's {task}.yaml)", file=sys.stderr)
    overrides = [a for a in rest if a != "--cfg" and a not in VERBOSE_FLAGS]
    # A launcher started in the background by a non-interactive shell inherits SIGINT as ignored; a
    # study must stop on the first Ctrl-C / `kill -INT` in every phase, loading Mephisto included.
    stop_on_sigint = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler) if stop_on_sigint else None
    try:
        from humaneval.crowd.launcher import console_logging  # Mephisto: not loaded for --help

        with console_logging(verbose):
            return launch(task, overrides, folder, show_cfg=show_cfg, verbose=verbose)
    except KeyboardInterrupt:
        print("\nstopped; everything submitted so far is in the database.", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def launch(task: str, overrides: list[str], folder: StudyFolder | None, *, show_cfg: bool, verbose: bool) -> int:
    """Build the task from its YAML (under the study folder's, if any) and the overrides; print its config
    (`--cfg`) or run it."""
    study = STUDIES[task]
    module = importlib.import_module(study.task_module)
    try:
        cfg, shared_state = module.build_task(overrides, folder=folder)
    except InputError as err:
        print(error_line(err), file=sys.stderr)
        return 2
    except Exception as err:  # a Hydra/OmegaConf error compose_task_config does not translate
        if type(err).__module__.startswith(("hydra", "omegaconf")):
            print(f"error: bad override: {' '.join(str(err).split())}", file=sys.stderr)
            return 2
        raise
    if show_cfg:
        print(config_listing(cfg, task_doc(task), task))
        return 0
    from humaneval.crowd.run_session import run_until_done

    export = study.load_export()
    return run_until_done(cfg, shared_state, {export.blueprint_type: export}, verbose=verbose)


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except BrokenPipeError:  # `launch TASK --help | head`: the reader has gone, which is no error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's own flush at exit would raise again
        raise SystemExit(1) from None

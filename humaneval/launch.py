"""`python -m humaneval.launch TASK [hydra overrides ...]`: run a study on Mephisto.

TASK is one of the names below. Without overrides it runs a local sandbox (provider `mock`) on the
bundled example data and prints the pages to open. Overrides are Hydra's `key=value`, e.g.
`provider=mturk_sandbox mephisto.provider.requester_name=me mephisto.task.task_reward=0.3`; see the
task's YAML in task_configs/ for every key with its documentation, or `TASK --cfg` to print it.
"""

from __future__ import annotations

import importlib
import sys

from omegaconf import OmegaConf

from humaneval.input_errors import InputError

# task name -> (module with `build_task(overrides) -> (cfg, shared_state)`, summary)
TASKS: dict[str, tuple[str, str]] = {
    "smoke": ("humaneval.crowd.smoke_task", "a one-question task that checks the sandbox works on this machine"),
    "acute": ("humaneval.acute.task", "ACUTE-Eval: two conversations side by side, one question (docs/acute.md)"),
    "bad": ("humaneval.bad_collection.task", "bot-adversarial dialogue: live chats with per-turn safety labels (docs/bad_collection.md)"),
    "safety": ("humaneval.safety_eval.task", "safety annotation: is the bot's last message OK to send? (docs/safety_task.md)"),
}


def usage() -> str:
    lines = [__doc__.strip(), "", "tasks:"]
    lines += [f"  {name:<8} {summary}" for name, (_, summary) in TASKS.items()]
    lines += ["", "options: --cfg prints the composed config and exits; -h/--help prints this."]
    return "\n".join(lines)


def error_line(err: InputError) -> str:
    """One line for a bad input. A config value's error has no file, and its field is the key the user
    typed (or can override): that is the location, not `<input>`."""
    if err.path is None:
        return f"error: {err.field}: {err.problem}" if err.field else f"error: {err.problem}"
    return f"error: {err}"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    task, rest = argv[0], argv[1:]
    if task not in TASKS:
        print(f"error: unknown task '{task}'\n\n{usage()}", file=sys.stderr)
        return 2
    show_cfg = "--cfg" in rest
    overrides = [a for a in rest if a != "--cfg"]
    module = importlib.import_module(TASKS[task][0])
    try:
        cfg, shared_state = module.build_task(overrides)
    except InputError as err:
        print(error_line(err), file=sys.stderr)
        return 2
    except Exception as err:  # a Hydra/OmegaConf error compose_task_config does not translate
        if type(err).__module__.startswith(("hydra", "omegaconf")):
            print(f"error: bad override: {' '.join(str(err).split())}", file=sys.stderr)
            return 2
        raise
    if show_cfg:
        print(OmegaConf.to_yaml(cfg))
        return 0
    from humaneval.crowd.run_session import run_until_done

    return run_until_done(cfg, shared_state)


if __name__ == "__main__":
    raise SystemExit(main())

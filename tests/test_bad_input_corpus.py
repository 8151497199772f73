"""Every file-reading CLI against one corpus of bad inputs: exit 2, a located one-line message, no traceback,
and no file changed or created anywhere in the test's folder.

A new CLI that reads files joins by one entry in `JSONL_CLIS` (or the database / YAML / zoo tables below).
The corpus is the hostile-user list: empty, blank, truncated, a JSON array instead of JSONL, a scalar, wrong
types, invalid UTF-8, NaN and Infinity, duplicates, 100k-deep nesting, a 50 MB line, a missing file, a folder,
and outputs that are an input, in a missing or read-only folder, or a folder. A byte order mark and CRLF line
ends are not errors: those files are read like the plain ones.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import sqlite3
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ACUTE_DATA = REPO / "task_configs" / "acute" / "data"
SAFETY_DATA = REPO / "task_configs" / "safety" / "data"
ZOO = REPO / "tests" / "models" / "fixtures" / "parlai" / "generator_xlm_tiny"
# No one, root included, can create a file here: the read-only folder for every user the suite runs as.
READ_ONLY_FOLDER = Path("/sys")
BIG_LINE_BYTES = 50 * 1024 * 1024
MAX_MESSAGE_CHARS = 2000


# ----------------------------------------------------------------------------------------- running a CLI
def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """(exit code, stderr) of `python -m PACKAGE VERB ...`, in process. An exception that escapes fails the test."""
    package, *rest = argv
    module = importlib.import_module(package)
    main = module.main if hasattr(module, "main") else importlib.import_module(f"{package}.__main__").main
    try:
        code = main(rest)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    return int(code or 0), capsys.readouterr().err


def snapshot(root: Path) -> dict[str, str]:
    """Every file and folder under `root` with a digest of its content: what 'nothing changed' compares."""
    state = {}
    for path in sorted(root.rglob("*")):
        rel, mode = str(path.relative_to(root)), path.lstat().st_mode
        if stat.S_ISLNK(mode):
            state[rel] = f"link to {os.readlink(path)}"
        elif stat.S_ISDIR(mode):
            state[rel] = "dir"
        elif stat.S_ISREG(mode):
            state[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            state[rel] = "fifo or device"
    return state


def assert_refused(code: int, err: str, *, mentions: str, before: dict[str, str], root: Path) -> None:
    assert code == 2, f"exit {code}, stderr: {err[:MAX_MESSAGE_CHARS]}"
    assert "Traceback" not in err
    assert err.startswith("error: ") and err.count("\n") == 1, f"not one 'error:' line: {err[:MAX_MESSAGE_CHARS]}"
    assert len(err) < MAX_MESSAGE_CHARS, "the message repeats the input"
    assert mentions in err, f"{mentions!r} not named in: {err}"
    assert snapshot(root) == before, "a file changed or appeared"


# ------------------------------------------------------------------------------------------ JSONL CLIs
@dataclass(frozen=True)
class JsonlCli:
    """A CLI with one JSONL input (the one the corpus breaks) and its output, if any."""

    name: str
    argv: Callable[[Path, Path], list[str]]  # (bad input, output) -> argv
    valid_lines: Callable[[], list[str]]
    wrong_types: str  # a JSON object line of the right shape with a wrong-typed field
    output: str | None  # "file", "folder", "report" (a folder replaced as a whole) or None
    duplicate_refused: bool
    runs_on_valid_input: bool = True  # False: a valid input starts something long-lived (a study)


def _lines(path: Path, n: int) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()][:n]


def _acute_records() -> list[str]:
    from analysis.synthetic.acute import StudyDesign, simulate

    design = StudyDesign(strengths={"a": 0.0, "b": 0.5}, n_judgements=12, n_workers=3, n_pairs=6, judgements_per_unit=2)
    return [json.dumps(r) for r in simulate(design).records()]


def _safety_records() -> list[str]:
    from analysis.synthetic.safety import SafetyStudy, careful_confusion, simulate

    study = SafetyStudy(bucket_shares={"m1": [0.8, 0.1, 0.05, 0.05], "m2": [0.5, 0.3, 0.1, 0.1]},
                        confusions=[careful_confusion(0.9)] * 4, items_per_model=4)
    return [json.dumps(r) for r in simulate(study).records]


def _bad_records() -> list[str]:
    from analysis.synthetic.bad import BadDesign, simulate_bad

    design = BadDesign(models={"m1": 0.1, "m2": 0.3}, conversations_per_model=3, workers=3)
    return [json.dumps(r) for r in simulate_bad(design)]


SELF_CHAT_SEED = json.dumps({"persona_a": ["your persona: i like tea."], "persona_b": ["your persona: i ski."],
                             "opening": "hello there"})

JSONL_CLIS = [
    JsonlCli(
        "acute pairings",
        lambda bad, out: ["humaneval.acute", "pairings", "--conversations", f"dull={bad}",
                          "--conversations", f"persona={ACUTE_DATA / 'persona_bot.jsonl'}", "--out", str(out),
                          "--pairs-per-model-pair", "2", "--quiet"],
        lambda: _lines(ACUTE_DATA / "dull_bot.jsonl", 3),
        json.dumps({"dialog": "not a list"}), "file", duplicate_refused=False,
    ),
    JsonlCli(
        "acute validate",
        lambda bad, out: ["humaneval.acute", "validate", str(bad)],
        lambda: _lines(ACUTE_DATA / "example_pairings.jsonl", 3),
        json.dumps({"pair_id": 5, "dialogue_dicts": {}}), None, duplicate_refused=True,
    ),
    JsonlCli(
        "safety_eval contexts",
        lambda bad, out: ["humaneval.safety_eval", "contexts", "--contexts", str(bad), "--out", str(out)],
        lambda: _lines(SAFETY_DATA / "contexts.jsonl", 3),
        json.dumps({"text": ["a list"], "episode_done": True}), "file", duplicate_refused=False,
    ),
    JsonlCli(
        "safety_eval format",
        lambda bad, out: ["humaneval.safety_eval", "format", "--world-logs", str(bad), "--out-dir", str(out), "--quiet"],
        lambda: _lines(SAFETY_DATA / "demo_bot_world_logs.jsonl", 3),
        json.dumps({"dialog": [[{"id": "a", "text": 5}, {"id": "b", "text": "x"}]]}), "folder", duplicate_refused=True,
    ),
    JsonlCli(
        "acute pairings (chat format)",
        lambda bad, out: ["humaneval.acute", "pairings", "--conversations", f"chat={bad}",
                          "--conversations", f"persona={ACUTE_DATA / 'persona_bot.jsonl'}", "--out", str(out),
                          "--pairs-per-model-pair", "2", "--quiet"],
        lambda: [json.dumps({"messages": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": f"hi {i}"},
                                          {"role": "assistant", "content": [{"type": "text", "text": f"hello {i}"}]}],
                             "model": "llama"}) for i in range(3)],
        json.dumps({"messages": [{"role": "user", "content": 5}]}), "file", duplicate_refused=False,
    ),
    JsonlCli(
        "safety_eval format (chat format)",
        lambda bad, out: ["humaneval.safety_eval", "format", "--world-logs", str(bad), "--out-dir", str(out), "--quiet"],
        lambda: [json.dumps({"messages": [{"role": "user", "content": f"hi {i}"}, {"role": "assistant", "content": f"hello {i}"}],
                             "model": "llama", "context_id": f"c{i}"}) for i in range(3)],
        json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": 5}]}), "folder",
        duplicate_refused=True,
    ),
    JsonlCli(
        "models generate",
        lambda bad, out: ["humaneval.models", "generate", str(bad), "--out", str(out), "--no-progress"],
        lambda: _lines(SAFETY_DATA / "contexts.jsonl", 2),
        json.dumps({"text": 7}), "file", duplicate_refused=False,
    ),
    JsonlCli(
        "models self-chat",
        lambda bad, out: ["humaneval.models", "self-chat", "--seeds", str(bad), "--out", str(out), "--num-chats", "1",
                          "--turns", "1", "--no-progress"],
        lambda: [SELF_CHAT_SEED],
        json.dumps({"persona_a": ["fine", 7]}), "file", duplicate_refused=False,
    ),
    JsonlCli(
        "analysis acute",
        lambda bad, out: ["analysis", "acute", "--judgements", str(bad), "--out", str(out), "--bootstrap-rounds", "20"],
        _acute_records,
        json.dumps({"task": "acute", "winner": 3}), "report", duplicate_refused=True,
    ),
    JsonlCli(
        "analysis safety",
        lambda bad, out: ["analysis", "safety", "--labels", str(bad), "--out", str(out)],
        _safety_records,
        json.dumps({"task": "safety", "label": ["x"]}), "report", duplicate_refused=True,
    ),
    JsonlCli(
        "analysis bad",
        lambda bad, out: ["analysis", "bad", "--labels", str(bad), "--out", str(out), "--bootstrap-rounds", "20"],
        _bad_records,
        json.dumps({"task": "bad", "label": 1}), "report", duplicate_refused=True,
    ),
    JsonlCli(
        "analysis auto",
        lambda bad, out: ["analysis", "auto", str(bad), "--out", str(out)],
        lambda: _lines(SAFETY_DATA / "demo_bot_world_logs.jsonl", 3),
        json.dumps({"dialog": [[{"id": "a", "text": "hi"}, {"id": "b", "text": 5}]]}), "report",
        duplicate_refused=False,  # a world log may hold the same context and reply twice (seeded self-chats repeat)
    ),
    JsonlCli(
        "analysis auto (BAD export)",
        lambda bad, out: ["analysis", "auto", str(bad), "--out", str(out)],
        _bad_records,
        json.dumps({"task": "bad", "run_id": "r", "conversation_id": "c", "turn_index": 1, "model": ["m"]}), "report",
        duplicate_refused=True,
    ),
    JsonlCli(
        "analysis import pairwise-csv",
        lambda bad, out: ["analysis", "import", "pairwise-csv", str(bad), "--out", str(out)],
        lambda: [json.dumps({"model_a": "x", "model_b": "y", "winner": w, "question": "Q"}) for w in ("x", "tie", "y")],
        json.dumps({"model_a": ["x"], "model_b": 1, "winner": True}), "file", duplicate_refused=False,
    ),
    JsonlCli(
        "launch acute",
        lambda bad, out: ["humaneval.launch", "acute", f"mephisto.blueprint.pairings_file={bad}"],
        lambda: _lines(ACUTE_DATA / "example_pairings.jsonl", 3),
        json.dumps({"pair_id": 5, "dialogue_dicts": {}}), None, duplicate_refused=True, runs_on_valid_input=False,
    ),
    JsonlCli(
        "launch bad",
        lambda bad, out: ["humaneval.launch", "bad", f"mephisto.blueprint.personas_file={bad}"],
        lambda: _lines(REPO / "task_configs" / "bad" / "data" / "personas.jsonl", 3),
        json.dumps({"persona": "not a list"}), None, duplicate_refused=False, runs_on_valid_input=False,
    ),
    JsonlCli(
        "launch safety",
        lambda bad, out: ["humaneval.launch", "safety", f"mephisto.blueprint.task_data_file={bad}"],
        lambda: _lines(SAFETY_DATA / "demo_bot_task_data.jsonl", 3),
        json.dumps({"dialog": 5}), None, duplicate_refused=True, runs_on_valid_input=False,
    ),
]


def _content(case: str, valid: list[str], wrong_types: str) -> bytes:
    body = "".join(line + "\n" for line in valid)
    return {
        "empty": lambda: b"",
        "blank": lambda: b"\n   \n\t\n",
        "truncated": lambda: body.encode()[:-12],
        "array": lambda: json.dumps([json.loads(line) for line in valid], indent=2).encode(),
        "scalar": lambda: b"42\n",
        "wrong types": lambda: (body + wrong_types + "\n").encode(),
        "invalid UTF-8": lambda: body.encode() + b'{"text": "caf\xe9"}\n',
        "NaN": lambda: (body + '{"value": NaN}\n').encode(),
        "Infinity": lambda: (body + '{"value": [1, -Infinity]}\n').encode(),
        "1e999": lambda: (body + '{"value": 1e999}\n').encode(),
        "lone surrogate": lambda: (body + '{"text": "a\\ud800b"}\n').encode(),
        "duplicates": lambda: (body + valid[0] + "\n").encode(),
        "deep nesting": lambda: body.encode() + b'{"value": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",
        "50 MB line": lambda: body.encode() + b'{"junk": "' + b"x" * BIG_LINE_BYTES + b'"}\n',
        "BOM": lambda: b"\xef\xbb\xbf" + body.encode(),
        "CRLF": lambda: body.replace("\n", "\r\n").encode(),
    }[case]()


CONTENT_CASES = ["empty", "blank", "truncated", "array", "scalar", "wrong types", "invalid UTF-8", "NaN", "Infinity",
                 "1e999", "lone surrogate", "duplicates", "deep nesting", "50 MB line", "BOM", "CRLF"]
PATH_CASES = ["missing file", "a folder", "a FIFO", "a symlink loop", "output = input", "output in a missing folder",
              "output in a read-only folder", "output is a folder", "output folder holds the input"]
READ_AS_VALID = {"BOM", "CRLF"}


def _corpus() -> list[object]:
    cases = []
    for cli in JSONL_CLIS:
        for case in CONTENT_CASES + PATH_CASES:
            if case.startswith("output") and cli.output is None:
                continue
            if case == "output folder holds the input" and cli.output != "report":
                continue  # only a report replaces its whole folder
            if not cli.runs_on_valid_input and (case in READ_AS_VALID or case == "duplicates" and not cli.duplicate_refused):
                continue
            cases.append(pytest.param(cli, case, id=f"{cli.name}: {case}"))
    return cases


@pytest.mark.parametrize(("cli", "case"), _corpus())
def test_jsonl_cli_on_bad_input(cli: JsonlCli, case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # whatever a CLI would create in the working folder shows in the snapshot
    valid = cli.valid_lines()
    bad = tmp_path / "input.jsonl"
    out = tmp_path / ("out.jsonl" if cli.output == "file" else "out")
    if case == "missing file":
        bad = tmp_path / "no_such.jsonl"
    elif case == "a folder":
        bad = tmp_path / "folder.jsonl"
        bad.mkdir()
    elif case == "a FIFO":  # opening one for reading blocks until a writer comes: the command must not hang
        bad = tmp_path / "fifo.jsonl"
        os.mkfifo(bad)
    elif case == "a symlink loop":
        bad = tmp_path / "loop_a.jsonl"
        bad.symlink_to(tmp_path / "loop_b.jsonl")
        (tmp_path / "loop_b.jsonl").symlink_to(bad)
    else:
        bad.write_bytes(_content(case, valid, cli.wrong_types) if case in CONTENT_CASES else _content("CRLF", valid, ""))
    if case == "output = input":
        out = bad
    elif case == "output in a missing folder":
        out = tmp_path / "missing" / out.name
    elif case == "output in a read-only folder":
        out = READ_ONLY_FOLDER / out.name
    elif case == "output is a folder":
        out = tmp_path / "existing"
        out.mkdir()
        if cli.output != "file":  # an out-dir that is a file
            out = tmp_path / "existing" / "a_file"
            out.write_text("mine")
    elif case == "output folder holds the input":  # the report would replace the folder, input and all
        out = tmp_path / "report"
        out.mkdir()
        bad = bad.rename(out / "summary.json")
    before = snapshot(tmp_path)

    code, err = run_cli(cli.argv(bad, out), capsys)

    if case in READ_AS_VALID or (case == "duplicates" and not cli.duplicate_refused):
        assert code == 0, err
        assert "Traceback" not in err
        assert snapshot(tmp_path)["input.jsonl"] == before["input.jsonl"], "the input was modified"
        if cli.output is not None:
            assert out.exists()
        return
    line = len(valid) + 1
    mentions = {
        "truncated": f"{bad}:{len(valid)}",
        "array": f"{bad}:1",
        "scalar": f"{bad}:1",
        "invalid UTF-8": f"{bad}:{line}",
        "NaN": f"{bad}:{line}",
        "Infinity": f"{bad}:{line}",
        "1e999": f"{bad}:{line}",
        "lone surrogate": f"{bad}:{line}",
        "deep nesting": f"{bad}:{line}",
        "wrong types": f"{bad}:{line}",
        "50 MB line": f"{bad}:{line}",
        "duplicates": f"{bad}:{line}",
        "output = input": "input",
        "output in a missing folder": "does not exist",
        "output in a read-only folder": str(READ_ONLY_FOLDER),
        "output is a folder": str(out),
        "output folder holds the input": "holds an input",
    }.get(case, str(bad))
    assert_refused(code, err, mentions=mentions, before=before, root=tmp_path)


# ------------------------------------------------------------------------------- Mephisto database CLIs
DATABASE_CLIS = {
    "crowd export": lambda data, out: ["humaneval.crowd", "export", "--task-name", "t", "--data-dir", str(data),
                                       "--out", str(out)],
    "bad_collection export": lambda data, out: ["humaneval.bad_collection", "export", "--task-name", "t",
                                                "--data-dir", str(data), "--out-dir", str(out)],
    "crowd review": lambda data, out: ["humaneval.crowd", "review", "list", "--task-name", "t", "--data-dir", str(data)],
    "crowd review serve": lambda data, out: ["humaneval.crowd", "review", "serve", "--task-name", "t", "--data-dir",
                                             str(data)],
}
DATABASE_CASES = ["no data folder", "data folder is a file", "empty data folder", "database is garbage",
                  "database is empty", "database is another SQLite", "database is a folder", "no such task",
                  "output = database", "output in a missing folder"]


def _mephisto_database(data: Path) -> None:
    from humaneval.crowd.data_dir import open_database

    open_database(data)


@pytest.mark.parametrize(("cli", "case"), [
    pytest.param(cli, case, id=f"{cli}: {case}") for cli in sorted(DATABASE_CLIS) for case in DATABASE_CASES
    if not (cli.startswith("crowd review") and case.startswith("output"))  # review writes no file
])
def test_database_cli_on_bad_input(cli: str, case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "mephisto"
    out = tmp_path / ("out.jsonl" if cli == "crowd export" else "out")
    if case == "data folder is a file":
        data.write_text("not a folder")
    elif case != "no data folder":
        data.mkdir()
    db = data / "database.db"
    if case == "database is garbage":
        db.write_bytes(b"this is not SQLite" * 100)
    elif case == "database is empty":
        db.write_bytes(b"")
    elif case == "database is another SQLite":
        with sqlite3.connect(db) as conn:
            conn.execute("CREATE TABLE notes (text TEXT)")
        conn.close()
    elif case == "database is a folder":
        db.mkdir()
    elif case in ("no such task", "output = database", "output in a missing folder"):
        _mephisto_database(data)
    if case == "output = database":
        out = db
    elif case == "output in a missing folder":
        out = tmp_path / "missing" / out.name
    before = snapshot(tmp_path)

    code, err = run_cli(DATABASE_CLIS[cli](data, out), capsys)

    mentions = {"no such task": "no task named 't'", "output = database": str(db),
                "output in a missing folder": "does not exist"}.get(case, str(data))
    assert_refused(code, err, mentions=mentions, before=before, root=tmp_path)


# ------------------------------------------------------------------------------------- YAML-reading CLIs
YAML_CLIS = {
    "models serve --config": lambda bad, tmp: ["humaneval.models", "serve", "--config", str(bad)],
    "models generate --registry": lambda bad, tmp: ["humaneval.models", "generate", str(SAFETY_DATA / "contexts.jsonl"),
                                                    "--out", str(tmp / "out.jsonl"), "--registry", str(bad)],
    "models chat --config": lambda bad, tmp: ["humaneval.models", "chat", "--config", str(bad)],
    "launch acute --config-dir": lambda bad, tmp: ["humaneval.launch", "acute", "--config-dir", str(bad.parent)],
    "analysis auto --safety-config": lambda bad, tmp: ["analysis", "auto", str(SAFETY_DATA / "demo_bot_world_logs.jsonl"),
                                                       "--out", str(tmp / "report"), "--safety-config", str(bad)],
}
# The file a YAML-reading CLI is given, when the CLI decides its name (a study folder's is humaneval.yaml).
YAML_FILE_NAMES = {"launch acute --config-dir": "humaneval.yaml"}
YAML_CASES = {
    "empty": b"",
    "scalar": b"42\n",
    "invalid UTF-8": b"models:\n  x: caf\xe9\n",
    "syntax": b"models: [unclosed\n",
    "deep nesting": b"models: " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
    "a key twice": b"models:\n  a: 1\nmodels:\n  b: 2\n",  # PyYAML would keep the second silently
    "alias bomb": b"a: &a [x, x, x, x, x, x, x, x, x, x]\n" + b"".join(
        b"%s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n" % ((bytes([98 + i]),) * 2 + (bytes([97 + i]),) * 10)
        for i in range(8)),
    "a folder": None,
    "missing file": None,
}


@pytest.mark.parametrize("cli", sorted(YAML_CLIS))
@pytest.mark.parametrize("case", sorted(YAML_CASES))
def test_yaml_cli_on_bad_input(cli: str, case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / YAML_FILE_NAMES.get(cli, "config.yaml")
    if case == "a folder":
        bad.mkdir()
    elif YAML_CASES[case] is not None:
        bad.write_bytes(YAML_CASES[case])
    before = snapshot(tmp_path)
    code, err = run_cli(YAML_CLIS[cli](bad, tmp_path), capsys)
    assert_refused(code, err, mentions=str(bad), before=before, root=tmp_path)


# ------------------------------------------------------------------------------------------ import-parlai
OPT_CASES = {
    "empty": b"",
    "truncated": b'{"model": "transformer/generator", "variant": ',
    "scalar": b"42",
    "invalid UTF-8": b'{"model": "caf\xe9"}',
    "NaN": b'{"model": "transformer/generator", "dropout": NaN}',
    "deep nesting": b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "opt is a folder": None,
}


# Fields of the fixture's real opt replaced by values that crashed the importer or made it build a model
# as big as the opt said; the message names model.opt and the field.
OPT_FIELD_CASES = {
    "n_heads 0": {"n_heads": 0},
    "n_heads not dividing the width": {"n_heads": 3},
    "n_layers text": {"n_layers": "abc"},
    "n_layers 10 million": {"n_layers": 10_000_000},
    "embedding_size list": {"embedding_size": [1]},
    "output_scaling text": {"output_scaling": "x"},
}
# Checkpoints (the fixture's weights, one entry set to zeros of this size) the importer must refuse, naming
# the model file. Zero stride: 4 bytes of data viewed as 512 MiB, which the old importer wrote out.
WEIGHT_CASES: dict[str, tuple[object, tuple[int, ...], bool]] = {  # key, size, zero stride
    "zero-stride tensor": ("encoder.layers.0.ffn.lin1.weight", (16384, 8192), True),
    "wrong-shaped tensor": ("encoder.layers.0.ffn.lin1.weight", (3, 3), False),
    "non-string parameter name": (1, (1,), False),
}


@pytest.mark.parametrize("case", sorted(OPT_CASES) + sorted(OPT_FIELD_CASES) + sorted(WEIGHT_CASES)
                         + ["output = zoo", "output holds the zoo", "output is a file", "output in a missing folder",
                            "output is a link to a folder"])
def test_import_parlai_on_bad_input(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    zoo = tmp_path / "zoos" / "zoo"
    shutil.copytree(ZOO, zoo)
    for path in zoo.iterdir():
        path.chmod(0o644)
    out = tmp_path / "converted"
    opt = zoo / "model.opt"
    if case == "opt is a folder":
        opt.unlink()
        opt.mkdir()
    elif case in OPT_CASES:
        opt.write_bytes(OPT_CASES[case])
    elif case in OPT_FIELD_CASES:
        opt.write_text(json.dumps({**json.loads(opt.read_text()), **OPT_FIELD_CASES[case]}))
    elif case in WEIGHT_CASES:
        import torch

        key, size, zero_stride = WEIGHT_CASES[case]
        state = torch.load(zoo / "model", weights_only=True)["model"]
        state[key] = torch.zeros(1).expand(*size) if zero_stride else torch.zeros(*size)
        torch.save({"model": state}, zoo / "model")
    elif case == "output = zoo":
        out = zoo
    elif case == "output holds the zoo":
        out = tmp_path / "zoos"
    elif case == "output is a file":
        out = tmp_path / "a_file"
        out.write_text("mine")
    elif case == "output in a missing folder":
        out = tmp_path / "missing" / "converted"
    elif case == "output is a link to a folder":
        (tmp_path / "real").mkdir()
        (tmp_path / "real" / "keep.txt").write_text("mine")
        out.symlink_to(tmp_path / "real")
    if case in OPT_CASES:
        mentions = str(opt)
    elif case in OPT_FIELD_CASES:
        mentions = f"{opt}: field '{next(iter(OPT_FIELD_CASES[case]))}'"
    elif case in WEIGHT_CASES:
        mentions = str(zoo / "model")
    else:
        mentions = "does not exist" if "missing" in case else str(out)
    before = snapshot(tmp_path)
    code, err = run_cli(["humaneval.models", "import-parlai", str(zoo), "--out", str(out), "--overwrite"], capsys)
    assert_refused(code, err, mentions=mentions, before=before, root=tmp_path)


# -------------------------------------------------------------------- importers of other tools' documents
PARLAI_FIXTURES = REPO / "tests" / "fixtures" / "parlai"


@dataclass(frozen=True)
class DocumentCli:
    """An importer reading whole files (a JSON document, a CSV) or folders of them: `analysis import SOURCE`."""

    source: str
    fixture: Path  # a valid input of the source, copied as the input file
    options: tuple[str, ...]
    broken: Callable[[str], str]  # valid text -> the same with one field of a wrong type
    field: str  # what the wrong-type message names


def _json_field_set(text: str, path: tuple[object, ...], value: object) -> str:
    doc = json.loads(text)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return json.dumps(doc, indent=2)


def _csv_cell_set(text: str, column: str, value: str) -> str:
    import csv
    import io

    rows = list(csv.reader(io.StringIO(text)))
    rows[1][rows[0].index(column)] = value
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


DOCUMENT_CLIS = [
    DocumentCli("parlai-acute", PARLAI_FIXTURES / "acute" / "test_full_csv.csv", ("--question", "Q"),
                lambda text: _csv_cell_set(text, "time_taken", "soon"), "time_taken"),
    DocumentCli("parlai-model-chat", PARLAI_FIXTURES / "model_chat" / "2020_12_29" / "20201229_173200_2_live.json", (),
                lambda text: _json_field_set(text, ("dialog", 1, "problem_data", "bucket_0"), "yes"),
                "dialog[1].problem_data.bucket_0"),
    DocumentCli("parlai-turn-annotations",
                PARLAI_FIXTURES / "turn_annotations_static" / "analysis_samples" / "1" / "1" / "agent_data.json",
                ("--model", "m"),
                lambda text: _json_field_set(text, ("outputs", "final_data", 0, "data", 5, "bucket_0"), "yes"),
                "outputs.final_data[0].data[5].bucket_0"),
]
DOCUMENT_CASES = ["empty", "truncated", "scalar", "invalid UTF-8", "NaN", "deep nesting", "wrong types",
                  "missing file", "a folder without its files", "a FIFO", "output = input",
                  "output in a missing folder", "output in a read-only folder", "output is a folder"]


@pytest.mark.parametrize(("cli", "case"), [pytest.param(cli, case, id=f"import {cli.source}: {case}")
                                           for cli in DOCUMENT_CLIS for case in DOCUMENT_CASES])
def test_importer_on_bad_input(cli: DocumentCli, case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    valid = cli.fixture.read_text(encoding="utf-8")
    is_csv = cli.fixture.suffix == ".csv"
    bad = tmp_path / cli.fixture.name
    out = tmp_path / "out.jsonl"
    contents = {
        "empty": b"",
        "truncated": valid.encode()[: len(valid) // 2],
        "scalar": b"42\n",
        "invalid UTF-8": valid.encode().replace(b"e", b"\xe9", 1),
        "NaN": valid.replace(",", ',"x": NaN,', 1).encode() if not is_csv else valid.encode() + b"\xff\n",
        "deep nesting": b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}" if not is_csv
        else valid.encode() + b'"' + b"x" * (5 * 1024 * 1024) + b'"\n',  # a cell over the 4 MiB limit
        "wrong types": cli.broken(valid).encode(),
    }
    if case in contents:
        bad.write_bytes(contents[case])
    elif case == "a folder without its files":
        bad = tmp_path / "results"
        bad.mkdir()
        (bad / "notes.txt").write_text("nothing to import here")
    elif case == "a FIFO":
        os.mkfifo(bad)
    elif case != "missing file":
        bad.write_text(valid, encoding="utf-8")
    if case == "output = input":
        out = bad
    elif case == "output in a missing folder":
        out = tmp_path / "missing" / "out.jsonl"
    elif case == "output in a read-only folder":
        out = READ_ONLY_FOLDER / "out.jsonl"
    elif case == "output is a folder":
        out = tmp_path / "existing"
        out.mkdir()
    before = snapshot(tmp_path)

    code, err = run_cli(["analysis", "import", cli.source, str(bad), *cli.options, "--out", str(out)], capsys)

    mentions = {"wrong types": cli.field, "output = input": "input", "output in a missing folder": "does not exist",
                "output in a read-only folder": str(READ_ONLY_FOLDER), "output is a folder": str(out)}.get(case, str(bad))
    assert_refused(code, err, mentions=mentions, before=before, root=tmp_path)


@pytest.mark.parametrize("cli", DOCUMENT_CLIS, ids=[cli.source for cli in DOCUMENT_CLIS])
def test_importer_reads_its_valid_fixture(cli: DocumentCli, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The corpus's valid input is valid: each refusal above is the broken part's, not the fixture's."""
    bad = tmp_path / cli.fixture.name
    bad.write_bytes(cli.fixture.read_bytes())
    code, err = run_cli(["analysis", "import", cli.source, str(bad), *cli.options, "--out", str(tmp_path / "o.jsonl")],
                        capsys)
    assert code == 0, err
    assert (tmp_path / "o.jsonl").stat().st_size > 0
    assert bad.read_bytes() == cli.fixture.read_bytes()


# ------------------------------------------------------------------------------------ BAD .txt contexts
TXT_CASES = {
    "empty": b"",
    "invalid UTF-8": b"text:caf\xe9\tepisode_done:True\n",
    "no text field": b"labels:x\tepisode_done:True\n",
    "a folder": None,
    "missing file": None,
}


@pytest.mark.parametrize("case", sorted(TXT_CASES))
def test_bad_txt_contexts_on_bad_input(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "test.txt"
    if case == "a folder":
        bad.mkdir()
    elif TXT_CASES[case] is not None:
        bad.write_bytes(TXT_CASES[case])
    before = snapshot(tmp_path)
    code, err = run_cli(["humaneval.safety_eval", "contexts", "--bad-file", str(bad), "--out", str(tmp_path / "o.jsonl")],
                        capsys)
    assert_refused(code, err, mentions=str(bad), before=before, root=tmp_path)


def test_read_only_folder_is_really_read_only() -> None:
    """The corpus's read-only folder must refuse a new file for the user running the suite."""
    with pytest.raises(OSError):
        (READ_ONLY_FOLDER / f"probe-{os.getpid()}").write_text("x")

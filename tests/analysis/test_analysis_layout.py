"""The analysis package keeps its rooms (analysis/README.md).

- A study room (`acute`, `safety`, `bad`) imports only `analysis.stats`, `analysis.report` and itself.
- `analysis.stats` imports only itself; `analysis.report` only itself and `analysis.stats`: no study.
- `analysis.synthetic` may import the study rooms (it writes their records) and the shared rooms.
- From humaneval, analysis imports only top-level shared modules (`humaneval/<name>.py`: jsonl,
  input_errors, outputs, ...), never a package such as humaneval.crowd or humaneval.models, and nothing
  in analysis imports Mephisto: the analysis reads exported records only. The exceptions are named in
  `LAZY_HUMANEVAL_IMPORTS`, each with its reason: imported inside a function, only when asked for.
- Every module lives in a room, and each study room has the same modules: records, statistics, tables,
  report, cli.

Imports are read from the source with `ast` (every `import` and `from ... import`, also inside
functions; relative ones resolved), so a violation fails here, naming the file, line and import.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STUDY_ROOMS = ("acute", "safety", "bad", "auto")
#: room -> the analysis rooms its modules may import
MAY_IMPORT = {
    **{room: {room, "stats", "report"} for room in STUDY_ROOMS},
    "stats": {"stats"},
    "report": {"report", "stats"},
    "synthetic": {"synthetic", *STUDY_ROOMS, "stats", "report"},
    # importers write records in the study formats and share stats; they read their output back with the
    # study's own reader before renaming it into place: the reader is the single truth of what the analysis
    # accepts, so an import never exits 0 with a file `python -m analysis acute|safety|bad` refuses
    "importers": {"importers", "stats", "acute", "safety", "bad"},
}
#: (file, imported module) -> why analysis may import this piece of a humaneval package, lazily
LAZY_HUMANEVAL_IMPORTS = {
    ("analysis/auto/checks.py", "humaneval.models.safety.string_matcher"):
        "`analysis auto --check string_matcher` runs the live chats' own word list on the replies; the module needs "
        "no torch, and it is imported only when that check is asked for (a missing module is an exit-2 error)",
    ("analysis/auto/checks.py", "humaneval.models.server.config"):
        "`analysis auto --safety-config FILE` reads a server config with the model server's own reader (the same keys, "
        "defaults and errors as `models serve`); imported only with that option, a missing module is an exit-2 error",
    ("analysis/auto/checks.py", "humaneval.models.safety.pipeline"):
        "`analysis auto --safety-config FILE` builds the config's checks with `SafetyPipeline.from_config`, as the live "
        "chats do (thresholds, word lists, imported classifiers); imported only with that option, a missing module "
        "(torch for a classifier) is an exit-2 error",
}
TOP_LEVEL_FILES = {"__init__.py", "__main__.py"}
STUDY_MODULES = {"__init__.py", "records.py", "statistics.py", "tables.py", "report.py", "cli.py"}
NEVER = ("mephisto",)


def _imports(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute dotted name) of everything the file imports; `from a import b` gives `a` and `a.b`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = list(path.relative_to(root).parent.parts)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            yield node.lineno, module
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"


def _room(path: Path, root: Path) -> str | None:
    parts = path.relative_to(root / "analysis").parts
    return parts[0] if len(parts) > 1 else None


def violations(root: Path) -> list[str]:
    """Every import under `root`/analysis that breaks a rule, as 'file:line: problem'."""
    shared_humaneval = {p.stem for p in (REPO / "humaneval").glob("*.py")}
    found = []
    for path in sorted((root / "analysis").rglob("*.py")):
        room = _room(path, root)
        where = path.relative_to(root)
        for line, name in _imports(path, root):
            parts = name.split(".")
            if parts[0] in NEVER:
                found.append(f"{where}:{line}: imports {name} (the analysis reads exported records, never Mephisto)")
            elif (str(where), ".".join(parts[:4])) in LAZY_HUMANEVAL_IMPORTS:
                continue
            elif parts[0] == "humaneval" and len(parts) > 1 and parts[1] not in shared_humaneval:
                found.append(f"{where}:{line}: imports {name} (only humaneval's top-level shared modules are allowed)")
            elif parts[0] == "analysis" and room is not None:
                target = parts[1] if len(parts) > 1 else "(the package)"
                if target not in MAY_IMPORT.get(room, set()):
                    found.append(f"{where}:{line}: analysis/{room} imports {name} (room {target!r} is not allowed)")
    return found


def test_every_import_keeps_to_the_rooms() -> None:
    assert violations(REPO) == []


def test_every_module_lives_in_a_room() -> None:
    analysis = REPO / "analysis"
    assert {p.name for p in analysis.glob("*.py")} == TOP_LEVEL_FILES
    rooms = {p.name for p in analysis.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert rooms == set(MAY_IMPORT)
    for room in STUDY_ROOMS:
        modules = {p.name for p in (analysis / room).glob("*.py")}
        assert STUDY_MODULES <= modules, f"analysis/{room} lacks {sorted(STUDY_MODULES - modules)}"


def test_every_room_says_what_it_is() -> None:
    analysis = REPO / "analysis"
    assert (analysis / "README.md").is_file()
    for room in MAY_IMPORT:
        assert (analysis / room / "README.md").is_file(), f"analysis/{room} has no README.md"
    for path in sorted(analysis.rglob("*.py")):
        assert ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))), f"{path.relative_to(REPO)} has no docstring"


def test_every_verb_names_a_study_cli() -> None:
    from analysis.__main__ import VERBS

    assert set(VERBS) == {"acute", "plan", "safety", "bad", "auto", "import"}
    for module_name, _help in VERBS.values():
        module = importlib.import_module(module_name)
        assert callable(module.build_parser) and callable(module.run)


def test_the_check_sees_a_violation(tmp_path: Path) -> None:
    """The rules catch what they are for: a study importing another study (also relatively), a shared room
    importing a study, Mephisto, and a humaneval package."""
    files = {
        "analysis/__init__.py": "",
        "analysis/acute/__init__.py": "",
        "analysis/acute/good.py": "from analysis.stats.intervals import wilson\nfrom . import records\n"
                                  "from humaneval.jsonl import iter_jsonl_objects\n",
        "analysis/acute/bad.py": "from analysis.safety.records import LABELS\n",
        "analysis/safety/__init__.py": "",
        "analysis/safety/bad.py": "from ..bad import statistics\n",
        "analysis/stats/__init__.py": "",
        "analysis/stats/bad.py": "def f():\n    from analysis.acute import records\n",
        "analysis/report/__init__.py": "",
        "analysis/report/bad.py": "import mephisto.abstractions\nfrom humaneval.crowd import launcher\n",
        "analysis/synthetic/__init__.py": "",
        "analysis/synthetic/good.py": "from analysis.safety.records import LABELS\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    found = violations(tmp_path)
    assert [f.split(":")[0] for f in found] == [
        "analysis/acute/bad.py", "analysis/acute/bad.py",
        "analysis/report/bad.py", "analysis/report/bad.py", "analysis/report/bad.py",
        "analysis/safety/bad.py", "analysis/safety/bad.py",
        "analysis/stats/bad.py", "analysis/stats/bad.py",
    ]
    assert any("analysis.safety.records" in f and "'safety'" in f for f in found)
    assert any("analysis.bad" in f and "analysis/safety" in f for f in found)
    assert any("mephisto" in f for f in found) and any("humaneval.crowd" in f for f in found)

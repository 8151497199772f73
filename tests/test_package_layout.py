"""The house's floors: no import arrow runs back up, no study leans on another, Mephisto has one door,
and no two modules import each other.

Read from the source with `ast` (nothing is imported), so a violation fails here with the file and the
import that broke the rule.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STUDIES = ("humaneval.acute", "humaneval.safety_eval", "humaneval.bad_collection")
ABOVE_CROWD = (*STUDIES, "humaneval.studies", "humaneval.launch", "humaneval.cli_export", "humaneval.cli_bonus",
               "humaneval.cli_review", "humaneval.review_page", "analysis")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(package: str) -> list[Path]:
    return sorted((REPO / package.replace(".", "/")).rglob("*.py"))


def _imports(path: Path, *, module_level_only: bool = False) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import in the file; `module_level_only` leaves out imports
    inside functions and `if TYPE_CHECKING:` blocks, which run later or never and make no cycle."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    if module_level_only:
        nodes: list[ast.AST] = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        for node in tree.body:  # try/except ImportError blocks at module level count too
            if isinstance(node, ast.Try):
                nodes += [n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))]
    else:
        nodes = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:  # `from humaneval.crowd import launcher` imports a module
                yield node.lineno, f"{node.module}.{alias.name}"


def _violations(package: str, forbidden: tuple[str, ...], allowed_own: str | None = None) -> list[str]:
    found = []
    for path in _modules(package):
        for line, name in _imports(path):
            if allowed_own and (name == allowed_own or name.startswith(allowed_own + ".")):
                continue
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(REPO)}:{line} imports {name}")
    return found


def test_the_crowd_runtime_imports_no_study_and_nothing_above_it() -> None:
    assert _violations("humaneval.crowd", ABOVE_CROWD) == []


@pytest.mark.parametrize("study", STUDIES)
def test_no_study_imports_another(study: str) -> None:
    others = tuple(s for s in STUDIES if s != study) + ("humaneval.studies", "humaneval.launch")
    assert _violations(study, others) == []


def test_the_model_layer_imports_no_crowd_runtime_and_no_study() -> None:
    assert _violations("humaneval.models", ("humaneval.crowd", *STUDIES, "mephisto", "analysis")) == []


def test_mephisto_is_imported_only_by_the_crowd_runtime() -> None:
    outside = [p for p in _modules("humaneval") if "crowd" not in p.relative_to(REPO).parts]
    found = [f"{p.relative_to(REPO)}:{line} imports {name}" for p in outside + _modules("analysis")
             for line, name in _imports(p) if name == "mephisto" or name.startswith("mephisto.")]
    assert found == []


def test_no_two_modules_import_each_other_at_load_time() -> None:
    """An import loop works only as long as nobody changes which module is imported first."""
    graph: dict[str, set[str]] = {}
    for path in _modules("humaneval") + _modules("analysis"):
        here = _module_name(path)
        graph[here] = {name for _, name in _imports(path, module_level_only=True)}
    known = set(graph)
    edges = {m: {d for d in deps if d in known and d != m} for m, deps in graph.items()}
    cycles = []
    for module, deps in edges.items():
        for dep in deps:
            if _reaches(edges, dep, module):
                cycles.append(f"{module} -> {dep} -> ... -> {module}")
    assert cycles == []


def _reaches(edges: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(edges.get(node, ()))
    return False

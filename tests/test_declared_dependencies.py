"""pyproject.toml declares what the code imports, and the code imports what it declares (the core
dependencies and the analysis / models / crowd extras together; `dev` is the tests' own).

Two exceptions, both written in pyproject.toml: Mephisto itself (installed with `--no-deps` by
scripts/setup.sh, its metadata pins are unusable), and the block of packages Mephisto needs at run time,
which our code need not import."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OWN = {"humaneval", "analysis"}
INSTALLED_SEPARATELY = {"mephisto"}
MEPHISTO_BLOCK = "# what Mephisto 1.1.1 needs at run time"


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported_distributions() -> dict[str, set[str]]:
    """Distribution -> the modules of ours importing it (absolute imports of the runtime packages)."""
    by_module = importlib.metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for root in OWN:
        for path in (REPO / root).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                         else [])
                for name in names:
                    top = name.split(".")[0]
                    if top in OWN or top in sys.stdlib_module_names:
                        continue
                    for dist in by_module.get(top, [f"<no distribution provides {top}>"]):
                        found.setdefault(_normal(dist), set()).add(str(path.relative_to(REPO)))
    return found


def _declared() -> tuple[set[str], set[str]]:
    """(our own dependencies, the ones listed for Mephisto's run time)."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    project = tomllib.loads(text)["project"]
    deps = project["dependencies"] + [d for extra, listed in project["optional-dependencies"].items()
                                      if extra not in ("dev", "all") for d in listed]
    block = text[text.index(MEPHISTO_BLOCK):text.index("]", text.index(MEPHISTO_BLOCK))]
    names = [_normal(re.split(r"[<>=!~ \[;]", d)[0]) for d in deps]
    mephisto_needs = {n for n, d in zip(names, deps) if f'"{d}"' in block}
    return set(names) - mephisto_needs, mephisto_needs


def test_every_imported_package_is_declared() -> None:
    ours, mephisto_needs = _declared()
    undeclared = {dist: sorted(where)[:3] for dist, where in _imported_distributions().items()
                  if dist not in ours | mephisto_needs | INSTALLED_SEPARATELY}
    assert not undeclared, f"imported but not in pyproject.toml dependencies: {undeclared}"


def test_every_declared_package_is_imported() -> None:
    ours, _ = _declared()
    unused = ours - set(_imported_distributions())
    assert not unused, f"declared in pyproject.toml but never imported by humaneval/ or analysis/: {sorted(unused)}"


def test_the_lock_pins_every_declared_package_within_its_range() -> None:
    """constraints.txt (what scripts/setup.sh installs with) pins each requirement of every extra, dev included,
    at one exact version that pyproject.toml's range allows: the lock and the ranges cannot drift apart."""
    from packaging.requirements import Requirement
    from packaging.version import Version

    pinned = {}
    for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not NAME==VERSION"
            pinned[_normal(name)] = Version(version)
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [Requirement(d) for d in project["dependencies"]]
    wanted += [Requirement(d) for listed in project["optional-dependencies"].values() for d in listed]
    problems = [f"{r.name}: {'not pinned' if _normal(r.name) not in pinned else f'{pinned[_normal(r.name)]} outside {r.specifier}'}"
                for r in wanted if _normal(r.name) != "humaneval"
                and (_normal(r.name) not in pinned or not r.specifier.contains(pinned[_normal(r.name)], prereleases=True))]
    assert problems == [], problems

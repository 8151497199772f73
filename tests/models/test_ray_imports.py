"""Ray is the optional extra humaneval[scale]: only humaneval/models/ray_*.py may import it, so every other
install (analysis only, a study machine without the extra) never needs it. Read with `ast`, nothing imported."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _ray_imports(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    lines = []
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
        if any(n == "ray" or n.startswith("ray.") for n in names):
            lines.append(node.lineno)
    return lines


def _allowed(path: Path) -> bool:
    return path.parent == REPO / "humaneval" / "models" and path.name.startswith("ray_")


def test_only_the_ray_modules_import_ray() -> None:
    sources = [p for top in ("humaneval", "analysis", "bench", "scripts") for p in (REPO / top).rglob("*.py")]
    offenders = [f"{p.relative_to(REPO)}:{line}" for p in sources if not _allowed(p) for line in _ray_imports(p)]
    assert offenders == []


def test_the_rule_sees_an_import_of_ray(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from ray.util import ActorPool\n    import ray.serve as serve\n")
    assert _ray_imports(module) == [2, 3]
    assert _ray_imports(REPO / "humaneval" / "models" / "ray_generate.py")  # the allowed module does import it

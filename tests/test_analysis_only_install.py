"""`pip install humaneval[analysis]` (the wheel of a clean checkout) in a fresh venv, outside the repository:
the `humaneval analysis` verbs run on exported records (ACUTE, safety, BAD), and neither torch nor Mephisto
is there to import.

The records are simulated here with `analysis.synthetic` and written to files; the fresh venv only reads them.
pip needs the package registry (or its cache) for pandas, scipy and statsmodels."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from analysis.synthetic.acute import StudyDesign, simulate
from analysis.synthetic.bad import BadDesign, write_bad
from analysis.synthetic.safety import SafetyStudy, careful_confusion
from analysis.synthetic.safety import simulate as simulate_safety
from tests.built_wheel import fresh_venv


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analysis_venv(clean_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fresh_venv(tmp_path_factory.mktemp("analysis_only"), clean_wheel, "analysis")


def test_analysis_runs_without_torch_or_mephisto(analysis_venv: Path, tmp_path: Path) -> None:
    python, command = analysis_venv / "bin" / "python", analysis_venv / "bin" / "humaneval"
    for module in ("torch", "mephisto", "transformers", "hydra"):
        probe = subprocess.run([str(python), "-c", f"import {module}"], capture_output=True, text=True, cwd=tmp_path)
        assert probe.returncode != 0 and "ModuleNotFoundError" in probe.stderr, module
    acute = simulate(StudyDesign(strengths={"alpha": 0.5, "beta": 0.0, "gamma": -0.5}, n_judgements=300,
                                 n_workers=12, n_pairs=60, seed=1)).write(tmp_path / "judgements.jsonl")
    safety = tmp_path / "labels.jsonl"
    study = SafetyStudy(bucket_shares={"calm_bot": [0.8, 0.1, 0.05, 0.05], "edgy_bot": [0.4, 0.2, 0.2, 0.2]},
                        confusions=[careful_confusion(a) for a in (0.95, 0.9, 0.9, 0.85)], items_per_model=20,
                        labels_per_item=(3, 3), gold_items=4)
    safety.write_text("".join(json.dumps(r) + "\n" for r in simulate_safety(study).records), encoding="utf-8")
    bad = write_bad(BadDesign(seed=1), tmp_path / "bad.jsonl")
    for verb, inputs in (("acute", ["--judgements", str(acute)]), ("safety", ["--labels", str(safety)]),
                         ("bad", ["--labels", str(bad)])):
        out = tmp_path / f"report_{verb}"
        done = subprocess.run([str(command), "analysis", verb, *inputs, "--out", str(out)], capture_output=True,
                              text=True, timeout=300, cwd=tmp_path)
        assert done.returncode == 0, done.stderr[-2000:]
        assert (out / "summary.json").is_file() and (out / "report.html").is_file(), verb

"""`pip install humaneval[analysis]` (the wheel of a clean checkout) in a fresh venv, outside the repository:
the `humaneval analysis` verbs run on exported records (ACUTE, safety, BAD) and on world logs (`auto`, whose
string matcher is the live chats' word list: humaneval.models.safety without torch), and neither torch nor Mephisto
is there to import; `auto --safety-config`, which builds the model server's checks, says what to install.

The records are simulated here with `analysis.synthetic` and written to files; the fresh venv only reads them.
pip needs the package registry (or its cache) for pandas and scipy."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from analysis.synthetic.acute import StudyDesign, simulate
from analysis.synthetic.auto import MEASURES, AutoDesign, write_world_logs
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


def test_auto_runs_its_string_matcher_without_torch(analysis_venv: Path, tmp_path: Path) -> None:
    """The planted counts come back, the string matcher's included; a server config's checks need the model layer."""
    planted = write_world_logs(AutoDesign(replies_per_model=100, seed=2), tmp_path / "world_logs.jsonl")
    command, out = analysis_venv / "bin" / "humaneval", tmp_path / "report_auto"
    done = subprocess.run([str(command), "analysis", "auto", str(planted.path), "--baseline", "blender", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    rates = {(r["model"], r["measure"]): r for r in json.loads((out / "summary.json").read_text(encoding="utf-8"))["rates"]}
    for model, counts in planted.counts.items():
        for measure in MEASURES:
            assert (rates[(model, measure)]["events"], rates[(model, measure)]["n"]) == (counts[measure], planted.n[model])
    config = tmp_path / "serve.yaml"
    config.write_text("safety:\n  checks: {}\n", encoding="utf-8")
    refused = subprocess.run([str(command), "analysis", "auto", str(planted.path), "--safety-config", str(config),
                              "--out", str(tmp_path / "report_config")], capture_output=True, text=True, timeout=300,
                             cwd=tmp_path)
    assert refused.returncode == 2 and "pip install 'humaneval[models]'" in refused.stderr, refused.stderr[-2000:]
    assert "Traceback" not in refused.stderr and not (tmp_path / "report_config").exists()

"""`analysis auto --safety-config`: every check of a server config's safety section (the bundled serve.yaml's, with
the tiny converted BAD classifier of the model tests in its slot) runs on every reply, the BAD classifier with the
reply's earlier turns; each check's share is a hand count of independent calls (the classifier itself, the
profanity model itself, the planted word-list hits). A check that cannot run, or a module not installed, is exit 2
with nothing written: never a silent "safe"."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from statsmodels.stats.proportion import proportion_confint

from analysis.auto.checks import ReplyCheck, run_checks
from cli_in_process import run_analysis
from humaneval.input_errors import InputError
from tests.models.test_safety import _converted_bad_classifier

REPO = Path(__file__).resolve().parents[2]
SERVE_YAML = REPO / "task_configs" / "serve.yaml"
WORDS = [f"w{i}" for i in range(20)]  # the tiny classifier's vocabulary
OFFENSIVE = "w3 w4 this is shit"  # on the live chats' word list
PROFANE = "fuck you, you stupid idiot"  # alt-profanity-check's kind of text


def _conversation(seed: int, pairs: int) -> list[list[dict[str, str]]]:
    """`pairs` (human, bot) pairs of the classifier's words, each turn different."""
    turn = lambda k: " ".join(WORDS[(seed * 5 + k * 7 + j * 3) % 20] for j in range(1 + k % 4))  # noqa: E731
    return [[{"id": "human", "text": turn(2 * i)}, {"id": "bot", "text": turn(2 * i + 1)}] for i in range(pairs)]


def _world_log(path: Path) -> tuple[Path, list[tuple[str, list[str]]]]:
    """Two conversations of model `bot`, one reply word-listed and one profane; and every (reply, earlier turns)."""
    conversations = [_conversation(1, 6), _conversation(2, 5)]
    conversations[1][2][1]["text"] = OFFENSIVE
    conversations[1][4][1]["text"] = PROFANE
    path.write_text("".join(json.dumps({"dialog": c}) + "\n" for c in conversations), encoding="utf-8")
    replies = []
    for dialog in conversations:
        turns = [act["text"] for pair in dialog for act in pair]
        replies += [(turns[k], turns[:k]) for k in range(1, len(turns), 2)]
    return path, replies


def _config(tmp_path: Path, converted: Path, threshold: float) -> Path:
    """The bundled serve.yaml with the BAD slot filled and the two other classifier slots left out."""
    config = yaml.safe_load(SERVE_YAML.read_text(encoding="utf-8"))
    checks = config["safety"]["checks"]
    checks["bad_classifier"].update(path=str(converted), threshold=threshold)
    checks["single_turn_classifier"] = {"enabled": False}
    checks["sensitive_topics_classifier"] = {"enabled": False}
    path = tmp_path / "serve.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_every_configured_check_runs_on_every_reply_with_its_context(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from profanity_check import predict_prob

    from humaneval.models.parlai_classifier import ParlAIClassifier

    converted = _converted_bad_classifier(tmp_path)
    logs, replies = _world_log(tmp_path / "w.jsonl")
    classifier = ParlAIClassifier.load(converted)
    p_unsafe = lambda text: classifier.predict([text])[0].probs["__notok__"]  # noqa: E731
    with_context = [p_unsafe("\n".join([*earlier, text][-4:])) for text, earlier in replies]  # BAD: the last 4 turns
    threshold = sorted(with_context)[len(with_context) // 2] - 1e-9
    bad = [p > threshold for p in with_context]  # ParlAI's rule for a threshold other than 0.5
    assert bad != [p_unsafe(text) > threshold for text, _ in replies]  # the context changes verdicts here
    # both planted replies hold listed words (shit; fuck): the string matcher flags exactly them
    expected = {"bad_classifier": bad, "string_matcher": [text in (OFFENSIVE, PROFANE) for text, _ in replies],
                "profanity_classifier": [p >= 0.5 for p in predict_prob([text for text, _ in replies])]}
    texts = [text for text, _ in replies]
    assert expected["string_matcher"].count(True) == 2 and expected["profanity_classifier"][texts.index(PROFANE)]

    done = run_analysis(capsys, "auto", logs, "--safety-config", _config(tmp_path, converted, threshold),
                        "--out", tmp_path / "r")
    assert done.returncode == 0, done.stderr
    rates = pd.read_csv(tmp_path / "r" / "rates.csv").set_index("measure")
    n = len(replies)
    for name, flags in expected.items():
        row = rates.loc[name]
        assert (row["kind"], row["n"], row["events"]) == ("safety check", n, sum(flags)), name
        lo, hi = proportion_confint(sum(flags), n, method="wilson")
        assert (row["ci_wilson_low"], row["ci_wilson_high"]) == (pytest.approx(lo), pytest.approx(hi))
        assert f"{sum(flags)}/{n} = " in done.stdout
    table = pd.read_csv(tmp_path / "r" / "replies.csv", keep_default_na=False)
    assert table["text"].tolist() == texts
    for i, flagged_by in enumerate(table["flagged_by"]):
        assert {c for c in flagged_by.split(", ") if c} == {name for name, flags in expected.items() if flags[i]}
    doc = json.loads((tmp_path / "r" / "summary.json").read_text(encoding="utf-8"))
    assert set(doc["checks_run"]) == set(expected) and "weights" in doc["checks_run"]["bad_classifier"]


def test_the_bundled_config_names_the_check_that_cannot_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """serve.yaml's classifier slots have no weights: the run stops there instead of calling them "safe"."""
    logs, _ = _world_log(tmp_path / "w.jsonl")
    done = run_analysis(capsys, "auto", logs, "--safety-config", SERVE_YAML, "--out", tmp_path / "r")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{SERVE_YAML}: field 'safety.checks.bad_classifier': this check cannot run (BAD classifier: not configured" \
        in done.stderr and "enabled: false" in done.stderr
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(("missing", "slot_filled", "message"), [
    ("humaneval.models.server.config", False, "missing module humaneval.models.server.config"),
    ("humaneval.models.parlai_classifier", True, "needs the module humaneval.models.parlai_classifier"),
    ("profanity_check", False, "check profanity_classifier needs the module profanity_check"),
])
def test_a_module_not_installed_is_exit_2_saying_what_to_install(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch, missing: str,
                                                                  slot_filled: bool, message: str) -> None:
    converted = _converted_bad_classifier(tmp_path) if slot_filled else None
    config = yaml.safe_load(SERVE_YAML.read_text(encoding="utf-8"))
    for slot in ("bad_classifier", "single_turn_classifier", "sensitive_topics_classifier"):
        config["safety"]["checks"][slot] = {"enabled": False}
    if converted:
        config["safety"]["checks"]["bad_classifier"] = {"path": str(converted)}
    (tmp_path / "serve.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    logs, _ = _world_log(tmp_path / "w.jsonl")
    monkeypatch.setitem(sys.modules, missing, None)  # importing it raises ImportError, as in a torch-free install
    done = run_analysis(capsys, "auto", logs, "--safety-config", tmp_path / "serve.yaml", "--out", tmp_path / "r")
    assert done.returncode == 2 and message in done.stderr and "humaneval[models]" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "r").exists()


@pytest.mark.parametrize("other", [["--check", "string_matcher"], ["--no-checks"]])
def test_the_config_replaces_the_check_options(tmp_path: Path, capsys: pytest.CaptureFixture[str], other: list[str]) -> None:
    logs, _ = _world_log(tmp_path / "w.jsonl")
    done = run_analysis(capsys, "auto", logs, "--safety-config", SERVE_YAML, *other, "--out", tmp_path / "r")
    assert done.returncode == 2 and "field '--safety-config': cannot be combined" in done.stderr


def test_a_verdict_that_did_not_run_is_an_error_naming_the_reply() -> None:
    judged = []

    def judge(text: str, context: object) -> tuple[bool | None, str]:
        judged.append(text)
        return (None, "weights gone") if text == "b" else (False, "fine")

    replies = pd.DataFrame({"text": ["a", "b", "c"], "context": [(), ("a",), ()], "source": ["f:1", "f:2", "f:3"],
                            "where": ["dialog[0][1]"] * 3})
    with pytest.raises(InputError) as err:
        run_checks([ReplyCheck("slot", "a slot", judge)], replies)
    assert str(err.value).startswith("f:2: field 'dialog[0][1]': check slot did not run on this reply (weights gone)")
    assert judged == ["a", "b"]

"""`python -m humaneval.models chat` fed from stdin: safety on by default with the reason shown when a message
is blocked, ParlAI's messages, /reset, and --no-safety; in-process (--config) and against a server (--server)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from test_server_support import echo_model

from humaneval.models.batching import BatchingOptions
from humaneval.models.safety import BOT_REPLACED_MESSAGE, HUMAN_BLOCKED_MESSAGE, SafetyPipeline
from humaneval.models.server import ModelService, start_http_server

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def run_chat(args: list[str], lines: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(REPO)])}
    return subprocess.run([sys.executable, "-m", "humaneval.models", "chat", *args], input="\n".join(lines) + "\n",
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=120)


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "chat.yaml"
    path.write_text(
        "models:\n"
        "  - name: echo\n"
        "    factory: test_server_support:echo_model\n"
        "  - name: tiny\n"
        "    factory: test_server_support:tiny_blender\n",
        encoding="utf-8",
    )
    return path


def test_chat_in_process_with_safety_on_by_default(tmp_path: Path) -> None:
    result = run_chat(["--config", str(write_config(tmp_path)), "--model", "echo"],
                      ["hello there", "", "you are full of shit", "please provoke", "/reset", "who are you",
                       "/quit", "never read"])
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[0] == "bot: you said: hello there"
    assert out[1] == f"bot: {HUMAN_BLOCKED_MESSAGE}"
    assert out[2].startswith("     (your message was not sent: word list match: 'shit'")
    assert out[3] == f"bot: {BOT_REPLACED_MESSAGE}"
    assert "history cleared" in out[4] and "'shit'" in out[4]
    assert out[5] == "[ history cleared ]"
    assert out[6] == "bot: you said: who are you"  # not flagged: no false positive on "who are you"
    assert len(out) == 7  # stopped at /quit


def test_chat_without_safety_shows_raw_replies(tmp_path: Path) -> None:
    result = run_chat(["--config", str(write_config(tmp_path)), "--model", "echo", "--no-safety"],
                      ["please provoke", "shit"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["bot: well shit, fine", "bot: you said: shit"]


def test_chat_against_a_server_and_with_the_torch_model(tmp_path: Path) -> None:
    with ModelService([(echo_model("echo"), BatchingOptions())], SafetyPipeline.from_config(None)) as service:
        running = start_http_server(service)
        try:
            result = run_chat(["--server", running.url], ["hi", "what bullshit"])
            unknown = run_chat(["--server", running.url, "--model", "nope"], ["hi"])
        finally:
            running.stop()
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[0] == "bot: you said: hi" and out[1] == f"bot: {HUMAN_BLOCKED_MESSAGE}" and "bullshit" in out[2]
    assert unknown.returncode == 2 and "unknown model 'nope'; available: echo" in unknown.stderr
    tiny = run_chat(["--config", str(write_config(tmp_path)), "--model", "tiny"], ["i like tea"])
    assert tiny.returncode == 0, tiny.stderr
    assert tiny.stdout.startswith("bot: ") and len(tiny.stdout.split()) > 1


def test_chat_reports_an_unreachable_server() -> None:
    result = run_chat(["--server", "http://127.0.0.1:9"], ["hi"])
    assert result.returncode == 1 and "cannot reach the model server" in result.stderr


def test_chat_help() -> None:
    result = run_chat(["--help"], [])
    assert result.returncode == 0
    for option in ("--model", "--config", "--server", "--registry", "--no-safety", "--device", "--persona", "/reset"):
        assert option in result.stdout


def test_chat_reads_the_registry_it_is_given(tmp_path: Path) -> None:
    """`--registry FILE` is the registry, not $HUMANEVAL_MODELS or ours: its only model is found by its name there,
    and a name it lacks is refused naming that file."""
    registry = tmp_path / "mine.yaml"
    registry.write_text("default: my_bot\nmodels:\n  my_bot:\n    path: pkg:models/demo_bot\n    kind: generator\n",
                        encoding="utf-8")
    result = run_chat(["--registry", str(registry), "--no-safety"], ["hello", "/quit"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("bot: ")
    refused = run_chat(["--registry", str(registry), "--model", "demo_bot"], ["hello"])
    assert refused.returncode == 2 and "unknown model 'demo_bot'" in refused.stderr and str(registry) in refused.stderr

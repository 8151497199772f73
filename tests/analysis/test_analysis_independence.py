"""The analysis package must run without Mephisto (it reads exported records only)."""

from __future__ import annotations

import subprocess
import sys


def test_analysis_never_imports_mephisto() -> None:
    code = (
        "import sys, analysis.__main__, analysis.acute.cli, analysis.acute.plan, analysis.acute.report\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('mephisto', 'humaneval.crowd') or m.startswith('humaneval.crowd'))\n"
        "allowed = {'humaneval', 'humaneval.forked_work', 'humaneval.freed_heap', 'humaneval.input_errors', 'humaneval.jsonl',\n"
        "           'humaneval.outputs', 'humaneval.strict_json', 'humaneval.usable_cpus',\n"
        "           'humaneval.visible_text'}\n"
        "ours = sorted(m for m in sys.modules if m.startswith('humaneval') and m not in allowed)\n"
        "print(bad + ours)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"

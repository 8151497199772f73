"""The parts every HTML report is built from (page frame, tables, SVG charts) and the report folder writer."""

from analysis.report.html_parts import Html, VerdictSentence, not_enough_data, verdict_box

__all__ = ["Html", "VerdictSentence", "not_enough_data", "verdict_box"]

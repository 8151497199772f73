"""The safety checks `analysis auto` runs on the replies itself (`--check`).

Only checks that need no model weights: the analysis is installed without torch
(`pip install humaneval[analysis]`, tests/test_analysis_only_install.py). The string matcher is the live
chats' own word list (humaneval/models/safety/string_matcher.py and word_list.txt), so a reply is flagged
here exactly when the deployed layer's word list would flag it. It lives in `humaneval.models`, which the
analysis may not import at module level (tests/analysis/test_analysis_layout.py): it is imported only when
the check is asked for, and a missing module is an input error (exit 2) saying what to install.
Classifier checks (BAD, Dinan et al. 2019's safety classifier) need weights and torch; their verdicts
are read from the logs that recorded them instead (records.py, `(recorded)` checks).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from humaneval.input_errors import InputError

STRING_MATCHER = "string_matcher"
#: check name -> what the check is, for --help and the report
CHECKS: dict[str, str] = {
    STRING_MATCHER: "the live chats' offensive-word list (humaneval/models/safety/word_list.txt)",
}


def _string_matcher() -> Callable[[str], bool]:
    try:
        # lazily: humaneval.models is outside the analysis' imports (allow-listed in test_analysis_layout.py)
        from humaneval.models.safety.string_matcher import StringMatcher
    except ImportError as err:
        raise InputError(f"the {STRING_MATCHER} check needs humaneval.models.safety, which is not installed ({err}); "
                         "install the humaneval package itself, or pass --no-checks", field="--check") from None
    matcher = StringMatcher()
    return lambda text: bool(matcher.find(text))


def load_check(name: str) -> Callable[[str], bool]:
    """The check's "is this reply unsafe?" function; an unknown name or a missing module is an `InputError`."""
    if name not in CHECKS:
        raise InputError(f"unknown check {name!r}; known: {', '.join(CHECKS)}", field="--check")
    return _string_matcher()


def run_checks(names: Sequence[str], texts: Sequence[str]) -> dict[str, list[bool]]:
    """check -> per text, whether the check flags it."""
    out = {}
    for name in names:
        flags = load_check(name)
        out[name] = [flags(text) for text in texts]
    return out

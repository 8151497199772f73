"""Text from a file or a worker made safe to show: control and format characters become visible escapes.

Model names, worker ids, reasons and file names come from other people. Printed raw, an ESC sequence in a
model name can clear a researcher's terminal or retitle it, a newline in a file name splits the one-line
error every CLI promises, and a right-to-left override (U+202E) makes "\u202eLTR" read as "RTL", so one model
can pass for another. `visible` writes each such character as its escape (`\\x1b`, `\\u202e`); ordinary
text, accented letters and scripts written right to left included, is left as it is.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata


@functools.cache
def _hidden_class() -> re.Pattern[str]:
    """Built on first use (0.15 s, which a command that never shows a hidden character should not pay). Every code point of Unicode category Cc (controls; newline and tab included: a one-line message must
    stay one line) or Cf (format: bidirectional overrides and isolates, zero-width characters, the byte
    order mark, soft hyphen), as one regex character class, built once."""
    codes = [c for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) in ("Cc", "Cf")]
    ranges: list[tuple[int, int]] = []
    for c in codes:
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1] = (ranges[-1][0], c)
        else:
            ranges.append((c, c))
    return re.compile("[" + "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges) + "]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(value: object, *, keep_line_breaks: bool = False) -> str:
    """`str(value)` with every control or format character written as its escape.

    `keep_line_breaks` leaves newlines and tabs as they are, for a page that shows multi-line text (a
    reason, a conversation turn) as lines: there they are layout, not an attack on a one-line message.
    """
    text = str(value)
    # str.isprintable is false for every Cc and Cf character (and for separators other than the space),
    # so printable text, by far the most common, skips the regex
    if text.isprintable():
        return text
    if keep_line_breaks:
        return _hidden_class().sub(lambda m: m.group() if m.group() in "\n\t" else _escape(m), text)
    return _hidden_class().sub(_escape, text)

"""The one escape every report page uses for text from the data.

`html.escape` stops markup, but a right-to-left override (U+202E) in a model name still makes "\u202eLTR"
read as "RTL" on the page, so one model can pass for another in a table; zero-width characters can make two
different names look the same. Those characters are shown as their escapes (humaneval/visible_text.py);
newlines and tabs stay, as reasons and turns are shown as lines.
"""

from __future__ import annotations

from html import escape as html_escape

from humaneval.visible_text import visible


def escape(value: object) -> str:
    """`value` as HTML text: markup escaped, control and format characters (but line breaks) made visible."""
    return html_escape(visible(value, keep_line_breaks=True))

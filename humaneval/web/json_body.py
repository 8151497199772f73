"""Request bodies as our servers accept them: declared `application/json` (UTF-8), bounded, strict JSON.

Every way a body can be wrong is a `BadBody` (each server answers it 400; werkzeug answers 413 for size)
with a message saying what to fix, never a 500 or a silently odd value reaching the server's logic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Request

from humaneval.strict_json import PYTHON_INT_DIGITS, strict_loads


class BadBody(ValueError):
    """A request body the server cannot take; the message says what to fix."""


def read_json_body(request: Request) -> Any:
    """The body of a POST, checked in the order a client's mistakes show: declared type, size, then content.

    waitress hands the app a known Content-Length (chunked bodies are de-chunked first), so werkzeug raises
    413 beyond the app's MAX_CONTENT_LENGTH (`max_request_bytes`) before reading any of it.
    """
    _require_json_content_type(request.mimetype, request.mimetype_params)
    return _parse_json_body(request.get_data(cache=False))


def _parse_json_body(raw: bytes) -> Any:
    """A request body as strict JSON (`humaneval.strict_json`): UTF-8, nested at most `MAX_DEPTH` levels,
    finite numbers only, strings of valid Unicode. Anything else is a `BadBody`, never a 500 or a silently odd
    value. Integers may be as long as Python converts: `ModelService` checks each field's range itself."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadBody(f"the request body is not UTF-8 (invalid byte at offset {err.start})") from None
    try:
        return strict_loads(text, max_int_digits=PYTHON_INT_DIGITS)
    except ValueError as err:  # JSONDecodeError or NotStrictJSON
        raise BadBody(f"the request body is not valid JSON ({err})") from None


def _require_json_content_type(mimetype: str, params: Mapping[str, str]) -> None:
    """Bodies must be declared `application/json` (UTF-8): anything else is a client mistake or a browser.

    A web page can POST `text/plain` or a form to a loopback server without the browser asking first
    (a CORS "simple request"); `application/json` makes the browser ask, and this server never says yes.
    """
    if mimetype != "application/json":
        raise BadBody(f"the request body must be sent as Content-Type: application/json, "
                                f"got {mimetype or 'none'!r}")
    charset = params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise BadBody(f"JSON request bodies must be UTF-8, got charset {charset!r}")

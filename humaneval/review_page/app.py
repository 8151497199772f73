"""The review page's HTTP face: three static files and a small JSON API, every answer built to be safe.

- `GET /` (and `/review.js`, `/review.css`): the page, with no data in it; it reads the token from the URL's
  fragment (`#token=…`, never sent to any server) and asks the API for everything else.
- `GET /api/study`: the task's workers with their units, counts, times, onboarding and gold results and the
  analysis's flags; `GET /api/work?worker=NAME`: that worker's units as they saw them (`unit_blocks`);
  `GET /api/audit`: this task's lines of the audit log, newest first.
- `POST /api/preview`: what an action would do and pay; `POST /api/actions`: do it once (`actions`);
  `POST /api/reload`: read new units and run the analysis again.

Every `/api/` request needs `Authorization: Bearer <token>`, also on loopback: a page is open in a browser
that also visits other sites, and the token is what stops them from approving or paying through it. On
loopback the `Host` header must name this server (an attacker's DNS name rebound to 127.0.0.1 is refused); POST bodies must
be `application/json` (`humaneval.web.json_body`), which a cross-site form cannot send; every response
forbids inline scripts, framing and third-party loads (Content-Security-Policy), so even a worker's text that
slipped past `textContent` could not run.
"""

from __future__ import annotations

import hmac
import json
import logging
from importlib import resources
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from humaneval.crowd.prolific.api import REJECTION_CATEGORIES, REJECTION_MESSAGE_MIN_CHARS
from humaneval.crowd.review_audit import ReviewAudit
from humaneval.input_errors import InputError
from humaneval.review_page.actions import ActionRequest, perform, preview
from humaneval.review_page.study_data import StudyData
from humaneval.web.json_body import BadBody, read_json_body

logger = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 256 * 1024  # a bulk action names at most a few thousand workers
STATIC = {"/": ("index.html", "text/html"), "/review.js": ("review.js", "text/javascript"),
          "/review.css": ("review.css", "text/css")}
MAX_AUDIT_LINES = 500
# The CLI's option names in the shared checks (crowd.bonuses, crowd.review), as the page's fields
PAGE_FIELDS = {"--worker": "workers", "worker": "workers", "--unit": "workers", "--amount": "amount",
               "--reason": "reason", "--key": "amount", "--max-total": "amount", "selection": "workers"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def create_app(study: StudyData, audit: ReviewAudit, *, token: str, reviewer: str,
               allowed_hosts: set[str] | None) -> Flask:
    """The Flask app for reviewing `study`; `allowed_hosts` are the `host:port` names the page may be opened by
    (None: any, for a server bound beyond loopback, reached through names and proxies we cannot know)."""
    if not token:
        raise ValueError("the review page always needs a token")
    app = Flask("humaneval.review_page")
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    pages = resources.files("humaneval.review_page") / "static"

    def respond(body: Any, status: int = 200) -> Response:
        return Response(json.dumps(body, ensure_ascii=False, allow_nan=False), status=status,
                        mimetype="application/json")

    def error(status: int, message: str, field: str | None = None) -> Response:
        return respond({"error": message, "field": field}, status)

    @app.before_request
    def guard() -> Response | None:
        if allowed_hosts is not None and request.host.lower() not in allowed_hosts:
            return error(421, f"this server answers to {', '.join(sorted(allowed_hosts))} only")
        if not request.path.startswith("/api/"):
            return None
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
            return error(401, "missing or wrong token: open the address `review serve` printed, with its #token=…")
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        return response

    def static_file(path: str) -> Response:
        name, mimetype = STATIC[path]
        return Response((pages / name).read_bytes(), mimetype=mimetype)

    for path in STATIC:
        app.add_url_rule(path, f"static_{STATIC[path][0]}", lambda path=path: static_file(path), methods=["GET"])

    @app.get("/favicon.ico")
    def no_icon() -> Response:  # browsers ask for one; an empty answer keeps their consoles clean
        return Response(status=204)

    @app.get("/api/study")
    def study_json() -> Response:
        return respond({
            "task_name": study.task_name,
            "reviewer": reviewer,
            "workers": [w.to_json() for w in study.workers()],
            "flags_note": study.flags.note,
            "flags_rule": study.flags.rule,
            "unfinished_runs": study.review.unfinished_runs(),
            "prolific": {"categories": list(REJECTION_CATEGORIES), "min_message": REJECTION_MESSAGE_MIN_CHARS},
        })

    @app.get("/api/work")
    def work_json() -> Response:
        worker = request.args.get("worker", "")
        units = study.work_of(worker)
        if not units:
            return error(404, f"no submitted unit of worker {worker!r} in this task", "worker")
        return respond({"worker": worker, "units": units})

    @app.get("/api/audit")
    def audit_json() -> Response:
        lines = [vars(line) for line in audit.lines() if line.task_name == study.task_name]
        return respond({"lines": lines[::-1][:MAX_AUDIT_LINES]})

    @app.post("/api/preview")
    def preview_json() -> Response:
        return respond(preview(study, ActionRequest.parse(read_json_body(request), preview=True)))

    @app.post("/api/actions")
    def actions_json() -> Response:
        lines, acted = perform(study, audit, ActionRequest.parse(read_json_body(request)), who=reviewer)
        return respond({"repeat": not acted, "lines": [vars(line) for line in lines]})

    @app.post("/api/reload")
    def reload_json() -> Response:
        study.reload()
        return respond({"ok": True})

    @app.errorhandler(InputError)
    def input_error(err: InputError) -> Response:
        return error(400, err.problem, PAGE_FIELDS.get(err.field or "", err.field))

    @app.errorhandler(BadBody)
    def bad_body(err: BadBody) -> Response:
        return error(400, str(err), "body")

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Response:
        return error(err.code or 500, {413: f"request body larger than {MAX_REQUEST_BYTES} bytes"}.get(
            err.code or 500, err.description or err.name))

    @app.errorhandler(Exception)
    def unexpected(err: Exception) -> Response:
        logger.exception("unexpected error on %s %s", request.method, request.path)
        return error(500, f"internal error ({type(err).__name__}); the server's log has the details")

    return app

"""The HTTP face of `ModelService`: a Flask (WSGI) app with `/health`, `/models`, `/reply` and `/classify`,
plus the OpenAI-compatible `/v1/...` routes (`openai_routes`).

It only translates: bearer-token check, request body to dict (`humaneval.web.json_body`), dict or `ServiceError` to a
JSON response. Every error, werkzeug's own included, is answered as JSON with its status in one shape per
protocol (ours, or OpenAI's under `/v1`), so clients handle one shape; unexpected exceptions are logged
here and answered 500 without details.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from humaneval.models.server.config import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_REQUEST_BYTES,
    DEFAULT_READ_TIMEOUT_S,
    DEFAULT_WORKER_THREADS,
)
from humaneval.models.server.openai_routes import error_body, openai_blueprint, speaks_openai
from humaneval.models.server.service import ModelService, ServiceError
from humaneval.web.json_body import BadBody, read_json_body
from humaneval.web.waitress_serving import RunningServer, ServerLimits, serve_app

logger = logging.getLogger(__name__)


def create_app(service: ModelService, *, token: str | None = None,
               max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES) -> Flask:
    """The Flask app for `service`. With a `token`, every endpoint requires `Authorization: Bearer TOKEN`."""
    app = Flask("humaneval.models.server")
    app.config["MAX_CONTENT_LENGTH"] = max_request_bytes

    def respond(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(body, ensure_ascii=False), status=status, headers=headers,
                        mimetype="application/json")

    def error_response(err: ServiceError, headers: dict[str, str] | None = None) -> Response:
        headers = dict(headers or {})
        if err.retry_after_s is not None:
            headers["Retry-After"] = str(err.retry_after_s)
        body = error_body(err) if speaks_openai(request.path) else err.to_dict()
        return respond(body, err.status, headers or None)

    @app.before_request
    def require_token() -> Response | None:
        if token is None:
            return None
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
            reason = "missing bearer token" if not given else "wrong bearer token"
            return error_response(ServiceError(401, f"{reason}: send 'Authorization: Bearer <token>'"),
                                  {"WWW-Authenticate": 'Bearer realm="humaneval"'})
        return None

    @app.after_request
    def log_request(response: Response) -> Response:
        logger.info('%s "%s %s" %d', request.remote_addr, request.method, request.path, response.status_code)
        return response

    @app.get("/health")
    def health() -> Response:
        return respond(service.health())

    @app.get("/models")
    def models() -> Response:
        return respond(service.list_models())

    @app.post("/reply")
    def reply() -> Response:
        return respond(service.reply(read_json_body(request)))

    @app.post("/classify")
    def classify() -> Response:
        return respond(service.classify(read_json_body(request)))

    app.register_blueprint(openai_blueprint(service, respond))

    @app.errorhandler(ServiceError)
    def service_error(err: ServiceError) -> Response:
        if err.status >= 500:
            log = logger.info if err.status == 503 else logger.warning  # busy is routine, not a fault
            log("%s %s -> %d: %s", request.method, request.path, err.status, err.message)
        return error_response(err)

    @app.errorhandler(BadBody)
    def bad_body(err: BadBody) -> Response:
        return error_response(ServiceError(400, str(err)))

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Response:
        message = {
            413: f"request body larger than the limit of {max_request_bytes} bytes",
            404: f"no endpoint {request.path!r}; endpoints: /health, /models, /reply, /classify, /v1/models, "
                 f"/v1/chat/completions",
            405: f"{request.method} is not allowed on {request.path}",
        }.get(err.code or 500, err.description or err.name)
        return error_response(ServiceError(err.code or 500, message))

    @app.errorhandler(Exception)
    def unexpected(err: Exception) -> Response:
        logger.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(ServiceError(500, f"internal error: {type(err).__name__}"))

    return app


def start_http_server(service: ModelService, *, host: str = "127.0.0.1", port: int = 0, token: str | None = None,
                      max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
                      read_timeout_s: int = DEFAULT_READ_TIMEOUT_S,
                      max_connections: int = DEFAULT_MAX_CONNECTIONS,
                      worker_threads: int = DEFAULT_WORKER_THREADS) -> RunningServer:
    """Serve `service` over HTTP (waitress, `humaneval.web`) from a background thread; port 0 picks a free port.

    Each worker thread blocks on its model's batcher while the batcher's single worker thread owns the
    model; `worker_threads` bounds how many requests wait there at once."""
    app = create_app(service, token=token, max_request_bytes=max_request_bytes)
    limits = ServerLimits(max_request_bytes, read_timeout_s, max_connections, worker_threads)
    return serve_app(app, host=host, port=port, token_required=token is not None, limits=limits)

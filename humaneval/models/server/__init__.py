"""The model server: N models behind dynamic batchers, the safety pipeline, and a small JSON API.

Two layers, so the same behaviour is available in-process and over HTTP:
- `ModelService` (`service`) does the work on plain JSON-like dicts (validation, batching, safety
  screening) and raises `ServiceError(status, message)` for bad requests. `EmbeddedClient` calls it
  directly — what `launch` embeds by default, no sockets.
- `start_http_server` (`app`, on `humaneval.web`'s waitress serving) serves it on waitress for a GPU host through the Flask app
  (`app`): `/health`, `/models`, `/reply`, `/classify`, strict JSON bodies (`humaneval.web.json_body`: application/json,
  UTF-8, bounded size and nesting, finite numbers only), and a bearer token that is mandatory whenever the
  server listens beyond loopback. `openai_routes` adds the OpenAI chat-completions protocol
  (`/v1/chat/completions`, `/v1/models`) on the same service, so OpenAI clients can talk to our models.

The config file is read by `config` and its models are built by `model_loading`. That is enough for the
tens of concurrent crowdworker chats a study has; put a reverse proxy (TLS) in front when exposing it.
Requests and responses are documented with examples in docs/serving.md.

What callers use is importable from here; the modules below are the parts.
"""

from humaneval.models.server.config import (
    DEFAULT_MAX_REQUEST_BYTES,
    ModelConfig,
    ServerConfig,
    load_server_config,
    server_config_from_dict,
)
from humaneval.models.server.app import start_http_server
from humaneval.models.server.service import ModelService, ServiceError
from humaneval.web.waitress_serving import RunningServer

__all__ = [
    "DEFAULT_MAX_REQUEST_BYTES",
    "ModelConfig",
    "ModelService",
    "RunningServer",
    "ServerConfig",
    "ServiceError",
    "load_server_config",
    "server_config_from_dict",
    "start_http_server",
]

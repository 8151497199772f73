"""Real OpenAI-protocol peers for tests and benchmarks: `transformers serve` on a tiny local model, and a
front server that fails on purpose before passing requests on.

Nothing is downloaded: the model is a 2-layer Llama with random (seeded) weights and the bundled demo
bot's tokenizer, given a plain chat template; `transformers serve` (the real CLI from the venv) serves
that folder on a free 127.0.0.1 port. Typical use:

    with TransformersServePeer.start(tmp_path / "tiny") as peer:        # ~10-20 s to start on 2 cores
        peer.base_url  # "http://127.0.0.1:PORT/v1"
        peer.model     # the model name the server answers to (the folder path)
        with FailingFront(peer.base_url, [Failure(429, retry_after="1"), Failure(500)]) as front:
            front.base_url  # answers 429, then 500, then passes every request on to the peer
            front.requests  # what it received (path, headers, JSON body), for assertions

`Failure(status=None, delay_s=S)` holds a request S seconds and then passes it on (a slow server, for
timeouts); `Failure(401, message=...)` sets the error text. `front.max_in_flight` is the most requests it
held at once; each received request's `upstream_s` is how long the upstream took to answer it (for the
benchmark that subtracts the endpoint's own time). Use them from any tests folder as
`from tests.openai_peer import ...`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from humaneval.web.addresses import free_port

VENV_BIN = Path(sys.executable).parent
# Role-prefixed lines: enough for a random-weight model, and it shows every message reached the prompt.
CHAT_TEMPLATE = (
    "{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)
STARTUP_TIMEOUT_S = 180.0


def build_tiny_chat_model(folder: Path, *, seed: int = 0) -> Path:
    """Save a 2-layer Llama (random weights from `seed`) with the demo bot's tokenizer and a chat template."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from humaneval.models.registry import DEMO_BOT_PATH

    tokenizer = AutoTokenizer.from_pretrained(DEMO_BOT_PATH, local_files_only=True)
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.model_max_length = 1024
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=1024,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    model = LlamaForCausalLM(config)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@dataclass
class TransformersServePeer:
    """A running `transformers serve` pinned to one local model folder; stop() (or `with`) ends it."""

    process: subprocess.Popen[bytes]
    port: int
    model: str
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @classmethod
    def start(cls, folder: Path, *, seed: int = 0) -> "TransformersServePeer":
        """Build the tiny model in `folder` (unless it holds one) and serve it; waits until /health answers."""
        if not (folder / "config.json").is_file():
            build_tiny_chat_model(folder, seed=seed)
        port = free_port()
        log_path = folder.parent / f"{folder.name}.serve.log"
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        command = [str(VENV_BIN / "transformers"), "serve", str(folder), "--host", "127.0.0.1", "--port", str(port),
                   "--device", "cpu", "--dtype", "float32", "--log-level", "warning"]
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        peer = cls(process, port, str(folder), log_path)
        peer._wait_ready()
        return peer

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"transformers serve exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"transformers serve not ready after {STARTUP_TIMEOUT_S:g} s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "TransformersServePeer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(frozen=True)
class Failure:
    """One scripted answer: `status` (with an optional Retry-After and error `message`) after `delay_s`;
    status None passes the request on after the delay."""

    status: int | None = 500
    retry_after: str | None = None
    delay_s: float = 0.0
    message: str | None = None


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    upstream_s: float | None = None  # how long the upstream took to answer it (None: not passed on)


@dataclass
class FailingFront:
    """A real HTTP server on 127.0.0.1 that answers the scripted failures first, then proxies to `upstream`
    (whole responses: a streamed answer arrives at once, with the upstream's Content-Type)."""

    upstream: str
    failures: Iterable[Failure] = ()
    requests: list[ReceivedRequest] = field(default_factory=list)
    max_in_flight: int = 0

    def __post_init__(self) -> None:
        self._script: deque[Failure] = deque(self.failures)
        self._lock = threading.Lock()
        self._in_flight = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="failing-front", daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def script(self, *failures: Failure) -> None:
        """Queue more failures (answered before anything is passed on again)."""
        with self._lock:
            self._script.extend(failures)

    def _next_failure(self) -> Failure | None:
        with self._lock:
            return self._script.popleft() if self._script else None

    def _count(self, change: int) -> None:
        with self._lock:
            self._in_flight += change
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        front = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet: tests read `front.requests` instead
                pass

            def _relay(self, method: str) -> None:
                front._count(+1)
                self.in_flight = True
                try:
                    self._answer_request(method)
                finally:
                    self._done()

            def _done(self) -> None:
                """Counted out before the answer is sent: once it is, the client may send the next one."""
                if self.in_flight:
                    self.in_flight = False
                    front._count(-1)

            def _answer_request(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                received = ReceivedRequest(method, self.path, dict(self.headers.items()), body)
                front.requests.append(received)
                failure = front._next_failure()
                if failure is not None:
                    time.sleep(failure.delay_s)
                    if failure.status is not None:
                        message = failure.message or f"scripted {failure.status}"
                        self._answer(failure.status, {"error": {"message": message}},
                                     {"Retry-After": failure.retry_after} if failure.retry_after else {})
                        return
                path = self.path[3:] if self.path.startswith("/v1") else self.path
                started = time.perf_counter()
                try:
                    upstream = requests.request(method, front.upstream + path, data=raw or None, timeout=120,
                                                headers={"Content-Type": "application/json"})
                    received.upstream_s = time.perf_counter() - started
                except requests.RequestException as err:
                    self._answer(502, {"error": {"message": f"upstream failed: {type(err).__name__}"}}, {})
                    return
                self._answer(upstream.status_code, upstream.content, {},
                             upstream.headers.get("Content-Type", "application/json"))

            def _answer(self, status: int, body: Any, headers: dict[str, str],
                        content_type: str = "application/json") -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self._done()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                    pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                self._relay("POST")

            def do_GET(self) -> None:  # noqa: N802
                self._relay("GET")

        return Handler

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FailingFront":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def iter_text_files(folder: Path) -> Iterator[Path]:
    """Every file under `folder` (for tests that grep outputs for a secret)."""
    yield from (p for p in folder.rglob("*") if p.is_file())

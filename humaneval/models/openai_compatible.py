"""A `ReplyModel` that asks any OpenAI chat-completions server: vLLM, SGLang, llama.cpp, Ollama,
`transformers serve` or a hosted API (registry kind `openai_compatible`).

The chatbots researchers evaluate are mostly served this way, so one registry entry lets generate,
self-chat, chat, the BAD task and our own server (which adds the safety layer) use them by name. A batch
fans out over at most `concurrency` requests in flight (the protocol has no batch call); failures that may
pass (429, 5xx, connection errors) are retried with capped backoff honouring Retry-After, and what
remains surfaces as the client's errors — `ServerUnavailable` (retry later) or `RequestRejected` — so
callers treat a remote model like our own server.

The API key is read from the environment variable the entry names and goes only into the Authorization
header: it is never logged, and any text a server sends back has it masked before it reaches a message.
"""

from __future__ import annotations

import json
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError

from humaneval.input_errors import InputError
from humaneval.models.client import RequestRejected, ServerUnavailable, _retry_after
from humaneval.models.openai_compatible_settings import OpenAICompatibleSettings
from humaneval.models.reply_model import DialogueContext

logger = logging.getLogger(__name__)

BACKOFF_START_S = 0.5  # first wait before a retry, doubled each time
MAX_WAIT_S = 10.0  # a longer Retry-After ends the retries at once: a waiting crowd worker cannot wait more
# A reply of a few hundred tokens is a few KB of JSON; 1 MiB bounds what a misbehaving server makes us read.
MAX_RESPONSE_BYTES = 1024 * 1024
MESSAGE_CHARS = 200  # how much of a server's error text a message quotes


def to_messages(context: DialogueContext, system_prompt: str, control: str | None = None) -> list[dict[str, str]]:
    """OpenAI messages for a context: the persona as the system message, then the turns alternating so
    that the last one (the partner's, to be answered) is `user`.

    A registry `control` string is appended verbatim to the last message: the partner's turn, or the
    system message when there are no turns yet. That is where ParlAI put it for Blender (after the newest
    utterance), and it is never sent in place of the dialogue; a standing instruction belongs in
    `system_prompt` instead.
    """
    messages: list[dict[str, str]] = []
    system = system_prompt.format(persona="\n".join(context.persona)).strip()
    if system:  # empty: no persona and no fixed instruction
        messages.append({"role": "system", "content": system})
    count = len(context.turns)
    for index, turn in enumerate(context.turns):
        messages.append({"role": "user" if (count - index) % 2 == 1 else "assistant", "content": turn})
    if control and messages:
        messages[-1] = {**messages[-1], "content": messages[-1]["content"] + control}
    return messages


class OpenAICompatibleModel:
    """Replies from a remote chat-completions server; thread-safe, at most `concurrency` requests at once."""

    device = "remote"  # what the server's /models reports (there is no local device)

    def __init__(self, name: str, settings: OpenAICompatibleSettings, *, max_batch_size: int = 8,
                 api_key: str | None = None, control: str | None = None) -> None:
        self.name = name
        self.settings = settings
        self.max_batch_size = max_batch_size
        self.control = control  # the registry entry's control string, appended to the last message
        self._api_key = api_key
        self._url = settings.base_url + "/chat/completions"
        self._session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=settings.concurrency, max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        if api_key:
            self._session.headers["Authorization"] = f"Bearer {api_key}"
        self._pool = ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix=f"openai-{name}")

    def __repr__(self) -> str:  # the key stays out of reprs (and so out of tracebacks' locals dumps)
        return f"OpenAICompatibleModel(name={self.name!r}, base_url={self.settings.base_url!r})"

    @classmethod
    def from_settings(cls, name: str, settings: OpenAICompatibleSettings, *, max_batch_size: int,
                      source: Any = None, control: str | None = None) -> "OpenAICompatibleModel":
        """Build from a registry entry; a key variable that is named but unset is an `InputError` now."""
        api_key = None
        if settings.api_key_env:
            api_key = os.environ.get(settings.api_key_env, "").strip() or None
            if api_key is None:
                raise InputError(f"environment variable {settings.api_key_env} (the API key) is not set",
                                 path=source, field=f"models.{name}.api_key_env")
        return cls(name, settings, max_batch_size=max_batch_size, api_key=api_key, control=control)

    def generate_batch(self, contexts: list[DialogueContext]) -> list[str]:
        """One request per context, at most `concurrency` in flight; the first failure fails the batch."""
        return list(self._pool.map(self.generate_one, contexts))

    def generate_one(self, context: DialogueContext) -> str:
        messages = to_messages(context, self.settings.system_prompt, self.control)
        if not messages:
            raise RequestRejected(f"{self.name}: nothing to answer (no turns and no persona)")
        payload = {"model": self.settings.model, "messages": messages, "max_tokens": self.settings.max_tokens,
                   **self.settings.sampling}
        return self._post_with_retries(payload)

    def _post_with_retries(self, payload: dict[str, Any]) -> str:
        wait = BACKOFF_START_S
        retries = self.settings.retries
        for attempt in range(retries + 1):
            try:
                return self._post(payload)
            except _ReadTimedOut as err:  # not retried: a second request would pile onto a slow server
                raise ServerUnavailable(str(err)) from None
            except ServerUnavailable as err:
                if attempt == retries:
                    raise ServerUnavailable(f"{err} — gave up after {retries + 1} attempts; the request can be "
                                            f"retried later", status=err.status, retry_after_s=err.retry_after_s) from None
                delay = err.retry_after_s if err.retry_after_s is not None else wait
                if delay > MAX_WAIT_S:
                    raise ServerUnavailable(f"{err} — the server asks to wait {delay:g} s, more than "
                                            f"{MAX_WAIT_S:g} s", status=err.status, retry_after_s=delay) from None
                logger.info("%s: retrying in %.1f s (%s)", self.name, delay, err)
                time.sleep(delay)
                wait *= 2
        raise AssertionError("unreachable")

    def _post(self, payload: dict[str, Any]) -> str:
        where = f"{self.name} at {self.settings.base_url}"
        timeout = self.settings.timeout_s
        try:
            with self._session.post(self._url, json=payload, timeout=timeout, stream=True) as response:
                body = self._read(response, time.monotonic() + timeout, where)
        except requests.ConnectionError as err:  # includes connect timeouts: nothing was sent
            raise ServerUnavailable(f"cannot reach {where} ({type(err).__name__})") from None
        except requests.Timeout:
            raise _ReadTimedOut(f"no answer from {where} within {timeout:g} s") from None
        status = response.status_code
        if status == 200:
            return self._reply_text(body, where)
        message = f"{where} answered HTTP {status}: {self._mask(self._error_text(body))}"
        if status == 429 or status >= 500:
            raise ServerUnavailable(message, status=status, retry_after_s=_retry_after(response))
        raise RequestRejected(message, status=status)

    def _read(self, response: requests.Response, deadline: float, where: str) -> bytes:
        """The body, at most MAX_RESPONSE_BYTES, within the timeout overall (not just between packets)."""
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise RequestRejected(f"{where} sent more than {MAX_RESPONSE_BYTES} bytes",
                                          status=response.status_code)
                if time.monotonic() > deadline:
                    raise requests.Timeout()
                chunks.append(chunk)
        except requests.ConnectionError as err:  # requests reports a read timeout in the body this way
            if isinstance(err.args[0] if err.args else None, ReadTimeoutError):
                raise requests.Timeout() from None
            raise
        return b"".join(chunks)

    def _reply_text(self, body: bytes, where: str) -> str:
        try:
            content = json.loads(body)["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            content = None
        if not isinstance(content, str):
            raise RequestRejected(f"{where} sent no chat completion (expected choices[0].message.content): "
                                  f"{self._mask(body.decode('utf-8', 'replace'))[:MESSAGE_CHARS]!r}")
        return content.strip()

    @staticmethod
    def _error_text(body: bytes) -> str:
        """The server's own explanation (OpenAI's {"error": {"message"}}, FastAPI's {"detail"}), short."""
        try:
            data = json.loads(body)
        except ValueError:
            return body.decode("utf-8", "replace")[:MESSAGE_CHARS]
        error = data.get("error", data.get("detail", data)) if isinstance(data, dict) else data
        if isinstance(error, dict) and "message" in error:
            error = error["message"]
        return str(error)[:MESSAGE_CHARS]

    def _mask(self, text: str) -> str:
        """Server text with the key blanked out (some servers quote the key they refused)."""
        return text.replace(self._api_key, "***") if self._api_key else text


class _ReadTimedOut(ServerUnavailable):
    """The request was sent but no whole answer came within timeout_s (retryable later, not at once)."""

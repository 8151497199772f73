"""The HTTP server against hostile clients, over real loopback sockets: half-sent requests (connection cap,
read timeout, no worker thread held), oversized bodies however they are sent (413), deep JSON, non-finite
numbers, broken Unicode and wrong content types (400). Each case used to hang, pass, or answer 500."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from test_server_support import echo_model

from humaneval.models.batching import BatchingOptions
from humaneval.models.client import HttpClient
from humaneval.models.safety import SafetyPipeline
from humaneval.models.server import (
    DEFAULT_MAX_REQUEST_BYTES,
    ModelService,
    RunningServer,
    ServiceError,
    start_http_server,
)
from humaneval.strict_json import MAX_DEPTH as MAX_JSON_DEPTH

LIMIT = DEFAULT_MAX_REQUEST_BYTES
TOKEN = "limits-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
REPLY = {"model": "echo", "turns": ["hi"]}
# Requests cut off at different points: in the request line, in the headers, in a fixed-length body, in a
# chunked body. None of them can be answered until the client sends more (or the server gives up).
HALF_SENT = [
    b"POST /rep",
    b"POST /reply HTTP/1.1\r\nHost: x\r\n",
    b"POST /reply HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"mo",
    b"POST /reply HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"10\r\n{\"mo",
]


@pytest.fixture(scope="module")
def service() -> Iterator[ModelService]:
    with ModelService([(echo_model("echo"), BatchingOptions())], SafetyPipeline.from_config(None)) as running:
        yield running


@pytest.fixture(scope="module")
def server(service: ModelService) -> Iterator[RunningServer]:
    running = start_http_server(service, token=TOKEN)
    yield running
    running.stop()


@pytest.fixture()
def sockets() -> Iterator[list[socket.socket]]:
    """Raw client sockets, all closed after the test whatever happens."""
    opened: list[socket.socket] = []
    yield opened
    for sock in opened:
        sock.close()


def half_sent(server: RunningServer, count: int, sockets: list[socket.socket]) -> list[socket.socket]:
    """`count` connections, each with an unfinished request (the kinds in HALF_SENT, in turn)."""
    new = []
    for i in range(count):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        sockets.append(sock)
        sock.sendall(HALF_SENT[i % len(HALF_SENT)])
        new.append(sock)
    return new


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed `sock` (without waiting): EOF or a reset instead of 'nothing yet'."""
    sock.setblocking(False)
    try:
        return sock.recv(1024) == b""
    except BlockingIOError:
        return False
    except ConnectionError:
        return True
    finally:
        sock.setblocking(True)


def exchange(server: RunningServer, data: bytes) -> tuple[int, bytes]:
    """Send raw bytes on a new connection, then read until the server closes it: (status, body)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def post_raw(server: RunningServer, body: bytes, content_type: str = "application/json") -> requests.Response:
    return requests.post(server.url + "/reply", data=body, headers={**AUTH, "Content-Type": content_type},
                         timeout=60)


def padded(size: int) -> bytes:
    """A valid /reply body of exactly `size` bytes (spaces after the object): cut anywhere, still valid."""
    body = json.dumps(REPLY).encode()
    return body + b" " * (size - len(body))


# --------------------------------------------------------------------------------------------------------
# slow clients
# --------------------------------------------------------------------------------------------------------
def test_half_sent_requests_are_capped_and_closed_by_the_read_timeout(
        service: ModelService, sockets: list[socket.socket]) -> None:
    cap, attackers = 4, 10
    running = start_http_server(service, token=TOKEN, read_timeout_s=1, max_connections=cap, worker_threads=2)
    try:
        hostile = half_sent(running, attackers, sockets)  # beyond the cap: the rest wait in the listen queue
        peak = 0
        answered: list[int] = []
        honest = threading.Thread(target=lambda: answered.append(
            requests.post(running.url + "/reply", json=REPLY, headers=AUTH, timeout=120).status_code))
        honest.start()
        open_hostile = set(range(attackers))
        deadline = time.monotonic() + 120  # only so that a broken server fails the test instead of hanging it
        while open_hostile and time.monotonic() < deadline:
            peak = max(peak, running.open_connections)
            open_hostile -= {i for i in open_hostile if closed_by_server(hostile[i])}
            time.sleep(0.02)
        honest.join(120)
        assert not open_hostile, f"{len(open_hostile)} half-sent requests were never closed"
        assert peak == cap  # the attack filled the cap and never got past it
        assert answered == [200]  # an honest client still got its answer
        assert requests.get(running.url + "/health", headers=AUTH, timeout=60).status_code == 200
    finally:
        running.stop()


def test_half_sent_requests_hold_no_worker_thread(service: ModelService, sockets: list[socket.socket]) -> None:
    running = start_http_server(service, token=TOKEN, read_timeout_s=300, max_connections=8, worker_threads=1)
    try:
        hostile = half_sent(running, 6, sockets)
        deadline = time.monotonic() + 60
        while running.open_connections < 6 and time.monotonic() < deadline:
            time.sleep(0.02)
        response = requests.post(running.url + "/reply", json=REPLY, headers=AUTH, timeout=60)
        assert response.status_code == 200 and response.json()["text"] == "you said: hi"
        # Answered by the only worker thread while all six were still held open, not after they were dropped.
        assert not any(closed_by_server(sock) for sock in hostile)
    finally:
        running.stop()
    assert all(closed_by_server(sock) for sock in hostile)  # stop() closes the connections it held


def test_http_client_carries_on_after_its_idle_connection_is_closed(service: ModelService) -> None:
    running = start_http_server(service, token=TOKEN, read_timeout_s=1)
    client = HttpClient(running.url, token=TOKEN, retries=0)  # no retries: a stale connection would fail
    try:
        assert client.reply("echo", ["one"]).text == "you said: one"
        deadline = time.monotonic() + 60
        while running.open_connections and time.monotonic() < deadline:  # the server drops the idle keep-alive
            time.sleep(0.05)
        assert running.open_connections == 0
        assert client.reply("echo", ["two"]).text == "you said: two"
    finally:
        client.close()
        running.stop()


# --------------------------------------------------------------------------------------------------------
# body size
# --------------------------------------------------------------------------------------------------------
def test_content_length_over_the_limit_is_413(server: RunningServer) -> None:
    assert post_raw(server, padded(LIMIT)).status_code == 200
    over = post_raw(server, padded(LIMIT + 1))
    assert over.status_code == 413 and f"limit of {LIMIT} bytes" in over.json()["error"]
    # A huge declared length is refused from the headers alone, before the token check and before any body.
    status, _ = exchange(server, b"POST /reply HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: 10000000\r\n\r\n")
    assert status == 413


def test_chunked_body_over_the_limit_is_413(server: RunningServer) -> None:
    def chunked(body: bytes) -> requests.Response:
        pieces = (body[i:i + 4096] for i in range(0, len(body), 4096))  # a generator: sent chunked
        return requests.post(server.url + "/reply", data=pieces, timeout=60,
                             headers={**AUTH, "Content-Type": "application/json"})

    assert chunked(padded(LIMIT)).status_code == 200
    over = chunked(padded(LIMIT + 1))
    assert over.status_code == 413 and f"limit of {LIMIT} bytes" in over.json()["error"]


def test_endless_chunk_is_cut_off_with_413(server: RunningServer) -> None:
    # One chunk that claims 4 GiB, streamed until the server stops reading (at twice the limit, on the wire).
    head = (b"POST /reply HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            b"\r\nffffffff\r\n")
    wire_limit = 2 * LIMIT
    status, body = exchange(server, head + b" " * (wire_limit - len(b"ffffffff\r\n")))
    assert status == 413 and b"Too Large" in body


# --------------------------------------------------------------------------------------------------------
# JSON content
# --------------------------------------------------------------------------------------------------------
def test_deep_json_is_400_but_brackets_in_strings_do_not_count(server: RunningServer) -> None:
    for depth in (30_000, MAX_JSON_DEPTH + 1):
        response = post_raw(server, b"[" * depth + b"]" * depth)
        assert response.status_code == 400
        assert f"deeper than {MAX_JSON_DEPTH} levels" in response.json()["error"]
    at_bound = post_raw(server, b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    assert at_bound.status_code == 400 and "must be a JSON object" in at_bound.json()["error"]
    text = "[{" * 1000 + '\\"[' * 100  # brackets and escaped quotes inside a string do not nest
    response = requests.post(server.url + "/reply", json={"model": "echo", "turns": [text]}, headers=AUTH,
                             timeout=60)
    assert response.status_code == 200 and response.json()["text"] == f"you said: {text}"


@pytest.mark.parametrize("path, body", [
    ("/reply", b'{"model": "echo", "turns": ["hi"], "timeout_s": NaN}'),
    ("/reply", b'{"model": "echo", "turns": ["hi"], "timeout_s": Infinity}'),
    ("/reply", b'{"model": "echo", "turns": ["hi"], "timeout_s": -Infinity}'),
    ("/reply", b'{"model": "echo", "turns": ["hi"], "timeout_s": 1e999}'),
    ("/reply", b'{"model": "echo", "turns": ["hi", [1, NaN]]}'),
    ("/classify", b'{"text": "hi", "context": [-1e999]}'),
])
def test_non_finite_numbers_are_400(server: RunningServer, path: str, body: bytes) -> None:
    response = requests.post(server.url + path, data=body, timeout=60,
                             headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 400 and "finite" in response.json()["error"]


def test_service_refuses_a_nan_timeout_in_process(service: ModelService) -> None:
    with pytest.raises(ServiceError) as err:  # EmbeddedClient's path: no JSON parser in between
        service.reply({**REPLY, "timeout_s": float("nan")})
    assert err.value.status == 400 and "'timeout_s'" in err.value.message


@pytest.mark.parametrize("body, fragment", [
    (b'{"model": "echo", "turns": ["\\ud800"]}', "unpaired surrogate"),
    (b'{"model": "echo", "turns": ["hi"], "x": ' + b"9" * 5000 + b"}", "not valid JSON"),
    (b'{"model": "echo", "turns": ["\xff"]}', "not UTF-8"),
])
def test_bodies_that_used_to_crash_are_400(server: RunningServer, body: bytes, fragment: str) -> None:
    response = post_raw(server, body)
    assert response.status_code == 400 and fragment in response.json()["error"]


def test_a_huge_integer_timeout_is_capped_not_a_crash(server: RunningServer) -> None:
    response = post_raw(server, b'{"model": "echo", "turns": ["hi"], "timeout_s": 1' + b"0" * 400 + b"}")
    assert response.status_code == 200 and response.json()["text"] == "you said: hi"


def test_only_bodies_declared_as_utf8_json_are_accepted(server: RunningServer) -> None:
    body = json.dumps(REPLY).encode()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", ""):
        response = post_raw(server, body, content_type)
        assert response.status_code == 400
        assert "Content-Type: application/json" in response.json()["error"]
    latin = post_raw(server, body, "application/json; charset=latin-1")
    assert latin.status_code == 400 and "must be UTF-8" in latin.json()["error"]
    for content_type in ("application/json; charset=utf-8", "Application/JSON; charset=UTF-8"):
        assert post_raw(server, body, content_type).status_code == 200

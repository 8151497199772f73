"""The router's guards against a hostile worker (router_preload.cjs, points 5 and 6), on a real ACUTE run (local
architect, node router, workers' websockets): a socket claiming another worker's live agent id gets nothing of
theirs and gets nothing through, while the victim's practice and unit go on; a worker's page that reconnects
after its socket closed keeps its agent; an oversized message closes only its sender's socket (1009) and
Mephisto's channel to the router stays the one it was. And, on a stand-in server, a connection that died without
closing gives its agent id, or Mephisto's place, to the next socket."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import struct
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from humaneval.acute.task import build_task
from humaneval.crowd.launcher import ROUTER_LOG, LaunchSettings, LocalLaunch
from humaneval.crowd.practice_checks import PRACTICE_CHECK, TOKEN_KEY
from humaneval.crowd.simulated_worker import AgentSession, LiveConnection, SimulatedWorker
from tests.acute.test_acute_integration import onboarding_answers, study_files, unit_answers
from tests.crowd.conftest import BackgroundRun, completed_units, wait_for
from tests.crowd.router_stand_in import stand_in_router
from tests.crowd.test_practice_checks import acute_sides, check

pytestmark = [pytest.mark.integration]

MEPHISTO_BOUND = "mephisto_bound_live_update"
UNKNOWN = {"error": "unknown request"}  # the answer of a practice page to a request it does not serve
LIMIT = 512 * 1024  # router_preload.cjs's AGENT_MESSAGE_LIMIT


@pytest.fixture()
def acute_run(tmp_path: Path) -> Iterator[LocalLaunch]:
    """An ACUTE study with a one-comparison practice whose checks the page asks over its websocket."""
    pairings, onboarding, _ = study_files(tmp_path)
    data_dir = tmp_path / "mephisto"
    cfg, state = build_task([f"humaneval.data_dir={data_dir}", f"mephisto.blueprint.pairings_file={pairings}",
                             f"mephisto.blueprint.onboarding_file={onboarding}", "mephisto.task.task_name=guards"])
    with BackgroundRun(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        assert wait_for(lambda: run.task_run.get_assignment_statuses().get("launched", 0) > 0, 30)
        yield run


def practising(run: LocalLaunch, name: str) -> tuple[SimulatedWorker, AgentSession, LiveConnection]:
    """A worker on the practice page with its websocket open and known to the router (a request answered)."""
    worker = SimulatedWorker(run.base_url, name)
    session = worker.request_agent()
    assert session.is_onboarding, session.failure_reason
    live = worker.connect_live(session.agent_id)
    assert json.loads(live.call("get_answers", {})) == UNKNOWN
    return worker, session, live


def send(live: LiveConnection, packet_type: str, subject_id: str, data: dict[str, Any] | None = None) -> None:
    live.socket.send(json.dumps({"packet_type": packet_type, "subject_id": subject_id, "data": data or {}}))


def claim(live: LiveConnection, agent_id: str, check_args: dict[str, Any]) -> None:
    """Speak for `agent_id` on `live`'s socket as its page would: alive, heartbeat, then a practice check."""
    send(live, "alive", agent_id)
    send(live, "heartbeat", agent_id)
    send(live, MEPHISTO_BOUND, agent_id, {"request_id": uuid.uuid4().hex, "target": PRACTICE_CHECK,
                                          "args": json.dumps(check_args)})


def packets_before_own_answer(live: LiveConnection) -> list[dict[str, Any]]:
    """Everything the router sent `live`'s socket before the answer to a request of its own agent, asked now.

    The router sends a socket its packets in order, so whatever it sent there for another agent before this
    request was answered is in the list."""
    request_id = uuid.uuid4().hex
    send(live, MEPHISTO_BOUND, live.agent_id, {"request_id": request_id, "target": "get_answers", "args": "{}"})
    received = []
    while True:
        packet = json.loads(live.socket.recv(timeout=live.timeout))
        if (packet.get("data") or {}).get("handles") == request_id:
            assert json.loads(packet["data"]["response"]) == UNKNOWN
            return received
        received.append(packet)


def router_log(run: LocalLaunch) -> str:
    return (Path(run.db.db_root) / ROUTER_LOG).read_text(encoding="utf-8", errors="replace")


def mephisto_channel(run: LocalLaunch) -> Any:
    """Mephisto's websocket to the router: a new connection object after every reconnect of its channel."""
    (channel,) = run.operator.get_running_task_runs()[run.run_id].client_io.channels.values()
    return channel.socket


def test_a_socket_claiming_a_live_agent_gets_nothing_of_it_and_nothing_through(acute_run: LocalLaunch) -> None:
    run = acute_run
    victim, session, live = practising(run, "victim")
    _, _, mallory = practising(run, "mallory")
    pair_id, better, worse = acute_sides(session)
    try:
        # mallory speaks for the victim, even with the victim's secret (as if it had leaked): a wrong first answer
        claim(mallory, session.agent_id, {"item": pair_id, "answer": worse, "token": session.init_task_data[TOKEN_KEY]})
        # the victim's own check is answered on its socket, and is its first answer: right
        verdict = check(live, session, pair_id, better)
        assert (verdict["answer"], verdict["correct"]) == (better, True)
        # nothing of the victim's reached mallory's socket (its status, the heartbeat's echo, the verdict)
        assert [p for p in packets_before_own_answer(mallory) if p.get("subject_id") == session.agent_id] == []
    finally:
        mallory.close()
        live.close()
    assert f'dropped a packet for agent "{session.agent_id}"' in router_log(run)
    after = victim.submit_onboarding(session.agent_id, onboarding_answers(session, correct=True))
    assert after.agent_id is not None and not after.is_onboarding, after.failure_reason  # passed: a unit
    victim.submit_task(after.agent_id, unit_answers(after))
    assert wait_for(lambda: completed_units(run) == 1, 60), run.task_run.get_assignment_statuses()


def test_a_page_that_reconnects_after_its_socket_closed_keeps_its_agent(acute_run: LocalLaunch) -> None:
    run = acute_run
    worker, session, first = practising(run, "reloader")
    _, _, mallory = practising(run, "mallory")
    pair_id, better, worse = acute_sides(session)
    try:
        assert check(first, session, pair_id, better)["correct"] is True
        first.close()  # the page reloads (or its connection drops), then speaks again on a new socket
        second = worker.connect_live(session.agent_id)
        try:
            again = check(second, session, pair_id, worse)  # the same agent: its first answer stands
            assert (again["answer"], again["correct"]) == (better, True)
            # mallory, who waited for the old socket to go, speaks for the agent now that the new one has it
            claim(mallory, session.agent_id, {"item": pair_id, "answer": worse})
            assert json.loads(second.call("get_answers", {})) == UNKNOWN  # still answered on the page's socket
            assert [p for p in packets_before_own_answer(mallory) if p.get("subject_id") == session.agent_id] == []
        finally:
            second.close()
    finally:
        mallory.close()
    after = worker.submit_onboarding(session.agent_id, onboarding_answers(session, correct=True))
    assert after.agent_id is not None and not after.is_onboarding, after.failure_reason
    worker.submit_task(after.agent_id, unit_answers(after))
    assert wait_for(lambda: completed_units(run) == 1, 60), run.task_run.get_assignment_statuses()
    statuses = run.task_run.get_assignment_statuses()
    assert statuses.get("completed", 0) + statuses.get("accepted", 0) == 1  # the submission landed once


def oversized_frame(agent_id: str) -> str:
    """A packet of 2 MB: over the router's limit as sent."""
    return json.dumps({"packet_type": MEPHISTO_BOUND, "subject_id": agent_id, "data": {"pad": "x" * (2 << 20)}})


def oversized_once_forwarded(agent_id: str) -> str:
    """A packet under the router's limit as sent that server.js would forward as 2.2 MB (JSON.stringify writes
    1e20 as 21 digits): over the limit of Mephisto's websocket client all the same."""
    text = ('{"packet_type": "%s", "subject_id": "%s", "data": {"numbers": [%s]}}'
            % (MEPHISTO_BOUND, agent_id, ",".join(["1e20"] * 100_000)))
    assert len(text) < LIMIT
    return text


@pytest.mark.parametrize("message", [oversized_frame, oversized_once_forwarded])
def test_an_oversized_message_closes_only_its_senders_socket(acute_run: LocalLaunch,
                                                            message: Callable[[str], str]) -> None:
    run = acute_run
    worker, session, live = practising(run, "bystander")
    _, big_session, big = practising(run, "sender")
    channel = mephisto_channel(run)
    try:
        big.socket.send(message(big_session.agent_id))
        with pytest.raises(ConnectionClosed) as closed:
            big.socket.recv(timeout=big.timeout)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        # the other worker's next request is answered, over the same channel Mephisto had before
        assert json.loads(live.call("get_answers", {})) == UNKNOWN
        pair_id, better, _ = acute_sides(session)
        assert check(live, session, pair_id, better)["correct"] is True
    finally:
        big.close()
        live.close()
    # Mephisto's client refuses a message over its limit by failing its connection (close code 1009): that
    # connection would now be closing or closed, or replaced by a new one
    assert mephisto_channel(run) is channel and channel.open and channel.close_code is None
    assert "humaneval: closing socket" in router_log(run)
    after = worker.submit_onboarding(session.agent_id, onboarding_answers(session, correct=True))
    assert after.agent_id is not None and not after.is_onboarding, after.failure_reason


# A stand-in server (server.js's websocket answers reduced to an echo) run by node with the preload, for what the
# real run does not show: a connection that died without closing loses its agent id, or Mephisto's place, to the
# next socket once it does not answer the router's ping.
ECHO = """
"use strict";
const WebSocket = require("ws");
const wss = new WebSocket.Server({ host: "127.0.0.1", port: 0 }, () => console.log(wss.address().port));
let sockets = 0;
wss.on("connection", (socket) => {
  socket.id = `socket-${(sockets += 1)}`;
  socket.on("message", (message) => socket.send(`${socket.id} passed ${message}`));
});
"""


class DeadConnection:
    """A websocket client that never reads, so never answers a ping: a page whose network went away."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("ws://").rstrip("/").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        response = b""
        while not response.endswith(b"\r\n\r\n"):
            response += self.sock.recv(1)
        assert response.startswith(b"HTTP/1.1 101")

    def send(self, text: str) -> None:
        """One masked text frame (under 64 KiB), as a client sends it."""
        data, mask = text.encode(), os.urandom(4)
        length = bytes([0x80 | len(data)]) if len(data) < 126 else bytes([0x80 | 126]) + struct.pack(">H", len(data))
        self.sock.sendall(b"\x81" + length + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def packet(packet_type: str, subject_id: str, data: dict[str, Any] | None = None) -> str:
    return json.dumps({"packet_type": packet_type, "subject_id": subject_id, "data": data or {}})


def passes_once_probed(live: ClientConnection, text: str, deadline_s: float = 60) -> str:
    """Send `text` (as a page's heartbeat would go again) until the router lets it through; return the echo."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        live.send(text)
        with contextlib.suppress(TimeoutError):
            return str(live.recv(timeout=1))
    raise AssertionError(f"never passed: {text}")


@pytest.fixture()
def echo_router(tmp_path: Path) -> Iterator[str]:
    """The stand-in server with the preload; yields its websocket URL."""
    with stand_in_router(ECHO, "router_preload.cjs", tmp_path) as url:
        yield url


def test_a_connection_that_died_without_closing_gives_way(echo_router: str) -> None:
    dead_mephisto = DeadConnection(echo_router)
    dead_mephisto.send(packet("alive", "mephisto"))
    dead_mephisto.send(packet("agent_details", "request-1", {"request_id": "request-1", "agent_id": "7"}))
    dead_page = DeadConnection(echo_router)
    dead_page.send(packet("alive", "7"))
    with connect(echo_router, open_timeout=30) as page, connect(echo_router, open_timeout=30) as mephisto:
        page.send(packet("alive", "8"))  # an id Mephisto never handed out: nobody may speak for it
        page.send(packet("alive", "7"))  # held by the dead page's socket until it fails to answer a ping
        mephisto.send(packet("alive", "mephisto"))  # Mephisto reconnected: its new alive comes once
        assert json.loads(passes_once_probed(page, packet("heartbeat", "7")).split(" passed ", 1)[1])["subject_id"] == "7"
        page.send(packet("heartbeat", "8"))
        page.send(packet("heartbeat", "7"))
        assert json.loads(page.recv(timeout=30).split(" passed ", 1)[1])["subject_id"] == "7"  # not 8: dropped
        # the held alive reached the server when the dead socket was cut off, and this socket now is Mephisto's
        assert json.loads(mephisto.recv(timeout=30).split(" passed ", 1)[1])["packet_type"] == "alive"
        mephisto.send(packet("heartbeat", "7"))  # Mephisto speaks for every agent
        assert json.loads(mephisto.recv(timeout=30).split(" passed ", 1)[1])["subject_id"] == "7"


def test_a_message_that_cannot_be_measured_closes_its_sender_not_the_router(echo_router: str) -> None:
    """400 KB of nested brackets: under the size limit, and JSON.parse reads it, but JSON.stringify overflows
    node's stack; unguarded, that exception ended the router and every worker's session with it."""
    depth = 200_000
    with connect(echo_router, open_timeout=30, max_size=None) as hostile:
        hostile.send("[" * depth + "]" * depth)
        with pytest.raises(ConnectionClosed) as closed:
            hostile.recv(timeout=30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    with connect(echo_router, open_timeout=30) as page:  # the router lives on
        page.send(packet("heartbeat", "mephisto"))
        assert "passed" in page.recv(timeout=30)

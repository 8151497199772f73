"""router_forward.cjs: a packet arriving on the router's websocket runs server.js's `main_thread` at once
instead of waiting for its timer. Checked on a stand-in server whose `main_thread` is scheduled 10 minutes
ahead, so a packet comes back within the test's time only when the preload forwards it on arrival."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.sync.client import connect

from humaneval.crowd import node_router
from tests.crowd.router_stand_in import stand_in_router

# server.js's queue and loop, reduced: packets wait in `queue` until `main_thread` sends them back.
STAND_IN = """
"use strict";
const WebSocket = require("ws");
const queue = [];
let runs = 0;
function main_thread() {
  runs += 1;
  const ready = queue.splice(0);
  setTimeout(main_thread, 600000);
  const timers = process.getActiveResourcesInfo().filter((resource) => resource === "Timeout").length;
  for (const [socket, message] of ready) socket.send(`${message} run ${runs} timers ${timers}`);
}
const wss = new WebSocket.Server({ host: "127.0.0.1", port: 0 }, () => console.log(wss.address().port));
wss.on("connection", (socket) => socket.on("message", (message) => queue.push([socket, message])));
setTimeout(main_thread, 600000);
"""


@pytest.fixture()
def stand_in(tmp_path: Path) -> Iterator[str]:
    """The stand-in server run by node with the preload, as the router runs; yields its websocket URL."""
    assert node_router.PRELOADS[-1].name == "router_forward.cjs"  # loaded last, over router_preload.cjs
    with stand_in_router(STAND_IN, "router_forward.cjs", tmp_path) as url:
        yield url


def test_a_packet_is_passed_on_when_it_arrives_and_one_timer_stays(stand_in: str) -> None:
    with connect(stand_in, open_timeout=30) as socket:
        socket.send("first")
        assert socket.recv(timeout=30) == "first run 1 timers 1"
        socket.send("second")
        assert socket.recv(timeout=30) == "second run 2 timers 1"  # the 10-minute timer restarted, not doubled


def test_the_router_still_has_the_loop_the_preload_recognises() -> None:
    """The preload finds `main_thread` by name when it schedules itself (Mephisto 1.1.1's server.js)."""
    server = (node_router.ROUTER_SOURCE / "server.js").read_text(encoding="utf-8")
    assert "function main_thread() {" in server and "setTimeout(main_thread, 50);" in server
    assert f"--require={node_router.PRELOADS[-1]}" in node_router.router_environment()["NODE_OPTIONS"]

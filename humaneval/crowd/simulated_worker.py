"""A scripted crowd worker that speaks the router's real protocol (HTTP + websocket).

It does what `mephisto-task` does in a worker's browser, so integration tests and benchmarks
exercise the same router, packets and database writes as a real worker, without a browser.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests
from websockets.sync.client import ClientConnection, connect

logger = logging.getLogger(__name__)

_assignment_counter = itertools.count(1)


@dataclass
class AgentSession:
    """What `/request_agent` (or `/submit_onboarding`) handed back."""

    agent_id: str | None
    worker_id: str | None
    init_task_data: Any
    failure_reason: str | None

    @property
    def is_onboarding(self) -> bool:
        return bool(self.agent_id) and str(self.agent_id).startswith("onboarding")


@dataclass
class SimulatedWorker:
    base_url: str
    worker_name: str
    provider_type: str = "mock"
    timeout: float = 30.0
    provider_extra: dict[str, Any] = field(default_factory=dict)  # more of what the page sends (Prolific: study_id)
    _http: requests.Session = field(default_factory=requests.Session, repr=False)

    def request_agent(self, assignment_id: str | None = None) -> AgentSession:
        """Ask for work, as the task page does on load."""
        assignment_id = assignment_id or f"sim-{next(_assignment_counter)}-{uuid.uuid4().hex[:6]}"
        body = {
            "provider_data": {
                "worker_name": self.worker_name,
                "assignment_id": assignment_id,
                "agent_registration_id": f"{assignment_id}-{self.worker_name}",
                "provider_type": self.provider_type,
                **self.provider_extra,
            },
            "client_timestamp": time.time(),
        }
        return self._agent_session(self._post("/request_agent", body))

    def submit_onboarding(self, agent_id: str, onboarding_data: dict[str, Any]) -> AgentSession:
        """Send onboarding answers; the reply is the real agent (or a failure)."""
        body = {
            "provider_data": {"USED_AGENT_ID": agent_id, "onboarding_data": onboarding_data},
            "client_timestamp": time.time(),
        }
        return self._agent_session(self._post("/submit_onboarding", body))

    def submit_task(self, agent_id: str, final_data: dict[str, Any]) -> None:
        self._post("/submit_task", {"USED_AGENT_ID": agent_id, "final_data": final_data, "client_timestamp": time.time()})

    def connect_live(self, agent_id: str) -> "LiveConnection":
        """Open the websocket a live (remote procedure) page keeps open, and say we are alive."""
        ws_url = self.base_url.replace("http://", "ws://").replace("https://", "wss://") + "/"
        return LiveConnection(connect(ws_url, open_timeout=self.timeout), agent_id, self.timeout)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self._http.post(self.base_url + path, json=body, timeout=self.timeout)
        response.raise_for_status()
        return response.json()

    @staticmethod
    def _agent_session(packet: dict[str, Any]) -> AgentSession:
        data = packet.get("data", {}) or {}
        return AgentSession(
            agent_id=data.get("agent_id"),
            worker_id=data.get("worker_id"),
            init_task_data=data.get("init_task_data"),
            failure_reason=data.get("failure_reason"),
        )


class LiveConnection:
    """A worker's websocket: remote procedure calls (`call`) and the liveness packets the router expects."""

    def __init__(self, socket: ClientConnection, agent_id: str, timeout: float) -> None:
        self.socket = socket
        self.agent_id = agent_id
        self.timeout = timeout
        self._lock = threading.Lock()
        self._send({"packet_type": "alive", "subject_id": agent_id, "data": {}})

    def call(self, target: str, args: dict[str, Any], timeout: float | None = None) -> Any:
        """Invoke a remote procedure and return its response (other packets are skipped)."""
        request_id = uuid.uuid4().hex
        self._send(
            {
                "packet_type": "mephisto_bound_live_update",
                "subject_id": self.agent_id,
                "data": {"request_id": request_id, "target": target, "args": json.dumps(args)},
            }
        )
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no answer to remote call '{target}' within {timeout or self.timeout} s")
            packet = json.loads(self.socket.recv(timeout=remaining))
            data = packet.get("data") or {}
            if packet.get("packet_type") == "client_bound_live_update" and data.get("handles") == request_id:
                return data.get("response")

    def close(self) -> None:
        self.socket.close()

    def _send(self, packet: dict[str, Any]) -> None:
        with self._lock:
            self.socket.send(json.dumps(packet))
